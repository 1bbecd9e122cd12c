using System.Net;
using Microsoft.Extensions.Configuration;
using Npgsql;

namespace Work.Silo;

/// <summary>Where a silo keeps grain state and reminders.</summary>
public enum SiloStorage
{
    /// <summary>One SQLite file: the single-silo default.</summary>
    Sqlite,

    /// <summary>PostgreSQL, shared by a cluster's silos.</summary>
    Postgres,

    /// <summary>The silo's memory: nothing survives it.</summary>
    Memory,
}

/// <summary>How silos find each other.</summary>
public enum SiloClustering
{
    /// <summary>One silo on loopback.</summary>
    Localhost,

    /// <summary>Membership in PostgreSQL through Orleans' ADO.NET clustering, for a cluster of several silos.</summary>
    AdoNet,
}

/// <summary>How the silo joins a cluster and where it keeps its state, bound from <c>Work:Silo</c>.</summary>
public sealed class SiloHostOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Work:Silo";

    /// <summary>
    /// How long the host's stop allows beyond <c>Work:Cluster:DrainTimeout</c> for the rest of the silo's stop (its
    /// grains writing their state, leaving the cluster): the silo raises the host's shutdown timeout to the sum when it
    /// is shorter.
    /// </summary>
    public static readonly TimeSpan StopAfterDrain = TimeSpan.FromSeconds(15);

    /// <summary>The name of the connection string (<c>ConnectionStrings:Work</c>) for PostgreSQL.</summary>
    public const string ConnectionStringName = "Work";

    /// <summary>The silo-to-silo port; 11111 by default.</summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary>The port clients connect to; 30000 by default.</summary>
    public int GatewayPort { get; set; } = 30000;

    /// <summary>Where grain state and reminders live: <c>sqlite</c> (the default), <c>postgres</c> or <c>memory</c>.</summary>
    public SiloStorage Storage { get; set; } = SiloStorage.Sqlite;

    /// <summary>
    /// How silos find each other: <c>localhost</c> (the default: one silo, on loopback) or <c>adonet</c> (membership
    /// in PostgreSQL, for a cluster of several silos).
    /// </summary>
    public SiloClustering Clustering { get; set; } = SiloClustering.Localhost;

    /// <summary>The SQLite file, relative to the current folder unless rooted; <c>data/work.db</c> by default.</summary>
    public string DatabasePath { get; set; } = Path.Combine("data", "work.db");

    /// <summary>
    /// The IP address this silo tells the others and clients to reach it at, with <c>adonet</c> clustering. By default
    /// Orleans picks one of the host's addresses.
    /// </summary>
    public string? Address { get; set; }

    /// <summary>The cluster's id; silos and clients with the same id form one cluster. <c>work</c> by default.</summary>
    public string ClusterId { get; set; } = WorkDefaults.ClusterId;

    /// <summary>
    /// The service's id, which keys grain state and reminders; it must stay the same across restarts and deployments.
    /// <c>work</c> by default.
    /// </summary>
    public string ServiceId { get; set; } = WorkDefaults.ClusterId;

    /// <summary>Whether the silo applies the PostgreSQL schema (deploy/postgres) at start; true by default.</summary>
    public bool ApplySchema { get; set; } = true;

    /// <summary>
    /// Whether the silo runs in Kubernetes: Orleans' Kubernetes hosting then takes the pod's address and the cluster
    /// and service ids from the pod, and watches pods to remove dead silos sooner.
    /// </summary>
    public bool Kubernetes { get; set; }

    /// <summary>
    /// The queues this silo serves (<c>Job.Queue</c>): a job's executions go only to silos serving its queue.
    /// <c>*</c> (the default) serves every queue. In configuration a list (<c>Work:Silo:Queues:0</c>, ...) or one
    /// comma-separated value (<c>Work__Silo__Queues=default,gpu</c>).
    /// </summary>
    public List<string> Queues { get; set; } = [];

    /// <summary>The queues as configured, split at commas; <c>*</c> when none are given.</summary>
    public IReadOnlyList<string> ServedQueues =>
        Queues.Count == 0 ? [Grains.WorkClusterOptions.AnyQueue] : Queues.SelectMany(q => q.Split(',', StringSplitOptions.TrimEntries)).ToList();

    /// <summary>Whether anything needs the PostgreSQL connection string.</summary>
    public bool UsesPostgres => Storage == SiloStorage.Postgres || Clustering == SiloClustering.AdoNet;

    /// <summary>
    /// The options under <c>Work:Silo</c>. A storage or clustering choice that is none of the names goes to
    /// <paramref name="failures"/>, naming the setting, instead of failing the binding.
    /// </summary>
    public static SiloHostOptions Read(IConfiguration configuration, List<string> failures)
    {
        var section = configuration.GetSection(SectionName);
        var bad = Choice<SiloStorage>(section, nameof(Storage), "'sqlite', 'postgres' or 'memory'", failures)
            | Choice<SiloClustering>(section, nameof(Clustering), "'localhost' or 'adonet'", failures);
        var options = new SiloHostOptions();
        if (!bad)
        {
            section.Bind(options);

            // One comma-separated value, as an environment variable gives it, binds as no list item: take it as is.
            if (section[nameof(Queues)] is { } single)
            {
                options.Queues = [single];
            }
        }

        return options;
    }

    private static bool Choice<T>(IConfigurationSection section, string key, string names, List<string> failures)
        where T : struct, Enum
    {
        if (section[key] is not { } value
            || (Enum.TryParse<T>(value, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed) && !char.IsAsciiDigit(value.TrimStart('-').FirstOrDefault())))
        {
            return false;
        }

        failures.Add($"{SectionName}:{key} must be {names}; it is '{value}'.");
        return true;
    }

    /// <summary>Every problem with the options and the connection string, empty when they are valid.</summary>
    public IReadOnlyList<string> Validate(string? connectionString)
    {
        var failures = new List<string>();
        if (SiloPort is < 1 or > 65535)
        {
            failures.Add($"{SectionName}:{nameof(SiloPort)} must be a port number (1-65535); it is {SiloPort}.");
        }

        if (GatewayPort is < 1 or > 65535)
        {
            failures.Add($"{SectionName}:{nameof(GatewayPort)} must be a port number (1-65535); it is {GatewayPort}.");
        }

        if (SiloPort == GatewayPort)
        {
            failures.Add($"{SectionName}:{nameof(SiloPort)} and {nameof(GatewayPort)} must differ; both are {SiloPort}.");
        }

        if (Storage == SiloStorage.Sqlite && string.IsNullOrWhiteSpace(DatabasePath))
        {
            failures.Add($"{SectionName}:{nameof(DatabasePath)} must name the SQLite file when {nameof(Storage)} is 'sqlite'.");
        }

        if (Clustering == SiloClustering.AdoNet && Storage is SiloStorage.Sqlite or SiloStorage.Memory)
        {
            failures.Add($"{SectionName}:{nameof(Storage)} '{Storage.ToString().ToLowerInvariant()}' keeps state on one silo only; a cluster with " +
                $"{nameof(Clustering)} 'adonet' needs {nameof(Storage)} 'postgres'.");
        }

        if (Kubernetes && Clustering != SiloClustering.AdoNet)
        {
            failures.Add($"{SectionName}:{nameof(Kubernetes)} needs {nameof(Clustering)} 'adonet': Kubernetes hosting does not " +
                "keep cluster membership itself.");
        }

        if (Address is not null && !IPAddress.TryParse(Address, out _))
        {
            failures.Add($"{SectionName}:{nameof(Address)} must be an IP address, like 10.0.0.5; it is '{Address}'.");
        }

        if (string.IsNullOrWhiteSpace(ClusterId))
        {
            failures.Add($"{SectionName}:{nameof(ClusterId)} must not be empty.");
        }

        if (string.IsNullOrWhiteSpace(ServiceId))
        {
            failures.Add($"{SectionName}:{nameof(ServiceId)} must not be empty.");
        }

        if (ServedQueues.FirstOrDefault(q => q.Length == 0 || JobLimits.NameProblem(q, "A queue name") is not null) is { } badQueue)
        {
            failures.Add($"{SectionName}:{nameof(Queues)} must list queue names (or * for every queue), separated by commas; '{badQueue}' is not one.");
        }

        if (UsesPostgres)
        {
            var user = Storage == SiloStorage.Postgres ? $"{nameof(Storage)} 'postgres'" : $"{nameof(Clustering)} 'adonet'";
            if (string.IsNullOrWhiteSpace(connectionString))
            {
                failures.Add($"{SectionName}:{user} needs a PostgreSQL connection string: set ConnectionStrings:{ConnectionStringName} " +
                    $"(environment variable ConnectionStrings__{ConnectionStringName}), like Host=127.0.0.1;Port=5432;Username=work;Database=work.");
            }
            else if (InvalidConnectionString(connectionString) is { } problem)
            {
                failures.Add($"ConnectionStrings:{ConnectionStringName} is not a valid PostgreSQL connection string: {problem}");
            }
        }

        return failures;
    }

    private static string? InvalidConnectionString(string connectionString)
    {
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(connectionString);
            return string.IsNullOrWhiteSpace(builder.Host) ? "it names no Host." : null;
        }
        catch (ArgumentException ex)
        {
            return ex.Message;
        }
    }
}

using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Orleans.Configuration;
using Work.Client;
using Work.Hosting;

namespace Work.Cluster.Tests;

/// <summary>Work.Silo processes on loopback forming one cluster through PostgreSQL (state, reminders, membership).</summary>
internal sealed class PostgresSiloCluster : IAsyncDisposable
{
    /// <summary>Failure detection tuned to declare a killed silo dead in about a second.</summary>
    public static readonly IReadOnlyDictionary<string, string> FastFailureDetection = new Dictionary<string, string>
    {
        ["Work__Membership__ProbeTimeout"] = "00:00:01",
        ["Work__Membership__NumMissedProbesLimit"] = "2",
        ["Work__Membership__NumVotesForDeathDeclaration"] = "1",
    };

    private readonly IReadOnlyDictionary<string, string> _settings;

    private PostgresSiloCluster(string connectionString, IReadOnlyDictionary<string, string> settings, string? clusterId)
    {
        ConnectionString = connectionString;
        _settings = settings;
        ClusterId = clusterId ?? "cluster-" + Guid.NewGuid().ToString("N")[..8];
    }

    public string ConnectionString { get; }

    /// <summary>The cluster and service id: a cluster started again with the same id finds its state.</summary>
    public string ClusterId { get; }

    public List<SiloProcess> Silos { get; } = [];

    /// <summary>The silo and gateway ports the cluster started with, in pairs.</summary>
    public int[] Ports { get; private set; } = [];

    /// <summary>
    /// Starts <paramref name="count"/> silos. A cluster started again after a crash should reuse the earlier silos'
    /// <paramref name="ports"/>: a silo that finds an older incarnation of itself (same address and port) in the
    /// membership table declares it dead at once, while a dead silo on another port blocks joins until its entry expires.
    /// </summary>
    public static PostgresSiloCluster Start(
        string connectionString, int count, IReadOnlyDictionary<string, string>? settings = null, string? clusterId = null, int[]? ports = null)
    {
        var cluster = new PostgresSiloCluster(connectionString, settings ?? new Dictionary<string, string>(), clusterId);
        ports ??= SiloProcess.FreePorts(2 * count);
        cluster.Ports = ports;
        for (var i = 0; i < count; i++)
        {
            cluster.StartSilo(ports[2 * i], ports[(2 * i) + 1]);
        }

        return cluster;
    }

    /// <summary>Starts one more silo (or one again, on the ports of a dead one), with settings of its own if given.</summary>
    public SiloProcess StartSilo(int siloPort, int gatewayPort, IReadOnlyDictionary<string, string>? own = null)
    {
        var settings = new Dictionary<string, string>
        {
            ["ConnectionStrings__Work"] = ConnectionString,
            ["Work__Silo__Storage"] = "postgres",
            ["Work__Silo__Clustering"] = "adonet",
            ["Work__Silo__Address"] = "127.0.0.1",
            ["Work__Silo__ClusterId"] = ClusterId,
            ["Work__Silo__ServiceId"] = ClusterId,
            ["Work__Jobs__heartbeat__Start"] = "false",
            ["Work__Cluster__LeaseDuration"] = "00:00:06",
            ["Work__Cluster__LeaseRenewPeriod"] = "00:00:01",
            ["Logging__LogLevel__Work.Executions"] = "Debug",
            ["Logging__Console__FormatterOptions__SingleLine"] = "true",
        };
        foreach (var (key, value) in _settings.Concat(own ?? new Dictionary<string, string>()))
        {
            settings[key] = value;
        }

        var silo = SiloProcess.Start(siloPort, gatewayPort, settings);
        Silos.Add(silo);
        return silo;
    }

    /// <summary>
    /// Waits until the membership table lists this cluster's <paramref name="count"/> running processes as active and
    /// no earlier incarnation on their ports as active any more.
    /// </summary>
    public Task WaitForActiveAsync(int count) => Eventually.WaitUntilAsync(
        async () =>
        {
            foreach (var silo in Silos.Where(s => s.HasExited))
            {
                throw new InvalidOperationException($"A silo process exited: {silo.Output}");
            }

            var (newest, all) = await ActiveCountsAsync();
            return newest == count && all == count;
        },
        $"{count} silos are active");

    // Active rows on the running processes' ports: those of each port's newest incarnation, and all of them.
    private async Task<(long Newest, long All)> ActiveCountsAsync()
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            """
            SELECT count(*) FILTER (WHERE Generation = (SELECT max(n.Generation) FROM OrleansMembershipTable n
                                                       WHERE n.DeploymentId = m.DeploymentId AND n.Port = m.Port)),
                   count(*)
            FROM OrleansMembershipTable m
            WHERE DeploymentId = @cluster AND Status = 3 AND Port = ANY(@ports)
            """,
            connection);
        command.Parameters.AddWithValue("cluster", ClusterId);
        command.Parameters.AddWithValue("ports", Silos.Where(s => !s.HasExited).Select(s => s.SiloPort).ToArray());
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    /// <summary>A client that finds the gateways in the membership table, as a deployed client would.</summary>
    public async Task<(IHost Host, WorkClient Client)> ConnectAsync()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.UseOrleansClient(client => client
            .UseAdoNetClustering(o =>
            {
                o.Invariant = WorkPostgresSiloBuilderExtensions.PostgresInvariant;
                o.ConnectionString = ConnectionString;
            })
            .Configure<ClusterOptions>(o =>
            {
                o.ClusterId = ClusterId;
                o.ServiceId = ClusterId;
            })
            .Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = TimeSpan.FromSeconds(1)));
        var host = builder.Build();
        await host.StartAsync();
        return (host, new WorkClient(host.Services.GetRequiredService<IClusterClient>()));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var silo in Silos)
        {
            await silo.DisposeAsync();
        }
    }

    public override string ToString() =>
        string.Join(Environment.NewLine, Silos.Select(s => $"--- silo {s.SiloPort.ToString(CultureInfo.InvariantCulture)}:{Environment.NewLine}{s.Output}"));
}

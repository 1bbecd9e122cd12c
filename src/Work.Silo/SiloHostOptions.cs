namespace Work.Silo;

/// <summary>How the silo joins a cluster, bound from <c>Work:Silo</c>.</summary>
public sealed class SiloHostOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Work:Silo";

    /// <summary>The silo-to-silo port; 11111 by default.</summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary>The port clients connect to; 30000 by default.</summary>
    public int GatewayPort { get; set; } = 30000;

    /// <summary>Where grain state and reminders live: <c>sqlite</c> (the default) or <c>memory</c>.</summary>
    public string Storage { get; set; } = "sqlite";

    /// <summary>The SQLite file, relative to the current folder unless rooted; <c>data/work.db</c> by default.</summary>
    public string DatabasePath { get; set; } = Path.Combine("data", "work.db");

    /// <summary>Every problem with the options, empty when they are valid.</summary>
    public IReadOnlyList<string> Validate()
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

        if (Storage is not ("sqlite" or "memory"))
        {
            failures.Add($"{SectionName}:{nameof(Storage)} must be 'sqlite' or 'memory'; it is '{Storage}'.");
        }

        if (Storage == "sqlite" && string.IsNullOrWhiteSpace(DatabasePath))
        {
            failures.Add($"{SectionName}:{nameof(DatabasePath)} must name the SQLite file when {nameof(Storage)} is 'sqlite'.");
        }

        if (SiloPort == GatewayPort)
        {
            failures.Add($"{SectionName}:{nameof(SiloPort)} and {nameof(GatewayPort)} must differ; both are {SiloPort}.");
        }

        return failures;
    }
}

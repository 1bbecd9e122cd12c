namespace Work.Cluster.Tests;

/// <summary>The Work.Silo process refuses bad configuration at start, naming what to fix.</summary>
public sealed class SiloConfigurationTests
{
    public static TheoryData<string, string, string> BadSettings => new()
    {
        { "Work__Silo__Storage", "postgres", "needs a PostgreSQL connection string: set ConnectionStrings:Work (environment variable ConnectionStrings__Work)" },
        { "Work__Silo__Clustering", "adonet", "needs a PostgreSQL connection string: set ConnectionStrings:Work" },
        { "Work__Silo__Storage", "oracle", "Work:Silo:Storage must be 'sqlite', 'postgres' or 'memory'; it is 'oracle'." },
        { "Work__Silo__Clustering", "consul", "Work:Silo:Clustering must be 'localhost' or 'adonet'; it is 'consul'." },
        { "Work__Silo__Address", "not-an-ip", "Work:Silo:Address must be an IP address" },
        { "Work__Silo__Kubernetes", "true", "Work:Silo:Kubernetes needs Clustering 'adonet'" },
        { $"Work__Jobs__{new string('j', 201)}__Handler", "echo", $"The job name '{new string('j', 201)}' under Work:Jobs must have at most 200 characters; it has 201." },
        { "Work__Jobs__tick__Every", "00:00:00.0000001", "Work:Jobs:tick: Every.Interval must be at least" },
        { "Work__Cluster__MinInterval", "00:00:00", "Work:Cluster:MinInterval must be positive" },
        { "Work__Cluster__DrainTimeout", "-00:00:01", "Work:Cluster:DrainTimeout must be between zero and one hour; it is -00:00:01." },
        { "Work__Tls__Enabled", "true", "Work:Tls:CertificatePath must name this side's certificate" },
        { "Work__Silo__Queues", "default,,gpu", "Work:Silo:Queues must list queue names (or * for every queue), separated by commas; '' is not one." },
        { "Work__Jobs__nightly__Cron", "0 0 25 * * *", "Work:Jobs:nightly: Every.Cron '0 0 25 * * *' is not a valid cron expression" },
        { "Work__Jobs__orders__Receive__MaxDeliveries", "0", "Work:Jobs:orders: Receive.MaxDeliveries must be between 1 and 1000; it is 0." },
        { "Work__Streams__Partitions", "0", "Work:Streams:Partitions must be between 1 and 64; it is 0." },
        { "Work__Jobs__orders__Receive__Stream", " work", "Work:Jobs:orders: Receive.Source must not start or end with white space: ' work'." },
        { "Work__Http__ApiKeys__0__Role", "admin", "Work:Http:ApiKeys:0:Role must be 'reader' or 'operator'; it is 'admin'." },
        { "Work__Http__Urls", "ftp://127.0.0.1:21", "Work:Http:Urls must be http:// or https:// addresses separated by semicolons; 'ftp://127.0.0.1:21' is not one." },
    };

    [Theory]
    [MemberData(nameof(BadSettings))]
    public async Task ABadSettingStopsTheStartWithAnErrorNamingIt(string key, string value, string message)
    {
        var ports = SiloProcess.FreePorts(2);
        await using var silo = SiloProcess.Start(ports[0], ports[1], new Dictionary<string, string> { [key] = value });

        Assert.Equal(2, await silo.ExitCodeAsync());
        Assert.Contains(message, silo.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ADrainLongerThanTheHostsDefaultStopRaisesTheStopAndTheSiloStarts()
    {
        var ports = SiloProcess.FreePorts(2);
        await using var silo = SiloProcess.Start(ports[0], ports[1], new Dictionary<string, string>
        {
            ["Work__Silo__Storage"] = "memory",
            ["Work__Cluster__DrainTimeout"] = "00:00:40",
        });

        await silo.ReadyAsync();
    }

    [Fact]
    public async Task AConnectionStringThatIsNotOneIsNamed()
    {
        var ports = SiloProcess.FreePorts(2);
        await using var silo = SiloProcess.Start(ports[0], ports[1], new Dictionary<string, string>
        {
            ["Work__Silo__Storage"] = "postgres",
            ["ConnectionStrings__Work"] = "this is not a connection string",
        });

        Assert.Equal(2, await silo.ExitCodeAsync());
        Assert.Contains("ConnectionStrings:Work is not a valid PostgreSQL connection string", silo.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ADatabaseThatCannotBeReachedIsNamed()
    {
        var ports = SiloProcess.FreePorts(3);
        await using var silo = SiloProcess.Start(ports[0], ports[1], new Dictionary<string, string>
        {
            ["Work__Silo__Storage"] = "postgres",
            ["ConnectionStrings__Work"] = $"Host=127.0.0.1;Port={ports[2]};Username=work;Database=nowhere;Timeout=2",
        });

        Assert.NotEqual(0, await silo.ExitCodeAsync());
        Assert.Contains($"Could not apply the Work.Orleans schema to the PostgreSQL database 'nowhere' on 127.0.0.1:{ports[2]}", silo.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MigrateAppliesTheSchemaTwiceAlikeAndExits()
    {
        var database = PostgresServer.Shared.CreateDatabase("migrate", withSchema: false);
        var settings = new Dictionary<string, string> { ["ConnectionStrings__Work"] = database };
        var ports = SiloProcess.FreePorts(2);

        foreach (var run in new[] { "first", "second" })
        {
            await using var migration = SiloProcess.Start(ports[0], ports[1], settings, "migrate");
            Assert.True(await migration.ExitCodeAsync() == 0, $"{run} run: {migration.Output}");
            Assert.Contains("Applied Postgres-Main.sql, Postgres-Clustering.sql, Postgres-Persistence.sql, Postgres-Reminders.sql, Postgres-Items.sql, Postgres-Streaming.sql", migration.Output, StringComparison.Ordinal);
        }

        await using var connection = new Npgsql.NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand("SELECT count(*) FROM OrleansQuery", connection);

        // Membership, grain state and reminders 20; the stream provider's 6.
        Assert.Equal(26L, await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task MigrateWithoutAConnectionStringNamesTheSetting()
    {
        var ports = SiloProcess.FreePorts(2);
        await using var migration = SiloProcess.Start(ports[0], ports[1], new Dictionary<string, string>(), "migrate");

        Assert.Equal(2, await migration.ExitCodeAsync());
        Assert.Contains("set ConnectionStrings:Work", migration.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OutsideDevelopmentTheSiloRunsNoSampleHandlersAndNoSampleJobs()
    {
        var ports = SiloProcess.FreePorts(2);
        await using var silo = SiloProcess.Start(ports[0], ports[1], new Dictionary<string, string>
        {
            ["Work__Silo__Storage"] = "memory",
            ["DOTNET_ENVIRONMENT"] = "Production",
        });
        await silo.ReadyAsync();
        using var http = silo.Http();

        var jobs = await http.GetStringAsync(new Uri("api/jobs", UriKind.Relative));
        Assert.Contains("\"jobs\":[]", jobs, StringComparison.Ordinal);
        var define = await http.PutAsync(
            new Uri("api/jobs/sample", UriKind.Relative),
            new StringContent("""{ "job": { "handler": "echo" } }""", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, define.StatusCode);
        Assert.Contains("echo", await define.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}

using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using Work.Grains;
using Work.Hosting;
using Work.Silo.Handlers;

namespace Work.Cluster.Tests;

/// <summary>A whole cluster on durable storage, stopped and started again; one subclass per backend.</summary>
public abstract class RestartTests
{
    /// <summary>Points the silos (and the client) at the backend; both deployments of a test get the same.</summary>
    protected abstract void Configure(TestClusterBuilder builder);

    /// <summary>How many silos each deployment has.</summary>
    protected virtual short SiloCount => 1;

    private async Task<TestCluster> StartAsync(string serviceId)
    {
        var builder = new TestClusterBuilder(SiloCount);
        builder.Options.ServiceId = serviceId;
        builder.Options.ConfigureFileLogging = false;
        Configure(builder);
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }

    /// <summary>What every backend's silos share: short reminder and lease periods, and the probe handler.</summary>
    internal static void ConfigureWork(ISiloBuilder silo)
    {
        silo.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = TimeSpan.FromSeconds(1));
        silo.Services.Configure<WorkClusterOptions>(o =>
        {
            o.ReminderPeriod = TimeSpan.FromSeconds(2);
            o.LeaseDuration = TimeSpan.FromSeconds(6);
            o.LeaseRenewPeriod = TimeSpan.FromSeconds(1);
        });
        silo.AddWork(work => work.AddSampleHandlers().AddHandler(Probe.Handler, Probe.HandleAsync));
    }

    [Fact]
    public async Task SchedulesSurviveAFullRestartWithoutAnyClientCall()
    {
        var serviceId = "work-restart-" + Guid.NewGuid().ToString("N")[..8];
        var recurring = Probe.NewBoard();
        var oneShots = Probe.NewBoard();
        var recurringName = ClusterFixture.NewJobName("recurring");
        var oneShotName = ClusterFixture.NewJobName("oneshot");
        string dueDuringOutage;
        string dueAfterRestart;

        var first = await StartAsync(serviceId);
        try
        {
            var job = first.Client.GetGrain<IConcurrentJobGrain>(recurringName);
            await job.DefineProbeAsync(recurring, every: new EverySchedule { Interval = TimeSpan.FromMilliseconds(300), Sync = true });
            await job.StartAsync();
            await recurring.NextStartAsync();

            var once = first.Client.GetGrain<IConcurrentJobGrain>(oneShotName);
            await once.DefineProbeAsync(oneShots, historyLimit: 1_000);
            await once.StartAsync();
            dueDuringOutage = await once.PerformInAsync(TimeSpan.FromSeconds(1));
            dueAfterRestart = await once.PerformAtAsync(DateTimeOffset.UtcNow.AddSeconds(12));
        }
        finally
        {
            await first.StopAllSilosAsync();
            await first.DisposeAsync();
        }

        var startsBefore = recurring.Started.Count;
        var second = await StartAsync(serviceId);
        try
        {
            // Nothing calls the jobs: the reminders in storage bring them back.
            while (recurring.Started.Count < startsBefore + 3)
            {
                await recurring.NextStartAsync();
            }

            var once = second.Client.GetGrain<IConcurrentJobGrain>(oneShotName);
            var missed = await once.WaitFinishedAsync(dueDuringOutage);
            var later = await once.WaitFinishedAsync(dueAfterRestart);

            Assert.Equal(JobStatus.Success, missed.Status);
            Assert.Equal(JobStatus.Success, later.Status);
            Assert.True(later.StartedAt >= later.ScheduledAt);
            Assert.Equal(1, oneShots.Started.Count(s => s.ExecutionId == dueDuringOutage));
            Assert.Equal(1, oneShots.Started.Count(s => s.ExecutionId == dueAfterRestart));
            var info = await second.Client.GetGrain<IConcurrentJobGrain>(recurringName).GetInfoAsync();
            Assert.True(info.Started);
            Assert.Equal(TimeSpan.FromMilliseconds(300), info.Definition!.Every!.Interval);
        }
        finally
        {
            await second.StopAllSilosAsync();
            await second.DisposeAsync();
        }
    }

    [Fact]
    public async Task TheCatalogKeepsItsNamesInPagesAcrossARestart()
    {
        var serviceId = "work-catalog-" + Guid.NewGuid().ToString("N")[..8];
        var prefix = ClusterFixture.NewJobName("many") + "-";
        var names = Enumerable.Range(0, 600).Select(i => prefix + i.ToString("D4", System.Globalization.CultureInfo.InvariantCulture)).ToList();
        var deleted = names.Where((_, i) => i % 10 == 3).ToHashSet(StringComparer.Ordinal);
        var expected = names.Where(n => !deleted.Contains(n)).Order(StringComparer.Ordinal).ToList();

        var first = await StartAsync(serviceId);
        try
        {
            var client = new Client.WorkClient(first.Client);
            foreach (var chunk in names.Chunk(64))
            {
                await Task.WhenAll(chunk.Select(name => client.DefineAsync(name, new JobDefinition(new Job(Probe.Handler)))));
            }

            await Task.WhenAll(deleted.Select(name => client.DeleteAsync(name)));
            Assert.Equal(expected, (await client.ListAsync()).Where(n => n.StartsWith(prefix, StringComparison.Ordinal)));
        }
        finally
        {
            await first.StopAllSilosAsync();
            await first.DisposeAsync();
        }

        var second = await StartAsync(serviceId);
        try
        {
            var client = new Client.WorkClient(second.Client);
            Assert.Equal(expected, (await client.ListAsync()).Where(n => n.StartsWith(prefix, StringComparison.Ordinal)));

            // Read in pages of 7 from the first name on: the same names, each once.
            var paged = new List<string>();
            for (IReadOnlyList<string> page = ["!"]; page.Count > 0;)
            {
                page = await client.ListAsync(paged.Count == 0 ? prefix : paged[^1], 7);
                paged.AddRange(page.Where(n => n.StartsWith(prefix, StringComparison.Ordinal)));
                Assert.True(page.Count <= 7);
                if (page.Count < 7)
                {
                    break;
                }
            }

            Assert.Equal(expected, paged);
            Assert.Equal(expected.Count, await second.Client.GetGrain<IJobCatalogGrain>(IJobCatalogGrain.Key).CountAsync());
            await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => client.ListAsync(null, 0));
        }
        finally
        {
            await second.StopAllSilosAsync();
            await second.DisposeAsync();
        }
    }
}

/// <summary>The embedded default: a silo on a SQLite file.</summary>
public sealed class SqliteRestartTests : RestartTests, IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("work-restart-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    protected override void Configure(TestClusterBuilder builder)
    {
        builder.Properties["DatabasePath"] = Path.Combine(_folder, "work.db");
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
    }

    internal sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder silo)
        {
            silo.UseWorkSqlite(silo.Configuration["DatabasePath"]!);
            ConfigureWork(silo);
        }
    }
}

/// <summary>The cluster backend: two silos with state, reminders and membership in PostgreSQL.</summary>
public sealed class PostgresRestartTests : RestartTests
{
    private readonly string _database = PostgresServer.Shared.CreateDatabase("restart");
    private readonly string _clusterId = "restart-" + Guid.NewGuid().ToString("N")[..8];

    protected override short SiloCount => 2;

    protected override void Configure(TestClusterBuilder builder)
    {
        builder.Options.UseTestClusterMembership = false;
        builder.Options.ClusterId = _clusterId;
        builder.Properties["ConnectionString"] = _database;
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        builder.AddClientBuilderConfigurator<ClientConfigurator>();
    }

    internal sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder silo)
        {
            var connectionString = silo.Configuration["ConnectionString"]!;
            silo.UseWorkPostgresClustering(connectionString).UseWorkPostgres(connectionString);
            ConfigureWork(silo);
        }
    }

    internal sealed class ClientConfigurator : IClientBuilderConfigurator
    {
        public void Configure(IConfiguration configuration, IClientBuilder client) =>
            client.UseAdoNetClustering(o =>
            {
                o.Invariant = WorkPostgresSiloBuilderExtensions.PostgresInvariant;
                o.ConnectionString = configuration["ConnectionString"];
            });
    }
}

using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using Work.Grains;
using Work.Handlers;
using Work.Hosting;

namespace Work.Cluster.Tests;

/// <summary>The embedded default: a silo on a SQLite file, stopped and started again.</summary>
public sealed class SqliteRestartTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("work-restart-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private async Task<TestCluster> StartAsync(string serviceId)
    {
        var builder = new TestClusterBuilder(1);
        builder.Options.ServiceId = serviceId;
        builder.Options.ConfigureFileLogging = false;
        builder.Properties["DatabasePath"] = Path.Combine(_folder, "work.db");
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
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
            // Nothing calls the jobs: the reminders in the SQLite file bring them back.
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

    internal sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder silo)
        {
            silo.UseWorkSqlite(silo.Configuration["DatabasePath"]!);
            silo.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = TimeSpan.FromSeconds(1));
            silo.Services.Configure<WorkClusterOptions>(o =>
            {
                o.ReminderPeriod = TimeSpan.FromSeconds(2);
                o.LeaseDuration = TimeSpan.FromSeconds(6);
                o.LeaseRenewPeriod = TimeSpan.FromSeconds(1);
            });
            silo.AddWork(work => work.AddSampleHandlers().AddHandler(Probe.Handler, Probe.HandleAsync));
        }
    }
}

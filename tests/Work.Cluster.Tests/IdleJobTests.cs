using Microsoft.Extensions.DependencyInjection;
using Orleans.Core.Internal;
using Orleans.TestingHost;
using Work.Grains;
using Work.Hosting;
using Work.Scheduling;

namespace Work.Cluster.Tests;

/// <summary>
/// A job idle until its next due time leaves memory and is woken in time for it; jobs hold no reminder each (the
/// cluster's watch holds one), and a job sent away with work to come is woken again.
/// </summary>
public sealed class IdleJobTests : IAsyncLifetime
{
    private static readonly TimeSpan s_interval = TimeSpan.FromSeconds(6);
    private TestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        var builder = new TestClusterBuilder(1);
        builder.Options.ServiceId = "work-idle-" + Guid.NewGuid().ToString("N")[..8];
        builder.Options.ConfigureFileLogging = false;
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await _cluster.StopAllSilosAsync();
        await _cluster.DisposeAsync();
    }

    // A started job of the probe handler, recurring when given a schedule.
    private async Task<(IConcurrentJobGrain Job, string Name, Probe.Board Board)> StartedAsync(string prefix, EverySchedule? every = null)
    {
        var board = Probe.NewBoard();
        var name = ClusterFixture.NewJobName(prefix);
        var job = _cluster.Client.GetGrain<IConcurrentJobGrain>(name);
        await job.DefineProbeAsync(board, every: every);
        await job.StartAsync();
        return (job, name, board);
    }

    private async Task<int> JobActivationsAsync()
    {
        var statistics = await _cluster.Client.GetGrain<IManagementGrain>(0).GetSimpleGrainStatistics();
        return statistics.Where(s => s.GrainType.Contains(nameof(ConcurrentJobGrain), StringComparison.Ordinal)).Sum(s => s.ActivationCount);
    }

    [Fact]
    public async Task ARecurringJobSleepsBetweenTicksAndTicksOnItsGrid()
    {
        var silo = (InProcessSiloHandle)_cluster.Primary!;
        var sleepers = silo.SiloHost!.Services.GetRequiredService<SleepingJobs>();
        var firstRun = DateTimeOffset.UtcNow.AddSeconds(1);
        var (job, name, board) = await StartedAsync("idle", new EverySchedule { Interval = s_interval, FirstRun = firstRun });

        var first = await board.NextStartAsync();
        Assert.Equal(firstRun, first.Scheduled);

        // Once the run is reported and written, the job leaves memory until shortly before its next due time.
        DateTimeOffset? wakeUp = null;
        await Eventually.WaitUntilAsync(() => Task.FromResult((wakeUp = sleepers.WakeUpOf(name)) is not null), "the job went to sleep");
        Assert.Equal(firstRun + s_interval - SleepingJobs.WakeLead, wakeUp);
        await Eventually.WaitUntilAsync(async () => await JobActivationsAsync() == 0, "the job's activation was gone");

        // Nothing calls it: the silo wakes it, and the tick is on the grid, never early.
        var second = await board.NextStartAsync();
        Assert.Equal(firstRun + s_interval, second.Scheduled);
        Assert.True(second.Started >= second.Scheduled, $"started {second.Started:O} before its due time {second.Scheduled:O}");
        Assert.Equal(2, board.Started.Count);

        // Its state survived the sleep, and a call wakes it at once.
        var info = await job.GetInfoAsync();
        Assert.True(info.Started);
        Assert.True(info.Finished >= 1);
    }

    [Fact]
    public async Task JobsHoldNoReminderAndTheClusterHoldsOneForItsWatch()
    {
        var (job, _, board) = await StartedAsync("no-reminder", new EverySchedule { Interval = s_interval });
        await job.PerformInAsync(TimeSpan.FromMinutes(5));
        await board.NextStartAsync();

        var silo = (InProcessSiloHandle)_cluster.Primary!;
        var reminders = silo.SiloHost!.Services.GetRequiredService<IReminderTable>();
        var watch = _cluster.Client.GetGrain<IJobWatchGrain>(IJobWatchGrain.Key).GetGrainId();
        await Eventually.WaitUntilAsync(async () => (await reminders.ReadRows(watch)).Reminders.Count == 1, "the watch registered its reminder");
        Assert.Empty((await reminders.ReadRows(job.GetGrainId())).Reminders);
        var all = await reminders.ReadRows(0, 0);
        Assert.Equal([watch], all.Reminders.Select(r => r.GrainId).Distinct());
    }

    [Fact]
    public async Task AReminderAnEarlierVersionRegisteredForAJobIsDroppedWhenItFires()
    {
        var (job, _, _) = await StartedAsync("legacy");
        var silo = (InProcessSiloHandle)_cluster.Primary!;
        var reminders = silo.SiloHost!.Services.GetRequiredService<IReminderTable>();
        await reminders.UpsertRow(new ReminderEntry { GrainId = job.GetGrainId(), ReminderName = "work.job", StartAt = DateTime.UtcNow, Period = TimeSpan.FromMinutes(1) });
        Assert.Single((await reminders.ReadRows(job.GetGrainId())).Reminders);

        var now = DateTime.UtcNow;
        await job.AsReference<IRemindable>().ReceiveReminder("work.job", new TickStatus(now, TimeSpan.FromMinutes(1), now));

        Assert.Empty((await reminders.ReadRows(job.GetGrainId())).Reminders);
        Assert.True((await job.GetInfoAsync()).Started);
    }

    [Fact]
    public async Task AJobSentAwayWithWorkToComeIsWokenAgain()
    {
        var (job, _, board) = await StartedAsync("sent-away");
        var soon = DateTimeOffset.UtcNow.AddSeconds(3);
        var id = await job.PerformAtAsync(soon);

        // Not to sleep (its run is due within IdleDeactivation): the runtime sends it away. Nothing calls it after.
        await job.AsReference<IGrainManagementExtension>().DeactivateOnIdle();
        await Eventually.WaitUntilAsync(async () => await JobActivationsAsync() == 0, "the job's activation was gone");

        var started = await board.NextStartAsync();
        Assert.Equal(id, started.ExecutionId);
        Assert.True(started.Started >= soon, $"started {started.Started:O} before its due time {soon:O}");
    }

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder silo)
        {
            silo.UseWorkMemoryStorage();
            silo.Services.Configure<WorkClusterOptions>(o =>
            {
                o.IdleDeactivation = TimeSpan.FromSeconds(5);
                o.LeaseDuration = TimeSpan.FromSeconds(6);
                o.LeaseRenewPeriod = TimeSpan.FromSeconds(1);
            });
            silo.AddWork(work => work.AddHandler(Probe.Handler, Probe.HandleAsync));
        }
    }
}

using Work.Client;
using Work.Grains;
using Work.Scheduling;

namespace Work.Cluster.Tests;

/// <summary>
/// Every value a client can send is refused with an error that names it, before anything changes, or works; a job
/// whose stored state breaks today's limits still answers; only executors can finish an attempt.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class JobGrainInputTests(ClusterFixture fixture)
{
    private async Task<(IConcurrentJobGrain Job, string Name, Probe.Board Board)> StartedAsync(string prefix, int ms = 0)
    {
        var board = Probe.NewBoard();
        var name = ClusterFixture.NewJobName(prefix);
        var job = fixture.Job(name);
        await job.DefineProbeAsync(board, ms: ms);
        await job.StartAsync();
        return (job, name, board);
    }

    [Theory]
    [InlineData("a\0b", "U+0000")]
    [InlineData("line\nbreak", "U+000A")]
    [InlineData("zero\u200Bwidth", "U+200B")]
    [InlineData(" padded", "white space")]
    public async Task ANameNoJobMayHaveIsRefusedByEveryCallWithoutTouchingStorage(string name, string problem)
    {
        var job = fixture.Job(name);

        var define = await Assert.ThrowsAsync<ArgumentException>(() => job.DefineAsync(new JobDefinition(new Job(Probe.Handler))));
        var info = await Assert.ThrowsAsync<ArgumentException>(job.GetInfoAsync);
        var client = Assert.Throws<ArgumentException>(() => new WorkClient(fixture.Grains).Job(name));

        Assert.Contains(problem, define.Message, StringComparison.Ordinal);
        Assert.Contains(problem, info.Message, StringComparison.Ordinal);
        Assert.Contains(problem, client.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(name, await new WorkClient(fixture.Grains).ListAsync());
    }

    [Fact]
    public async Task ANameLongerThan200CharactersIsRefused()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => fixture.Job(new string('n', 201)).StartAsync());

        Assert.Contains("at most 200 characters; it has 201", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ValuesOutOfRangeAreRefusedNamingThemAndTheJobGoesOn()
    {
        var (job, _, board) = await StartedAsync("ranges");

        var maxWorkers = await Assert.ThrowsAsync<ArgumentException>(() =>
            job.DefineAsync(new JobDefinition(new Job(Probe.Handler) { Args = Probe.Args(board) }) { MaxWorkers = JobLimits.MaxWorkers + 1 }));
        var everyMax = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => job.PerformEveryAsync(TimeSpan.MaxValue));
        var everyTick = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => job.PerformEveryAsync(TimeSpan.FromTicks(1)));
        var atMax = await Assert.ThrowsAsync<ArgumentException>(() => job.PerformAtAsync(DateTimeOffset.MaxValue));
        var inMax = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => job.PerformInAsync(TimeSpan.MaxValue));
        var history = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => job.GetHistoryAsync(-1));
        var cancel = await Assert.ThrowsAsync<KeyNotFoundException>(() => job.CancelAsync("0123456789abcdef0123456789abcdef"));
        var timeout = await Assert.ThrowsAsync<ArgumentException>(() =>
            job.DefineAsync(new JobDefinition(new Job(Probe.Handler) { Args = Probe.Args(board), Timeout = TimeSpan.FromDays(30) })));

        Assert.Contains("MaxWorkers must be between 1 and 10000; it is 10001", maxWorkers.Message, StringComparison.Ordinal);
        Assert.Contains("at most 36525 days", everyMax.Message, StringComparison.Ordinal);
        Assert.Contains("at least 00:00:00.0100000 (the silos' Work:Cluster:MinInterval)", everyTick.Message, StringComparison.Ordinal);
        Assert.Contains("The time must be within 36525 days", atMax.Message, StringComparison.Ordinal);
        Assert.Contains("The delay must be at most 36525 days", inMax.Message, StringComparison.Ordinal);
        Assert.Contains("between 0 and 10000; it is -1", history.Message, StringComparison.Ordinal);
        Assert.Contains("no execution '0123456789abcdef0123456789abcdef'", cancel.Message, StringComparison.Ordinal);
        Assert.Contains("Timeout must be positive and at most 24 days", timeout.Message, StringComparison.Ordinal);

        // Nothing changed, and the job still works.
        var info = await job.GetInfoAsync();
        Assert.Equal(1, info.Definition!.MaxWorkers);
        Assert.Null(info.Definition.Every);
        Assert.Equal(0, info.Pending);
        Assert.Equal(JobStatus.Success, (await job.WaitFinishedAsync(await job.EnqueueAsync())).Status);
    }

    [Fact]
    public async Task ADueTimeBeyondWhatATimerTakesIsAcceptedAndWaitedFor()
    {
        var (job, _, _) = await StartedAsync("far");
        var due = DateTimeOffset.UtcNow.AddDays(400);

        var id = await job.PerformAtAsync(due);
        var info = await job.GetInfoAsync();

        Assert.Equal(1, info.Pending);
        Assert.Equal(due, Assert.Single(info.NextDueTimes));
        Assert.Null(await job.WaitAsync(id, TimeSpan.Zero));
        Assert.Equal(1, await job.CancelAsync(id));
    }

    // Stores a job's main state where the job reads it, as an earlier version or a hand-edited store could have left it.
    private async Task StoreAsync(IConcurrentJobGrain job, JobState state)
    {
        var records = await GrainStorageRecords.For(fixture.Cluster.GetSiloServiceProvider()).OpenAsync(job.GetGrainId());
        await records.WriteAsync([], JobRecord.Of(JobStore.MainStateName, new GrainState<JobState>(state)), []);
    }

    [Fact]
    public async Task AJobStoredWithADefinitionTodaysLimitsRefuseAnswersAndCanBeRepaired()
    {
        var board = Probe.NewBoard();
        var name = ClusterFixture.NewJobName("stored-bad");
        var job = fixture.Job(name);
        var every = new EverySchedule { Interval = TimeSpan.FromTicks(1) };
        await StoreAsync(job, new JobState
        {
            Definition = new JobDefinition(new Job(Probe.Handler) { Args = Probe.Args(board) }) { Every = every },
            Started = true,
            StartedAt = DateTimeOffset.UtcNow,
            Recurring = new RecurringRun { Schedule = every, Origin = DateTimeOffset.UtcNow },
        });

        var info = await job.GetInfoAsync();
        var perform = await Assert.ThrowsAsync<InvalidOperationException>(() => job.EnqueueAsync());

        Assert.Contains($"Job '{name}' cannot run as stored", info.Problem, StringComparison.Ordinal);
        Assert.Contains("MinInterval", info.Problem, StringComparison.Ordinal);
        Assert.Equal(info.Problem, perform.Message);
        Assert.Empty(board.Started);

        // Stopping it quiets it; defining it again repairs it.
        await job.StopAsync();
        await job.DefineProbeAsync(board);
        await job.StartAsync();
        Assert.Null((await job.GetInfoAsync()).Problem);
        Assert.Equal(JobStatus.Success, (await job.WaitFinishedAsync(await job.EnqueueAsync())).Status);
    }

    [Fact]
    public async Task AJobStoredBrokenCanBeDeleted()
    {
        var name = ClusterFixture.NewJobName("stored-delete");
        var job = fixture.Job(name);
        await StoreAsync(job, new JobState
        {
            Definition = new JobDefinition(new Job(Probe.Handler)) { MaxWorkers = 50_000 },
        });
        Assert.NotNull((await job.GetInfoAsync()).Problem);

        await job.DeleteAsync();

        var info = await job.GetInfoAsync();
        Assert.Null(info.Definition);
        Assert.Null(info.Problem);
    }

    [Fact]
    public async Task AReportOrRenewalWithoutTheLeaseTheJobSentChangesNothing()
    {
        var (job, name, board) = await StartedAsync("forged", ms: 600_000);
        var id = await job.EnqueueAsync();
        await board.NextStartAsync();
        var executors = fixture.Grains.GetGrain<IJobReportGrain>(name);

        await executors.ReportAsync("forger", [new ExecutionReport(
            new JobExecution { ExecutionId = id, Handler = Probe.Handler, Attempt = 1, Status = JobStatus.Success, Worker = "forger" },
            Lease: 42)]);
        await executors.RenewAsync([new ExecutionLease(id, 1, 42)]);

        Assert.Equal(1, (await job.GetInfoAsync()).RunningWorkers);
        Assert.Empty(await job.GetHistoryAsync());
        Assert.Null(await job.WaitAsync(id, TimeSpan.Zero));

        // The executor's own report, when the handler ends, is the one recorded.
        Assert.Equal(1, await job.CancelAsync(id));
        var done = await job.WaitFinishedAsync(id);
        Assert.NotEqual("forger", done.Worker);
        Assert.Single(await job.GetHistoryAsync());
    }
}



namespace Work.Cluster.Tests;

[Collection(ClusterCollection.Name)]
public sealed class JobGrainValidationTests(ClusterFixture fixture)
{
    private async Task<(Cluster.IConcurrentJobGrain Job, Probe.Board Board)> DefinedAsync(string prefix, int maxWorkers = 2)
    {
        var board = Probe.NewBoard();
        var job = fixture.Job(ClusterFixture.NewJobName(prefix));
        await job.DefineProbeAsync(board, maxWorkers: maxWorkers);
        return (job, board);
    }

    [Fact]
    public async Task UnregisteredHandlerIsRejectedAndTheDefinitionIsKept()
    {
        var (job, _) = await DefinedAsync("unregistered");

        var error = await Assert.ThrowsAsync<ArgumentException>(() => job.DefineAsync(new JobDefinition(new Job("nobody-registered-this"))));

        Assert.Contains("'nobody-registered-this'", error.Message, StringComparison.Ordinal);
        Assert.Equal(Probe.Handler, (await job.GetInfoAsync()).Definition!.Job.Handler);
    }

    [Fact]
    public async Task MaxWorkersBelowOneIsRejectedAndTheDefinitionIsKept()
    {
        var (job, board) = await DefinedAsync("maxworkers");

        var error = await Assert.ThrowsAsync<ArgumentException>(() =>
            job.DefineAsync(new JobDefinition(new Job(Probe.Handler) { Args = Probe.Args(board) }) { MaxWorkers = 0 }));

        Assert.Contains("MaxWorkers", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, (await job.GetInfoAsync()).Definition!.MaxWorkers);
    }

    [Fact]
    public async Task NonPositiveIntervalIsRejectedAndNoScheduleIsSet()
    {
        var (job, _) = await DefinedAsync("interval");
        await job.StartAsync();

        var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => job.PerformEveryAsync(TimeSpan.Zero));

        Assert.Contains("The interval must be positive", error.Message, StringComparison.Ordinal);
        var info = await job.GetInfoAsync();
        Assert.Null(info.Definition!.Every);
        Assert.Empty(info.NextDueTimes);
    }

    [Fact]
    public async Task PerformAtWithADefaultTimeIsRejected()
    {
        var (job, _) = await DefinedAsync("default-time");
        await job.StartAsync();

        var error = await Assert.ThrowsAsync<ArgumentException>(() => job.PerformAtAsync(default));

        Assert.Contains("default DateTimeOffset", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, (await job.GetInfoAsync()).Pending);
    }

    [Fact]
    public async Task NonPositiveDelayIsRejected()
    {
        var (job, _) = await DefinedAsync("delay");
        await job.StartAsync();

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => job.PerformInAsync(TimeSpan.FromSeconds(-1)));
        Assert.Equal(0, (await job.GetInfoAsync()).Pending);
    }

    [Fact]
    public async Task StartOfAnUndefinedJobIsRejected()
    {
        var job = fixture.Job(ClusterFixture.NewJobName("undefined"));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => job.StartAsync());

        Assert.Contains("not defined", error.Message, StringComparison.Ordinal);
        Assert.False((await job.GetInfoAsync()).Started);
    }

    [Fact]
    public async Task PerformBeforeStartIsRejected()
    {
        var (job, _) = await DefinedAsync("not-started");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => job.EnqueueAsync());

        Assert.Contains("not started", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OversizedArgsAreRejected()
    {
        var (job, board) = await DefinedAsync("oversized");
        await job.StartAsync();
        var big = JobArgs.From(new { run = board.Id, blob = new string('x', (1 << 20) + 1) });

        var perform = await Assert.ThrowsAsync<ArgumentException>(() => job.EnqueueAsync(big));
        var define = await Assert.ThrowsAsync<ArgumentException>(() => job.DefineAsync(new JobDefinition(new Job(Probe.Handler) { Args = big })));

        Assert.Contains("1 MiB", perform.Message, StringComparison.Ordinal);
        Assert.Contains("1 MiB", define.Message, StringComparison.Ordinal);
        var info = await job.GetInfoAsync();
        Assert.Equal(0, info.Pending);
        Assert.Equal(board.Id, info.Definition!.Job.Args.Get<string>("run"));
    }

    [Fact]
    public async Task PerformManyWithOneBadRequestAcceptsNoneAndNamesIt()
    {
        var (job, board) = await DefinedAsync("many-bad");
        await job.StartAsync();
        var big = JobArgs.From(new { run = board.Id, blob = new string('x', (1 << 20) + 1) });

        var time = await Assert.ThrowsAsync<ArgumentException>(() => job.PerformManyAsync([PerformRequest.Now(), PerformRequest.AtTime(default)]));
        var size = await Assert.ThrowsAsync<ArgumentException>(() => job.PerformManyAsync([PerformRequest.Now(), PerformRequest.Now(), PerformRequest.Now(big)]));
        var many = await Assert.ThrowsAsync<ArgumentException>(() =>
            job.PerformManyAsync(Enumerable.Repeat(PerformRequest.Now(), PerformRequest.MaxPerCall + 1).ToList()));

        Assert.Contains("Request 1: PerformAt needs a time", time.Message, StringComparison.Ordinal);
        Assert.Contains("Request 2: The args are", size.Message, StringComparison.Ordinal);
        Assert.Contains("1 MiB", size.Message, StringComparison.Ordinal);
        Assert.Contains($"at most {PerformRequest.MaxPerCall} requests", many.Message, StringComparison.Ordinal);
        var info = await job.GetInfoAsync();
        Assert.Equal(0, info.Pending);
        Assert.Equal(0, info.Finished + info.RunningWorkers);
        Assert.Empty(await job.GetHistoryAsync());
    }

    [Fact]
    public async Task PerformManyBeforeStartIsRejected()
    {
        var (job, _) = await DefinedAsync("many-not-started");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => job.PerformManyAsync([PerformRequest.Now()]));

        Assert.Contains("not started", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, (await job.GetInfoAsync()).Pending);
    }

    [Fact]
    public void EmptyJobNameIsRejected()
    {
        // Orleans itself refuses an empty grain key before any grain is reached.
        var error = Assert.ThrowsAny<ArgumentException>(() => fixture.Job(""));

        Assert.Contains("empty", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownExecutionIdIsNamedWhenWaitedFor()
    {
        var (job, _) = await DefinedAsync("unknown-id");

        var error = await Assert.ThrowsAsync<KeyNotFoundException>(() => job.WaitAsync("no-such-id", TimeSpan.Zero));

        Assert.Contains("'no-such-id'", error.Message, StringComparison.Ordinal);
    }
}

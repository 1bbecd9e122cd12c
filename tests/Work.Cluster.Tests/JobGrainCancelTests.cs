namespace Work.Cluster.Tests;

[Collection(ClusterCollection.Name)]
public sealed class JobGrainCancelTests(ClusterFixture fixture)
{
    [Fact]
    public async Task CancellingAPendingExecutionMeansItNeverRuns()
    {
        var board = Probe.NewBoard();
        var job = fixture.Job(ClusterFixture.NewJobName("cancel-one"));
        await job.DefineProbeAsync(board);
        await job.StartAsync();

        var id = await job.PerformInAsync(TimeSpan.FromMinutes(10));
        Assert.Equal(1, await job.CancelAsync(id));

        var done = await job.WaitFinishedAsync(id);
        Assert.Equal(JobStatus.NoResponse, done.Status);
        Assert.Equal("Work.Cancelled", done.ErrorType);
        Assert.Equal(0, (await job.GetInfoAsync()).Pending);
        Assert.Empty(board.Started);
    }

    [Fact]
    public async Task CancellingOneRunningExecutionSignalsItsToken()
    {
        var board = Probe.NewBoard();
        var job = fixture.Job(ClusterFixture.NewJobName("cancel-running"));
        await job.DefineProbeAsync(board, retry: new RetryPolicy { MaxAttempts = 3 });
        await job.StartAsync();

        var id = await job.EnqueueAsync(Probe.Args(board, ms: 60_000));
        await board.NextStartAsync();
        Assert.Equal(1, await job.CancelAsync(id));

        var done = await job.WaitFinishedAsync(id);
        Assert.Equal(JobStatus.Unavailable, done.Status);
        Assert.Equal(1, done.Attempt);
        Assert.Single(board.Started);
    }

    [Fact]
    public async Task CancellingAllStopsEveryPendingAndRunningExecution()
    {
        var board = Probe.NewBoard();
        var job = fixture.Job(ClusterFixture.NewJobName("cancel-all"));
        await job.DefineProbeAsync(board, maxWorkers: 2);
        await job.StartAsync();

        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add(await job.EnqueueAsync(Probe.Args(board, ms: 60_000)));
        }

        await board.NextStartAsync();
        await board.NextStartAsync();
        Assert.Equal(5, await job.CancelAsync());

        var results = await Task.WhenAll(ids.Select(job.WaitFinishedAsync));
        Assert.Equal(2, results.Count(r => r.Status == JobStatus.Unavailable));
        Assert.Equal(3, results.Count(r => r.ErrorType == "Work.Cancelled"));
        Assert.Equal(2, board.Started.Count);
        var info = await job.GetInfoAsync();
        Assert.Equal(0, info.RunningWorkers);
        Assert.Equal(0, info.Pending);
    }

    [Fact]
    public async Task StopEndsTheScheduleAndRejectsPerforms()
    {
        var board = Probe.NewBoard();
        var job = fixture.Job(ClusterFixture.NewJobName("stop"));
        await job.DefineProbeAsync(board, every: new EverySchedule { Interval = TimeSpan.FromMilliseconds(100) });
        await job.StartAsync();
        await board.NextStartAsync();

        await job.StopAsync();

        var info = await job.GetInfoAsync();
        Assert.False(info.Started);
        Assert.Empty(info.NextDueTimes);
        await Assert.ThrowsAsync<InvalidOperationException>(() => job.EnqueueAsync());
    }
}

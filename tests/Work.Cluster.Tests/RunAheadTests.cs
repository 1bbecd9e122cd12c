namespace Work.Cluster.Tests;

/// <summary>Runs sent ahead to executors: slots that turn over there, under the cap, cancelled and recalled.</summary>
[Collection(ClusterCollection.Name)]
public sealed class RunAheadTests(ClusterFixture fixture)
{
    [Fact]
    public async Task ManyShortRunsUnderASmallCapAllRunOnceAndNeverExceedIt()
    {
        var board = Probe.NewBoard();
        var job = fixture.Job(ClusterFixture.NewJobName("ahead-cap"));
        await job.DefineProbeAsync(board, maxWorkers: 3, ms: 5, historyLimit: 1_000);
        await job.StartAsync();

        var ids = await job.PerformManyAsync(Enumerable.Range(0, 600).Select(_ => PerformRequest.Now()).ToList());
        var results = await Task.WhenAll(ids.Select(job.WaitFinishedAsync));

        Assert.All(results, r => Assert.Equal(JobStatus.Success, r.Status));
        Assert.All(results, r => Assert.Equal(1, r.Attempt));
        Assert.Equal(600, board.Started.Select(s => s.ExecutionId).Distinct().Count());
        Assert.Equal(600, board.Finished);
        Assert.Equal(3, board.MaxConcurrent);
        var info = await job.GetInfoAsync();
        Assert.Equal(0, info.RunningWorkers);
        Assert.Equal(0, info.Pending);
    }

    [Fact]
    public async Task CancellingARunWaitingOnItsExecutorFinishesItUnstarted()
    {
        var board = Probe.NewBoard();
        var job = fixture.Job(ClusterFixture.NewJobName("ahead-cancel"));
        await job.DefineProbeAsync(board, maxWorkers: 1);
        await job.StartAsync();
        var first = await job.EnqueueAsync(Probe.Args(board, ms: 60_000));
        await board.NextStartAsync();

        // The slot is taken: these are sent ahead to the executor running the first, and wait there.
        var second = await job.EnqueueAsync();
        var third = await job.EnqueueAsync();
        Assert.Equal(1, await job.CancelAsync(second));
        Assert.Equal(1, await job.CancelAsync(first));

        var cancelled = await job.WaitFinishedAsync(second);
        Assert.Equal(JobStatus.NoResponse, cancelled.Status);
        Assert.Equal("Work.Cancelled", cancelled.ErrorType);
        Assert.Equal(JobStatus.Success, (await job.WaitFinishedAsync(third)).Status);
        Assert.DoesNotContain(board.Started, s => s.ExecutionId == second);
        Assert.Equal(2, board.Started.Count);
    }

    [Fact]
    public async Task LoweringTheCapCallsBackRunsWaitingOnExecutors()
    {
        var board = Probe.NewBoard();
        var job = fixture.Job(ClusterFixture.NewJobName("ahead-lower"));
        await job.DefineProbeAsync(board, maxWorkers: 2, ms: 200);
        await job.StartAsync();
        var ids = await job.PerformManyAsync(Enumerable.Range(0, 8).Select(_ => PerformRequest.Now()).ToList());
        var running = new[] { (await board.NextStartAsync()).ExecutionId, (await board.NextStartAsync()).ExecutionId };

        // The runs waiting behind the two running come back to the job, and run one at a time once those two end.
        await job.DefineProbeAsync(board, maxWorkers: 1, ms: 200);
        foreach (var id in running)
        {
            await job.WaitFinishedAsync(id);
        }

        board.ResetMax();
        var results = await Task.WhenAll(ids.Select(job.WaitFinishedAsync));

        Assert.All(results, r => Assert.Equal(JobStatus.Success, r.Status));
        Assert.Equal(1, board.MaxConcurrent);
        Assert.Equal(8, board.Finished);
    }

    [Fact]
    public async Task ARunIsReportedWhileTheRunThatTookItsSlotStillRuns()
    {
        var first = Probe.NewBoard();
        var second = Probe.NewBoard();
        var job = fixture.Job(ClusterFixture.NewJobName("ahead-report"));
        await job.DefineProbeAsync(first, maxWorkers: 1);
        await job.StartAsync();
        var ended = await job.EnqueueAsync(Probe.Args(first, held: 1));
        await first.NextStartAsync();

        // The slot is taken: the second waits on the executor running the first, and takes its slot as it ends.
        var next = await job.EnqueueAsync(Probe.Args(second, held: 1));
        var info = await job.GetInfoAsync();
        Assert.Equal((0, 1), (info.Pending, info.RunningWorkers));
        first.Gate.SetResult();
        await second.NextStartAsync();

        // The report of the first waits a little for those of the runs behind it, not for them to end.
        // (Held back for good, it would be given up on, and the first would run again as its second attempt.)
        var done = await job.WaitFinishedAsync(ended);
        Assert.Equal((JobStatus.Success, 1), (done.Status, done.Attempt));
        Assert.Equal(1, second.Running);
        second.Gate.SetResult();
        Assert.Equal(JobStatus.Success, (await job.WaitFinishedAsync(next)).Status);
    }
}

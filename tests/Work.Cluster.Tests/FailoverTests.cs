using System.Diagnostics;
using Orleans.TestingHost;

namespace Work.Cluster.Tests;

public sealed class FailoverTests
{
    [Fact]
    public async Task MaxWorkersIsACapAcrossAllSilosAndExecutionsSpreadOverThem()
    {
        await using var cluster = await FailoverCluster.StartAsync(3);
        var board = Probe.NewBoard();
        var job = cluster.Job(ClusterFixture.NewJobName("cap"));
        // Runs of 100 ms: long enough that all four slots overlap even when a slot's hand-over takes tens of
        // milliseconds on a loaded machine (with 20 ms runs, one slot in hand-over hid one worker throughout).
        await job.DefineProbeAsync(board, maxWorkers: 4, ms: 100);
        await job.StartAsync();

        var ids = await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => job.EnqueueAsync()));
        var results = await Task.WhenAll(ids.Select(job.WaitFinishedAsync));

        Assert.All(results, r => Assert.Equal(JobStatus.Success, r.Status));
        Assert.Equal(100, ids.Distinct().Count());
        Assert.Equal(100, board.Finished);
        Assert.Equal(4, board.MaxConcurrent);
        Assert.True(board.Started.Select(s => s.Silo).Distinct().Count() > 1, "executions ran on more than one silo");
        Assert.Equal(0, (await job.GetInfoAsync()).RunningWorkers);
    }

    [Fact]
    public async Task TimedRunsWaitOnTheirExecutorAndStartAtTheirDueTimeOrEndCancelledUnstarted()
    {
        await using var cluster = await FailoverCluster.StartAsync(1);
        var board = Probe.NewBoard();
        var job = cluster.Job(ClusterFixture.NewJobName("early"));
        await job.DefineProbeAsync(board, maxWorkers: 4);
        await job.StartAsync();

        // Due within EarlyHandOver (1 s here): both go to the executor at once and hold their slots while they wait.
        var ran = await job.PerformInAsync(TimeSpan.FromMilliseconds(500));
        var cancelled = await job.PerformInAsync(TimeSpan.FromMilliseconds(950));
        var info = await job.GetInfoAsync();
        Assert.Equal((0, 2), (info.Pending, info.RunningWorkers));
        Assert.Equal(1, await job.CancelAsync(cancelled));

        var done = await job.WaitFinishedAsync(ran);
        Assert.Equal(JobStatus.Success, done.Status);
        Assert.True(done.StartedAt >= done.ScheduledAt, $"started {done.StartedAt:O}, due {done.ScheduledAt:O}");
        var unstarted = await job.WaitFinishedAsync(cancelled);
        Assert.Equal(JobStatus.NoResponse, unstarted.Status);
        Assert.Equal("Work.Cancelled", unstarted.ErrorType);
        Assert.Equal(1, unstarted.Attempt);
        Assert.Equal([ran], board.Started.Select(s => s.ExecutionId));
        Assert.Equal(0, (await job.GetInfoAsync()).RunningWorkers);
    }

    [Fact]
    public async Task ManyRunsDueAtOneMomentWaitTogetherAndStartAtItExceptTheOneCancelled()
    {
        await using var cluster = await FailoverCluster.StartAsync(1);
        var board = Probe.NewBoard();
        var job = cluster.Job(ClusterFixture.NewJobName("due-together"));
        await job.DefineProbeAsync(board, maxWorkers: 40);
        await job.StartAsync();

        // Due within EarlyHandOver (1 s here): all go to the executor at once and wait there for the same moment.
        var due = DateTimeOffset.UtcNow.AddMilliseconds(700);
        var ids = await job.PerformManyAsync(Enumerable.Range(0, 40).Select(_ => PerformRequest.AtTime(due)).ToList());
        var info = await job.GetInfoAsync();
        Assert.Equal((0, 40), (info.Pending, info.RunningWorkers));
        Assert.Equal(1, await job.CancelAsync(ids[17]));

        var done = await Task.WhenAll(ids.Select(id => job.WaitFinishedAsync(id)));
        var cancelled = done[17];
        Assert.Equal((JobStatus.NoResponse, "Work.Cancelled"), (cancelled.Status, cancelled.ErrorType));
        var ran = done.Where((_, i) => i != 17).ToList();
        Assert.All(ran, e => Assert.Equal(JobStatus.Success, e.Status));
        Assert.All(ran, e => Assert.True(e.StartedAt >= e.ScheduledAt, $"started {e.StartedAt:O}, due {e.ScheduledAt:O}"));
        Assert.Equal(ids.Where((_, i) => i != 17).Order(StringComparer.Ordinal), board.Started.Select(s => s.ExecutionId).Order(StringComparer.Ordinal));
        Assert.Equal(0, (await job.GetInfoAsync()).RunningWorkers);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task JobsMoveAndContinueWhenASiloStopsOrDies(bool kill)
    {
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name.StartsWith("Microsoft.Orleans", StringComparison.Ordinal) || source.Name == "Work.Orleans",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
        };
        ActivitySource.AddActivityListener(listener);
        await using var cluster = await FailoverCluster.StartAsync(3);
        var jobs = new List<(IConcurrentJobGrain Job, Probe.Board Board, string OneShot)>();
        using var request = new Activity("scheduling request").SetIdFormat(ActivityIdFormat.W3C).Start();
        for (var i = 0; i < 6; i++)
        {
            var board = Probe.NewBoard();
            var job = cluster.Job(ClusterFixture.NewJobName($"move{i}"));
            await job.DefineProbeAsync(board, every: new EverySchedule { Interval = TimeSpan.FromMilliseconds(300), Sync = true });
            await job.StartAsync();
            var oneShot = await job.PerformInAsync(TimeSpan.FromSeconds(8), Probe.Args(board, status: 444));
            jobs.Add((job, board, oneShot));
        }

        request.Stop();

        foreach (var (_, board, _) in jobs)
        {
            await board.NextStartAsync();
        }

        // Take down a silo other than the primary that hosts at least one of the jobs.
        var hosts = await Task.WhenAll(jobs.Select(j => j.Job.GetInfoAsync()));
        var victim = cluster.Cluster.SecondarySilos.FirstOrDefault(s => hosts.Any(h => h.Silo == s.SiloAddress.ToParsableString()))
            ?? cluster.Cluster.SecondarySilos[0];
        if (kill)
        {
            await cluster.Cluster.KillSiloAsync(victim);
        }
        else
        {
            await cluster.Cluster.StopSiloAsync(victim);
        }

        // Every recurring schedule continues, without any call from us, wherever its grain now lives.
        foreach (var (_, board, _) in jobs)
        {
            var before = board.Started.Count;
            while (board.Started.Count < before + 3)
            {
                await board.NextStartAsync();
            }
        }

        // Every one-shot ran: none lost.
        foreach (var (job, board, oneShot) in jobs)
        {
            var done = await job.WaitFinishedAsync(oneShot);
            Assert.Equal(JobStatus.NoResponse, done.Status);
            var run = Assert.Single(board.Started, s => s.ExecutionId == oneShot);

            // The stored trace context survived the move: the execution links to the request that scheduled it.
            Assert.True(ActivityContext.TryParse(run.TraceParent, null, out var carried));
            Assert.Equal(request.TraceId, carried.TraceId);
        }

        var after = await Task.WhenAll(jobs.Select(j => j.Job.GetInfoAsync()));
        Assert.DoesNotContain(after, h => h.Silo == victim.SiloAddress.ToParsableString());
    }

    [Fact]
    public async Task ABacklogAcrossStoredSegmentsSurvivesTheLossOfTheJobsSilo()
    {
        await using var cluster = await FailoverCluster.StartAsync(3);
        var board = Probe.NewBoard();

        // A job whose grain lives on a silo we may kill (not the primary, which hosts the test membership table).
        IConcurrentJobGrain job;
        SiloHandle? victim;
        do
        {
            job = cluster.Job(ClusterFixture.NewJobName("backlog"));
            await job.DefineProbeAsync(board, maxWorkers: 4, ms: 2, historyLimit: 5_000);
            var host = (await job.GetInfoAsync()).Silo;
            victim = cluster.Cluster.SecondarySilos.FirstOrDefault(s => s.SiloAddress.ToParsableString() == host);
        }
        while (victim is null);

        await job.StartAsync();

        // Over three segments of the ready queue.
        var ids = new List<string>();
        foreach (var chunk in Enumerable.Range(0, 1_300).Chunk(100))
        {
            ids.AddRange(await Task.WhenAll(chunk.Select(_ => job.EnqueueAsync())));
        }

        while (board.Started.Count < 100)
        {
            await board.NextStartAsync();
        }

        await cluster.Cluster.KillSiloAsync(victim);
        var results = await Task.WhenAll(ids.Select(job.WaitFinishedAsync));

        Assert.All(results, r => Assert.Equal(JobStatus.Success, r.Status));
        var started = board.Started.Select(s => s.ExecutionId).ToHashSet();
        Assert.True(ids.All(started.Contains), "every accepted execution ran");
        var info = await job.GetInfoAsync();
        Assert.Equal(0, info.Pending);
        Assert.Equal(0, info.RunningWorkers);
    }
}

using Microsoft.Extensions.DependencyInjection;

namespace Work.Cluster.Tests;

[Collection(ClusterCollection.Name)]
public sealed class JobGrainOperationTests(ClusterFixture fixture)
{
    [Fact]
    public async Task EnqueuedExecutionRunsAndIsRecorded()
    {
        var board = Probe.NewBoard();
        var job = fixture.Job(ClusterFixture.NewJobName("enqueue"));
        await job.DefineProbeAsync(board);
        await job.StartAsync();

        var id = await job.EnqueueAsync();
        var done = await job.WaitFinishedAsync(id);

        Assert.Equal(id, done.ExecutionId);
        Assert.True(JobStatus.Success == done.Status, $"{done.Status} {done.Error} {done.ErrorType} attempt {done.Attempt}");
        Assert.Equal(1, done.Attempt);
        Assert.Equal(Probe.Handler, done.Handler);
        Assert.NotEmpty(done.Worker);
        var history = await job.GetHistoryAsync();
        Assert.Equal(id, Assert.Single(history).ExecutionId);
        var info = await job.GetInfoAsync();
        Assert.Equal(1, info.Finished);
        Assert.Equal(0, info.RunningWorkers);
        Assert.True(info.Started);
    }

    [Fact]
    public async Task ArgsGivenToAPerformReplaceTheDefinedOnes()
    {
        var board = Probe.NewBoard();
        var job = fixture.Job(ClusterFixture.NewJobName("args"));
        await job.DefineProbeAsync(board);
        await job.StartAsync();

        var id = await job.EnqueueAsync(Probe.Args(board, status: 444));
        var done = await job.WaitFinishedAsync(id);

        Assert.Equal(JobStatus.NoResponse, done.Status);
    }

    [Fact]
    public async Task PerformManyAcceptsEveryRequestInOrderWithItsOwnArgsAndTime()
    {
        var board = Probe.NewBoard();
        var job = fixture.Job(ClusterFixture.NewJobName("many"));
        await job.DefineProbeAsync(board, maxWorkers: 2);
        await job.StartAsync();
        var later = DateTimeOffset.UtcNow.AddHours(1);

        var ids = await job.PerformManyAsync(
        [
            PerformRequest.Now(Probe.Args(board, status: 444)),
            PerformRequest.Now(),
            PerformRequest.AtTime(later),
        ]);

        Assert.Equal(3, ids.Distinct().Count());
        Assert.Equal(JobStatus.NoResponse, (await job.WaitFinishedAsync(ids[0])).Status);
        Assert.Equal(JobStatus.Success, (await job.WaitFinishedAsync(ids[1])).Status);
        var info = await job.GetInfoAsync();
        Assert.Equal(1, info.Pending);
        Assert.Equal(later, Assert.Single(info.NextDueTimes));
        Assert.Equal(1, await job.CancelAsync(ids[2]));
    }

    [Fact]
    public async Task PerformInRunsAfterTheDelayAndNeverEarly()
    {
        var board = Probe.NewBoard();
        var job = fixture.Job(ClusterFixture.NewJobName("in"));
        await job.DefineProbeAsync(board);
        await job.StartAsync();

        var before = DateTimeOffset.UtcNow;
        var id = await job.PerformInAsync(TimeSpan.FromMilliseconds(300));
        var done = await job.WaitFinishedAsync(id);

        Assert.Equal(JobStatus.Success, done.Status);
        Assert.True(done.ScheduledAt >= before.AddMilliseconds(300));
        Assert.True(done.StartedAt >= done.ScheduledAt, $"started {done.StartedAt:O} before due {done.ScheduledAt:O}");
    }

    [Fact]
    public async Task PerformAtInThePastRunsNow()
    {
        var board = Probe.NewBoard();
        var job = fixture.Job(ClusterFixture.NewJobName("at"));
        await job.DefineProbeAsync(board);
        await job.StartAsync();

        var past = DateTimeOffset.UtcNow.AddMinutes(-5);
        var done = await job.WaitFinishedAsync(await job.PerformAtAsync(past));

        Assert.Equal(past, done.ScheduledAt);
        Assert.Equal(JobStatus.Success, done.Status);
    }

    [Fact]
    public async Task SubSecondPerformEveryTicksOnTheGrid()
    {
        var board = Probe.NewBoard();
        var job = fixture.Job(ClusterFixture.NewJobName("every"));
        await job.DefineProbeAsync(board);
        await job.StartAsync();

        await job.PerformEveryAsync(TimeSpan.FromMilliseconds(100), sync: true);
        var starts = new List<ProbeStart>();
        for (var i = 0; i < 5; i++)
        {
            starts.Add(await board.NextStartAsync());
        }

        await job.StopAsync();

        var origin = starts[0].Scheduled;
        foreach (var start in starts)
        {
            var offset = start.Scheduled - origin;
            Assert.Equal(0, offset.Ticks % TimeSpan.FromMilliseconds(100).Ticks);
            Assert.True(start.Started >= start.Scheduled);
        }

        Assert.Equal(5, starts.Select(s => s.ExecutionId).Distinct().Count());
    }

    [Fact]
    public async Task CatalogListsDefinedJobs()
    {
        var board = Probe.NewBoard();
        var name = ClusterFixture.NewJobName("catalog");
        await fixture.Job(name).DefineProbeAsync(board);

        var names = await fixture.Grains.GetGrain<IJobCatalogGrain>(IJobCatalogGrain.Key).ListAsync(null, IJobCatalogGrain.MaxPageSize);

        Assert.Contains(name, names);
    }

    [Fact]
    public async Task RetriesWithBackoffUntilTheLastAttemptWhichStaysInTheHistory()
    {
        var board = Probe.NewBoard();
        var job = fixture.Job(ClusterFixture.NewJobName("retry"));
        await job.DefineProbeAsync(board, retry: new RetryPolicy { MaxAttempts = 3, InitialDelay = TimeSpan.FromMilliseconds(100), Jitter = 0 });
        await job.StartAsync();

        var id = await job.EnqueueAsync(JobArgs.From(new { run = board.Id, fail = true }));
        var done = await job.WaitFinishedAsync(id);

        Assert.Equal(JobStatus.InternalError, done.Status);
        Assert.Equal(3, done.Attempt);
        var history = (await job.GetHistoryAsync()).Reverse().ToList();
        Assert.Equal([1, 2, 3], history.Select(h => h.Attempt));
        Assert.All(history, h => Assert.Equal(id, h.ExecutionId));
        Assert.True(history[1].StartedAt - history[0].FinishedAt >= TimeSpan.FromMilliseconds(100));
        Assert.True(history[2].StartedAt - history[1].FinishedAt >= TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public async Task BadRequestIsNeverRetried()
    {
        var board = Probe.NewBoard();
        var job = fixture.Job(ClusterFixture.NewJobName("noretry"));
        await job.DefineProbeAsync(board, retry: new RetryPolicy { MaxAttempts = 3, InitialDelay = TimeSpan.FromMilliseconds(10) });
        await job.StartAsync();

        var done = await job.WaitFinishedAsync(await job.EnqueueAsync(Probe.Args(board, status: 400)));

        Assert.Equal(JobStatus.BadRequest, done.Status);
        Assert.Equal(1, done.Attempt);
        Assert.Single(await job.GetHistoryAsync());
    }

    [Fact]
    public async Task HandlerLongerThanTheResponseTimeoutFinishes()
    {
        var board = Probe.NewBoard();
        var job = fixture.Job(ClusterFixture.NewJobName("long"));
        await job.DefineProbeAsync(board);
        await job.StartAsync();
        var responseTimeout = fixture.Cluster.Client.ServiceProvider
            .GetRequiredService<Microsoft.Extensions.Options.IOptions<Orleans.Configuration.MessagingOptions>>().Value.ResponseTimeout;

        var ms = (int)(responseTimeout.TotalMilliseconds + 2_000);
        var id = await job.EnqueueAsync(Probe.Args(board, ms: ms));
        var done = await job.WaitFinishedAsync(id);

        Assert.Equal(JobStatus.Success, done.Status);
        Assert.True(done.Duration > responseTimeout);
    }

    [Fact]
    public async Task TimeoutIsEnforcedInTheCluster()
    {
        var board = Probe.NewBoard();
        var job = fixture.Job(ClusterFixture.NewJobName("timeout"));
        await job.DefineProbeAsync(board, timeout: TimeSpan.FromMilliseconds(200));
        await job.StartAsync();

        var done = await job.WaitFinishedAsync(await job.EnqueueAsync(Probe.Args(board, ms: 10_000, ignoreCancel: true)));

        Assert.Equal(JobStatus.Timeout, done.Status);
        Assert.True(done.Duration < TimeSpan.FromSeconds(5));
    }
}

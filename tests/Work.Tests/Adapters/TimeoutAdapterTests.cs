using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Work.Tests.Adapters;

public sealed class TimeoutAdapterTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task TimeoutSeenThroughTheTokenEndsAs408()
    {
        var started = Signal.New();
        await using var workers = new TestWorkers(w => w.AddHandler("wait", async ctx =>
        {
            started.TrySetResult();
            await Task.Delay(Timeout.Infinite, ctx.CancellationToken);
        }));
        var worker = await workers.StartAsync();

        var run = worker.PerformAsync(new Job("wait") { Timeout = s_timeout });
        await started.WaitAsync();
        workers.FakeTime.Advance(s_timeout);
        var execution = await run.Bounded();

        Assert.Equal(JobStatus.Timeout, execution.Status);
        Assert.Equal(s_timeout, execution.Duration);
        Assert.Contains("timeout", execution.Error, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task TimeoutEndsExecutionAsTimeoutEvenIfHandlerIgnoresToken()
    {
        var started = Signal.New();
        var release = Signal.New();
        var tokenFired = false;
        await using var workers = new TestWorkers(w => w.AddHandler("stubborn", async ctx =>
        {
            ctx.CancellationToken.Register(() => tokenFired = true);
            started.TrySetResult();
            await release.Task;
        }));
        var worker = await workers.StartAsync();
        using var abandoned = new MetricCollector<long>(workers.Services.GetInstruments().Abandoned);

        var run = worker.PerformAsync(new Job("stubborn") { Timeout = s_timeout });
        await started.WaitAsync();
        workers.FakeTime.Advance(s_timeout - TimeSpan.FromTicks(1));
        Assert.False(run.IsCompleted);
        workers.FakeTime.Advance(TimeSpan.FromTicks(1));
        var execution = await run.Bounded();

        Assert.Equal(JobStatus.Timeout, execution.Status);
        Assert.Equal(s_timeout, execution.Duration);
        Assert.True(tokenFired);
        Assert.Equal(1, abandoned.GetMeasurementSnapshot().EvaluateAsCounter());
        release.TrySetResult();
    }

    [Fact]
    public async Task AHandlerThatBlocksItsThreadStillEndsAt408AtTheDeadline()
    {
        var started = Signal.New();
        using var release = new ManualResetEventSlim();
        var returned = Signal.New();
        await using var workers = new TestWorkers(w => w.AddHandler("blocking", ctx =>
        {
            started.TrySetResult();

            // A synchronous call that ignores the token: the thread is blocked until the test lets it go.
            release.Wait();
            ctx.Status = JobStatus.Success;
            returned.TrySetResult();
            return Task.CompletedTask;
        }));
        var worker = await workers.StartAsync();
        using var abandoned = new MetricCollector<long>(workers.Services.GetInstruments().Abandoned);

        var run = Task.Run(() => worker.PerformAsync(new Job("blocking") { Timeout = s_timeout }));
        await started.WaitAsync();
        workers.FakeTime.Advance(s_timeout);
        var execution = await run.Bounded();

        Assert.Equal(JobStatus.Timeout, execution.Status);
        Assert.Equal(s_timeout, execution.Duration);
        Assert.Equal(1, abandoned.GetMeasurementSnapshot().EvaluateAsCounter());

        release.Set();
        await returned.Task.Bounded();
    }

    [Fact]
    public async Task HandlerFinishingBeforeTheDeadlineKeepsItsStatus()
    {
        await using var workers = new TestWorkers(w => w.AddHandler("quick", ctx =>
        {
            ctx.Status = JobStatus.NoResponse;
            return Task.CompletedTask;
        }));
        var worker = await workers.StartAsync();

        var execution = await worker.PerformAsync(new Job("quick") { Timeout = s_timeout });

        Assert.Equal(JobStatus.NoResponse, execution.Status);
        Assert.Null(execution.Error);
    }

    [Fact]
    public async Task HandlerFailingBeforeTheDeadlineIsInternalError()
    {
        await using var workers = new TestWorkers(w => w.AddHandler("fail", async ctx =>
        {
            await Task.Yield();
            throw new InvalidOperationException("failed early");
        }));
        var worker = await workers.StartAsync();

        var execution = await worker.PerformAsync(new Job("fail") { Timeout = s_timeout });

        Assert.Equal(JobStatus.InternalError, execution.Status);
        Assert.Equal("failed early", execution.Error);
    }
}

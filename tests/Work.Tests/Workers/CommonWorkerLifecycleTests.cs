using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Work.Pipeline;
using Work.Workers;

namespace Work.Tests.Workers;

public sealed class CommonWorkerLifecycleTests
{
    private static readonly JobHandler s_noop = _ => Task.CompletedTask;

    [Fact]
    public async Task PerformBeforeStartIsAnError()
    {
        await using var workers = new TestWorkers(w => w.AddHandler("x", s_noop));
        var worker = workers.Create();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => worker.PerformAsync(new Job("x")));
        Assert.Contains("not started", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await worker.EnqueueAsync(new Job("x")));
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await worker.PerformInAsync(new Job("x"), TimeSpan.FromSeconds(1)));
        Assert.Throws<InvalidOperationException>(() => worker.PerformEvery(new Job("x"), TimeSpan.FromSeconds(1)));
        Assert.Throws<InvalidOperationException>(() => worker.PerformReceive(new Job("x"), Channel.CreateUnbounded<int>().Reader));
    }

    [Fact]
    public async Task PerformAfterStopIsAnError()
    {
        await using var workers = new TestWorkers(w => w.AddHandler("x", s_noop));
        var worker = await workers.StartAsync();
        await worker.StopAsync();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => worker.PerformAsync(new Job("x")));
        Assert.Contains("stopped", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await worker.EnqueueAsync(new Job("x")));
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await worker.PerformAtAsync(new Job("x"), workers.Time.GetUtcNow().AddSeconds(1)));
        Assert.Throws<InvalidOperationException>(() => worker.PerformEvery(new Job("x"), TimeSpan.FromSeconds(1)));
        Assert.False(worker.IsRunning);
    }

    [Fact]
    public async Task StartingTwiceOrAfterStopIsAnError()
    {
        await using var workers = new TestWorkers();
        var worker = await workers.StartAsync();

        await Assert.ThrowsAsync<InvalidOperationException>(() => worker.StartAsync());
        await worker.StopAsync();
        await Assert.ThrowsAsync<InvalidOperationException>(() => worker.StartAsync());
    }

    [Fact]
    public async Task PerformCompletesBeforeStopReturns()
    {
        var started = Signal.New();
        var release = Signal.New();
        var finished = 0;
        await using var workers = new TestWorkers(w => w.AddHandler("slow", async _ =>
        {
            started.TrySetResult();
            await release.Task;
            Interlocked.Increment(ref finished);
        }));
        var worker = await workers.StartAsync();

        await worker.EnqueueAsync(new Job("slow"));
        await started.WaitAsync();
        var stop = worker.StopAsync();
        Assert.False(stop.IsCompleted);
        release.TrySetResult();
        await stop.Bounded();

        Assert.Equal(1, finished);
    }

    [Fact]
    public async Task StopSignalsInFlightTokensAndWaitsForThem()
    {
        var started = Signal.New();
        await using var workers = new TestWorkers(w => w.AddHandler("polite", async ctx =>
        {
            started.TrySetResult();
            await Task.Delay(Timeout.Infinite, ctx.CancellationToken);
        }));
        var worker = await workers.StartAsync();

        var run = worker.PerformAsync(new Job("polite"));
        await started.WaitAsync();
        await worker.StopAsync().Bounded();

        Assert.True(run.IsCompleted);
        var execution = await run;
        Assert.Equal(JobStatus.Unavailable, execution.Status);
    }

    [Fact]
    public async Task StopIsBoundedByTheShutdownTimeout()
    {
        var started = Signal.New();
        var never = Signal.New();
        await using var workers = new TestWorkers(
            w => w.AddHandler("stubborn", async _ =>
            {
                started.TrySetResult();
                await never.Task;
            }),
            services: s => s.Configure<WorkerOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(10)));
        var worker = await workers.StartAsync();

        await worker.EnqueueAsync(new Job("stubborn"));
        await started.WaitAsync();
        var stop = worker.StopAsync();
        Assert.False(stop.IsCompleted);
        await workers.FakeTime.AdvanceUntilAsync(TimeSpan.FromSeconds(10), stop);

        Assert.False(worker.IsRunning);
        never.TrySetResult();
    }

    [Fact]
    public async Task NoExecutionsStartAfterStop()
    {
        var count = 0;
        await using var workers = new TestWorkers(w => w.AddHandler("count", _ =>
        {
            Interlocked.Increment(ref count);
            return Task.CompletedTask;
        }));
        var worker = await workers.StartAsync();
        var loop = worker.PerformEvery(new Job("count"), TimeSpan.FromSeconds(1), new EveryOptions { Sync = true });
        for (var i = 0; i < 10; i++)
        {
            await worker.EnqueueAsync(new Job("count"));
        }

        await worker.StopAsync();
        var atStop = Volatile.Read(ref count);
        workers.FakeTime.Advance(TimeSpan.FromSeconds(30));
        await loop.Completion.Bounded();

        // The 10 accepted jobs ran before stop returned; the loop's first tick may or may not have come first.
        Assert.InRange(atStop, 10, 11);
        Assert.Equal(atStop, Volatile.Read(ref count));
    }

    [Fact]
    public async Task ThrowingHandlerDoesNotStopTheWorker()
    {
        await using var workers = new TestWorkers(w => w
            .AddHandler("throw", _ => throw new InvalidOperationException("x"))
            .AddHandler("ok", s_noop));
        var worker = await workers.StartAsync();
        var done = new CountdownSignal(5);
        var statuses = new ConcurrentBag<JobStatus>();
        worker.Register("report", ctx =>
        {
            done.Hit();
            return Task.CompletedTask;
        });

        for (var i = 0; i < 5; i++)
        {
            await worker.EnqueueAsync(new Job("throw"));
        }

        for (var i = 0; i < 5; i++)
        {
            await worker.EnqueueAsync(new Job("report"));
        }

        await done.WaitAsync();
        Assert.True(worker.IsRunning);
        Assert.Equal(JobStatus.Success, (await worker.PerformAsync(new Job("ok"))).Status);
    }

    [Fact]
    public async Task NoTwoExecutionsShareAContext()
    {
        var contexts = new ConcurrentBag<JobContext>();
        var done = new CountdownSignal(200);
        await using var workers = new TestWorkers(w => w.AddHandler("ctx", async ctx =>
        {
            Assert.False(ctx.Contains("mine"));
            ctx.Set("mine", ctx.ExecutionId);
            contexts.Add(ctx);
            await Task.Yield();
            Assert.True(ctx.TryGet<string>("mine", out var mine));
            Assert.Equal(ctx.ExecutionId, mine);
            done.Hit();
        }));
        var worker = await workers.StartAsync();

        var ids = new HashSet<string>();
        for (var i = 0; i < 200; i++)
        {
            ids.Add(await worker.EnqueueAsync(new Job("ctx")));
        }

        await done.WaitAsync();
        Assert.Equal(200, ids.Count);
        Assert.Equal(200, contexts.Distinct().Count());
        Assert.Equal(ids.Order(), contexts.Select(c => c.ExecutionId).Order());
    }

    [Fact]
    public async Task PerformReturnsTheFinishedExecution()
    {
        await using var workers = new TestWorkers(w => w.AddHandler("echo", ctx =>
        {
            ctx.Status = ctx.Args.Get<int>("n") > 0 ? JobStatus.Success : JobStatus.BadRequest;
            return Task.CompletedTask;
        }));
        var worker = await workers.StartAsync("w");

        var execution = await worker.PerformAsync(new Job("echo") { Args = JobArgs.From(new { n = 1 }), Queue = "q" });

        Assert.Equal(JobStatus.Success, execution.Status);
        Assert.Equal("echo", execution.Handler);
        Assert.Equal("q", execution.Queue);
        Assert.Equal("w", execution.Worker);
        Assert.Equal(1, execution.Attempt);
        Assert.Equal(workers.Time.GetUtcNow(), execution.FinishedAt);
        Assert.Equal(32, execution.ExecutionId.Length);
    }

    [Fact]
    public async Task InvalidWorkerOptionsAreNamedAtStart()
    {
        await using var workers = new TestWorkers(services: s => s.Configure<WorkerOptions>(o =>
        {
            o.MaxConcurrency = 0;
            o.ShutdownTimeout = TimeSpan.FromSeconds(-1);
        }));

        var error = Assert.Throws<OptionsValidationException>(() => workers.Factory.CreateWorker());
        Assert.Contains("MaxConcurrency", error.Message, StringComparison.Ordinal);
        Assert.Contains("ShutdownTimeout", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidJobIsRejectedBeforeAnythingRuns()
    {
        await using var workers = new TestWorkers();
        var worker = await workers.StartAsync();

        await Assert.ThrowsAsync<ArgumentException>(() => worker.PerformAsync(new Job("")));
        await Assert.ThrowsAsync<ArgumentException>(async () => await worker.EnqueueAsync(new Job("x") { Timeout = TimeSpan.FromSeconds(-1) }));
    }
}

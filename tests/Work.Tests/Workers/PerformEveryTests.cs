using System.Threading.Channels;
using Work.Workers;

namespace Work.Tests.Workers;

public sealed class PerformEveryTests
{
    private static readonly TimeSpan s_interval = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task RunsExactlyOncePerIntervalOnTheGrid(bool sync)
    {
        var runs = Channel.CreateUnbounded<(DateTimeOffset Scheduled, DateTimeOffset Started)>();
        await using var workers = new TestWorkers(w => w.AddHandler("tick", ctx =>
        {
            runs.Writer.TryWrite((ctx.ScheduledAt, ctx.StartedAt));
            return Task.CompletedTask;
        }));
        var worker = await workers.StartAsync();
        var start = workers.Time.GetUtcNow();

        var loop = worker.PerformEvery(new Job("tick"), s_interval, new EveryOptions { Sync = sync, RunImmediately = false });
        var seen = new List<(DateTimeOffset Scheduled, DateTimeOffset Started)>();
        for (var i = 1; i <= 100; i++)
        {
            workers.FakeTime.Advance(s_interval);
            seen.Add(await runs.Reader.ReadAsync().AsTask().Bounded());
        }

        loop.Cancel();
        await loop.Completion.Bounded();
        await worker.StopAsync();

        Assert.False(runs.Reader.TryRead(out _));
        Assert.Equal(100, seen.Count);
        Assert.Equal(100, loop.Runs);
        Assert.Equal(0, loop.SkippedTicks);
        Assert.Equal(Enumerable.Range(1, 100).Select(k => start + (s_interval * k)), seen.Select(r => r.Scheduled));
        Assert.All(seen, r => Assert.Equal(r.Scheduled, r.Started));
    }

    [Fact]
    public async Task FirstRunIsImmediateByDefault()
    {
        var ran = Signal.New<DateTimeOffset>();
        await using var workers = new TestWorkers(w => w.AddHandler("tick", ctx =>
        {
            ran.TrySetResult(ctx.StartedAt);
            return Task.CompletedTask;
        }));
        var worker = await workers.StartAsync();
        var start = workers.Time.GetUtcNow();

        worker.PerformEvery(new Job("tick"), s_interval);

        Assert.Equal(start, await ran.WaitAsync());
    }

    [Fact]
    public async Task SyncSkipsAndCountsTicksThatComeDuringARun()
    {
        var firstStarted = Signal.New();
        var releaseFirst = Signal.New();
        var runs = Channel.CreateUnbounded<DateTimeOffset>();
        var calls = 0;
        await using var workers = new TestWorkers(w => w.AddHandler("slow", async ctx =>
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                firstStarted.TrySetResult();
                await releaseFirst.Task;
            }

            runs.Writer.TryWrite(ctx.ScheduledAt);
        }));
        var worker = await workers.StartAsync();
        var start = workers.Time.GetUtcNow();

        var loop = worker.PerformEvery(new Job("slow"), s_interval, new EveryOptions { Sync = true });
        await firstStarted.WaitAsync();
        workers.FakeTime.Advance(s_interval * 3.5);
        releaseFirst.TrySetResult();
        Assert.Equal(start, await runs.Reader.ReadAsync().AsTask().Bounded());
        await Eventually.TrueAsync(() => loop.NextDueAt == start + (s_interval * 4), "the loop to wait for the next grid point");
        workers.FakeTime.Advance(s_interval / 2);

        Assert.Equal(start + (s_interval * 4), await runs.Reader.ReadAsync().AsTask().Bounded());
        Assert.Equal(3, loop.SkippedTicks);
        Assert.Equal(2, loop.Runs);
    }

    [Fact]
    public async Task AsyncRunsOverlap()
    {
        var firstRunning = Signal.New();
        var bothRunning = new CountdownSignal(2);
        var release = Signal.New();
        var running = 0;
        var maxRunning = 0;
        await using var workers = new TestWorkers(w => w.AddHandler("overlap", async _ =>
        {
            var now = Interlocked.Increment(ref running);
            InterlockedMax(ref maxRunning, now);
            firstRunning.TrySetResult();
            bothRunning.Hit();
            await release.Task;
            Interlocked.Decrement(ref running);
        }));
        var worker = await workers.StartAsync();

        var loop = worker.PerformEvery(new Job("overlap"), s_interval, new EveryOptions { Sync = false });
        await firstRunning.WaitAsync();
        workers.FakeTime.Advance(s_interval);
        await bothRunning.WaitAsync();
        release.TrySetResult();
        loop.Cancel();
        await loop.Completion.Bounded();

        Assert.Equal(2, maxRunning);
        Assert.Equal(2, loop.Runs);
        Assert.Equal(0, loop.SkippedTicks);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public async Task NonPositiveIntervalIsAnError(int seconds)
    {
        await using var workers = new TestWorkers();
        var worker = await workers.StartAsync();

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => worker.PerformEvery(new Job("x"), TimeSpan.FromSeconds(seconds)));
        Assert.Equal("interval", error.ParamName);
    }

    [Fact]
    public async Task StopEndsTheLoop()
    {
        var ran = Signal.New();
        await using var workers = new TestWorkers(w => w.AddHandler("tick", _ =>
        {
            ran.TrySetResult();
            return Task.CompletedTask;
        }));
        var worker = await workers.StartAsync();

        var loop = worker.PerformEvery(new Job("tick"), s_interval, new EveryOptions { Sync = true });
        await ran.WaitAsync();
        await worker.StopAsync();

        Assert.True(loop.Completion.IsCompleted);
        Assert.Null(loop.NextDueAt);
        Assert.Equal(1, loop.Runs);
    }

    internal static void InterlockedMax(ref int target, int value)
    {
        var current = Volatile.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}

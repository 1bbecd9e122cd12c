using System.Collections.Concurrent;
using System.Threading.Channels;
using Work.Workers;

namespace Work.Tests.Workers;

public sealed class ConcurrentJobTests
{
    private static ConcurrentJob Create(TestWorkers workers, ConcurrentJobOptions options, string handler = "work") =>
        new("job", new Job(handler), options, workers.Factory);

    [Fact]
    public async Task BadArgumentsAreRejectedNamingEachProblem()
    {
        await using var workers = new TestWorkers();

        var error = Assert.Throws<ArgumentException>(() => Create(workers, new ConcurrentJobOptions
        {
            PerformWith = PerformWith.Every,
            MaxWorkers = 0,
            Interval = TimeSpan.Zero,
            StartInterval = TimeSpan.FromSeconds(-1),
        }));
        Assert.Contains("MaxWorkers", error.Message, StringComparison.Ordinal);
        Assert.Contains("Interval", error.Message, StringComparison.Ordinal);
        Assert.Contains("StartInterval", error.Message, StringComparison.Ordinal);

        var receive = Assert.Throws<ArgumentException>(() => Create(workers, new ConcurrentJobOptions { PerformWith = PerformWith.Receive }));
        Assert.Contains("Source", receive.Message, StringComparison.Ordinal);

        var name = Assert.Throws<ArgumentException>(() => new ConcurrentJob(" ", new Job("x"), new ConcurrentJobOptions(), workers.Factory));
        Assert.Contains("name", name.Message, StringComparison.Ordinal);

        Assert.Throws<ArgumentException>(() => new ConcurrentJob("j", new Job(""), new ConcurrentJobOptions(), workers.Factory));
    }

    [Fact]
    public async Task WorkerKStartsAtKTimesStartInterval()
    {
        var starts = Channel.CreateUnbounded<DateTimeOffset>();
        await using var workers = new TestWorkers(w => w.AddHandler("work", ctx =>
        {
            starts.Writer.TryWrite(ctx.StartedAt);
            return Task.CompletedTask;
        }));
        var start = workers.Time.GetUtcNow();
        await using var job = Create(workers, new ConcurrentJobOptions
        {
            PerformWith = PerformWith.Every,
            Interval = TimeSpan.FromHours(1),
            MaxWorkers = 4,
            StartInterval = TimeSpan.FromSeconds(10),
        });

        job.Start();
        Assert.Equal(start, await starts.Reader.ReadAsync().AsTask().Bounded());
        Assert.Equal(1, job.RunningWorkers);
        for (var k = 1; k < 4; k++)
        {
            workers.FakeTime.Advance(TimeSpan.FromSeconds(10) - TimeSpan.FromTicks(1));
            Assert.False(starts.Reader.TryRead(out _));
            workers.FakeTime.Advance(TimeSpan.FromTicks(1));
            Assert.Equal(start + TimeSpan.FromSeconds(10 * k), await starts.Reader.ReadAsync().AsTask().Bounded());
            Assert.Equal(k + 1, job.RunningWorkers);
        }

        await job.StopAsync().Bounded();
        await job.Completion.Bounded();
        Assert.Equal(0, job.RunningWorkers);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ObservedConcurrencyReachesMaxWorkersAndNeverExceedsIt(bool sync)
    {
        const int MaxWorkers = 8;
        var running = 0;
        var max = 0;
        var full = Signal.New();
        var handled = 0;
        await using var workers = new TestWorkers(w => w.AddHandler("work", async _ =>
        {
            var now = Interlocked.Increment(ref running);
            PerformEveryTests.InterlockedMax(ref max, now);
            if (now == MaxWorkers)
            {
                full.TrySetResult();
            }

            await full.Task;
            await Task.Yield();
            Interlocked.Decrement(ref running);
            Interlocked.Increment(ref handled);
        }));
        var source = Channel.CreateUnbounded<int>();
        for (var i = 0; i < 500; i++)
        {
            source.Writer.TryWrite(i);
        }

        source.Writer.Complete();
        await using var job = Create(workers, new ConcurrentJobOptions
        {
            PerformWith = PerformWith.Receive,
            Source = JobSource.From(source.Reader),
            MaxWorkers = MaxWorkers,
            Sync = sync,
        });

        job.Start();
        await job.Completion.Bounded();

        Assert.Equal(MaxWorkers, max);
        Assert.Equal(500, handled);
        Assert.Equal(500, job.Executions);
    }

    [Theory]
    [InlineData(PerformWith.Once, true)]
    [InlineData(PerformWith.Once, false)]
    [InlineData(PerformWith.Every, true)]
    [InlineData(PerformWith.Every, false)]
    [InlineData(PerformWith.Receive, true)]
    [InlineData(PerformWith.Receive, false)]
    public async Task EveryModeWorksSyncAndAsync(PerformWith mode, bool sync)
    {
        const int MaxWorkers = 3;
        var executions = Channel.CreateUnbounded<(string? JobName, object? Item)>();
        await using var workers = new TestWorkers(w => w.AddHandler("work", ctx =>
        {
            executions.Writer.TryWrite((ctx.JobName, ctx.Item));
            return Task.CompletedTask;
        }));
        var source = Channel.CreateUnbounded<int>();
        await using var job = Create(workers, new ConcurrentJobOptions
        {
            PerformWith = mode,
            Sync = sync,
            MaxWorkers = MaxWorkers,
            Interval = TimeSpan.FromSeconds(1),
            Source = JobSource.From(source.Reader),
        });

        job.Start();
        var expected = mode switch
        {
            PerformWith.Once => MaxWorkers,
            PerformWith.Every => MaxWorkers * 3,
            _ => 10,
        };
        if (mode == PerformWith.Receive)
        {
            for (var i = 0; i < 10; i++)
            {
                await source.Writer.WriteAsync(i);
            }

            source.Writer.Complete();
        }

        var seen = new List<(string? JobName, object? Item)>();
        while (seen.Count < expected)
        {
            if (mode == PerformWith.Every && seen.Count > 0 && seen.Count % MaxWorkers == 0)
            {
                workers.FakeTime.Advance(TimeSpan.FromSeconds(1));
            }

            seen.Add(await executions.Reader.ReadAsync().AsTask().Bounded());
        }

        if (mode != PerformWith.Every)
        {
            await job.Completion.Bounded();
            Assert.Equal(0, job.RunningWorkers);
        }

        await job.StopAsync().Bounded();
        Assert.False(executions.Reader.TryRead(out _));
        Assert.All(seen, e => Assert.Equal("job", e.JobName));
        if (mode == PerformWith.Receive)
        {
            Assert.Equal(Enumerable.Range(0, 10), seen.Select(e => (int)e.Item!).Order());
        }
    }

    [Fact]
    public async Task StartDoesNotBlockTheCaller()
    {
        var release = Signal.New();
        var started = Signal.New();
        await using var workers = new TestWorkers(w => w.AddHandler("work", _ =>
        {
            started.TrySetResult();
            release.Task.Wait();
            return Task.CompletedTask;
        }));
        await using var job = Create(workers, new ConcurrentJobOptions { MaxWorkers = 1 });

        job.Start();
        Assert.False(release.Task.IsCompleted);
        await started.WaitAsync();
        release.TrySetResult();
        await job.Completion.Bounded();
        Assert.Equal(1, job.Executions);
    }

    [Fact]
    public async Task StartingTwiceIsAnError()
    {
        await using var workers = new TestWorkers(w => w.AddHandler("work", _ => Task.CompletedTask));
        await using var job = Create(workers, new ConcurrentJobOptions());

        job.Start();
        Assert.Throws<InvalidOperationException>(job.Start);
    }

    [Fact]
    public async Task NoExecutionsAfterStopAndRampEnds()
    {
        var count = 0;
        var first = Signal.New();
        await using var workers = new TestWorkers(w => w.AddHandler("work", _ =>
        {
            Interlocked.Increment(ref count);
            first.TrySetResult();
            return Task.CompletedTask;
        }));
        await using var job = Create(workers, new ConcurrentJobOptions
        {
            PerformWith = PerformWith.Every,
            Interval = TimeSpan.FromSeconds(1),
            MaxWorkers = 5,
            StartInterval = TimeSpan.FromMinutes(1),
        });

        job.Start();
        await first.WaitAsync();
        await job.StopAsync().Bounded();
        await job.Completion.Bounded();
        var atStop = Volatile.Read(ref count);
        workers.FakeTime.Advance(TimeSpan.FromMinutes(10));

        Assert.Equal(1, atStop);
        Assert.Equal(atStop, Volatile.Read(ref count));
        Assert.Equal(0, job.RunningWorkers);
    }

    [Fact]
    public async Task AsyncEveryTicksWithNoFreeWorkerAreSkippedAndCounted()
    {
        var release = Signal.New();
        var started = Signal.New();
        await using var workers = new TestWorkers(w => w.AddHandler("work", async _ =>
        {
            started.TrySetResult();
            await release.Task;
        }));
        await using var job = Create(workers, new ConcurrentJobOptions
        {
            PerformWith = PerformWith.Every,
            Interval = TimeSpan.FromSeconds(1),
            MaxWorkers = 1,
            Sync = false,
        });

        job.Start();
        await started.WaitAsync();
        for (var i = 1; i <= 3; i++)
        {
            workers.FakeTime.Advance(TimeSpan.FromSeconds(1));
            var expected = i;
            await Eventually.TrueAsync(() => job.SkippedTicks == expected, $"tick {expected} to be skipped");
        }

        release.TrySetResult();
        await job.StopAsync().Bounded();
        await job.Completion.Bounded();

        Assert.Equal(1, job.Executions);
        Assert.Equal(3, job.SkippedTicks);
    }

    [Fact]
    public async Task RegisterAddsHandlersToTheJobsWorker()
    {
        await using var workers = new TestWorkers();
        var ran = new ConcurrentBag<string>();
        await using var job = new ConcurrentJob("own", new Job("mine"), new ConcurrentJobOptions { MaxWorkers = 2 }, workers.Factory);
        job.Register("mine", ctx =>
        {
            ran.Add(ctx.ExecutionId);
            return Task.CompletedTask;
        });

        job.Start();
        await job.Completion.Bounded();

        Assert.Equal(2, ran.Distinct().Count());
    }
}

using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Work.Workers;

namespace Work.Tests.Workers;

public sealed class PerformAtTests
{
    private sealed class Recorder
    {
        public ConcurrentQueue<(string Handler, DateTimeOffset Scheduled, DateTimeOffset Started)> Runs { get; } = new();

        public TaskCompletionSource<string> Next { get; set; } = Signal.New<string>();
    }

    private static TestWorkers Workers(Recorder recorder, int maxConcurrency = 64) => new(
        w =>
        {
            foreach (var name in new[] { "a", "b" })
            {
                w.AddHandler(name, ctx =>
                {
                    recorder.Runs.Enqueue((ctx.Handler, ctx.ScheduledAt, ctx.StartedAt));
                    recorder.Next.TrySetResult(ctx.ExecutionId);
                    return Task.CompletedTask;
                });
            }
        },
        services: s => s.Configure<WorkerOptions>(o => o.MaxConcurrency = maxConcurrency));

    [Fact]
    public async Task PerformInFiresAfterTheDelayAndNotBefore()
    {
        var recorder = new Recorder();
        await using var workers = Workers(recorder);
        var worker = await workers.StartAsync();
        var due = workers.Time.GetUtcNow().AddSeconds(5);

        var id = await worker.PerformInAsync(new Job("a"), TimeSpan.FromSeconds(5));
        workers.FakeTime.Advance(TimeSpan.FromSeconds(5) - TimeSpan.FromTicks(1));
        Assert.Empty(recorder.Runs);
        workers.FakeTime.Advance(TimeSpan.FromTicks(1));

        Assert.Equal(id, await recorder.Next.WaitAsync());
        var run = Assert.Single(recorder.Runs);
        Assert.Equal(due, run.Scheduled);
        Assert.Equal(due, run.Started);
    }

    [Fact]
    public async Task PerformAtFiresAtTheTime()
    {
        var recorder = new Recorder();
        await using var workers = Workers(recorder);
        var worker = await workers.StartAsync();
        var at = workers.Time.GetUtcNow().AddMinutes(3);

        var id = await worker.PerformAtAsync(new Job("a"), at);
        workers.FakeTime.Advance(TimeSpan.FromMinutes(3));

        Assert.Equal(id, await recorder.Next.WaitAsync());
        Assert.Equal(at, Assert.Single(recorder.Runs).Started);
    }

    [Fact]
    public async Task TimeInThePastFiresNow()
    {
        var recorder = new Recorder();
        await using var workers = Workers(recorder);
        var worker = await workers.StartAsync();
        var past = workers.Time.GetUtcNow().AddHours(-1);

        var id = await worker.PerformAtAsync(new Job("a"), past);

        Assert.Equal(id, await recorder.Next.WaitAsync());
        var run = Assert.Single(recorder.Runs);
        Assert.Equal(past, run.Scheduled);
        Assert.Equal(workers.Time.GetUtcNow(), run.Started);
    }

    [Fact]
    public async Task DefaultTimeIsAnError()
    {
        await using var workers = Workers(new Recorder());
        var worker = await workers.StartAsync();

        var error = await Assert.ThrowsAsync<ArgumentException>(async () => await worker.PerformAtAsync(new Job("a"), default));
        Assert.Equal("time", error.ParamName);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public async Task NonPositiveDelayIsAnError(int seconds)
    {
        await using var workers = Workers(new Recorder());
        var worker = await workers.StartAsync();

        var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(
            async () => await worker.PerformInAsync(new Job("a"), TimeSpan.FromSeconds(seconds)));
        Assert.Equal("delay", error.ParamName);
    }

    [Fact]
    public async Task CancelledOneShotNeverRuns()
    {
        var recorder = new Recorder();
        await using var workers = Workers(recorder, maxConcurrency: 1);
        var worker = await workers.StartAsync();

        var cancelled = await worker.PerformInAsync(new Job("a"), TimeSpan.FromSeconds(1));
        var kept = await worker.PerformInAsync(new Job("b"), TimeSpan.FromSeconds(2));
        Assert.True(worker.CancelScheduled(cancelled));
        Assert.False(worker.CancelScheduled(cancelled));
        workers.FakeTime.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal(kept, await recorder.Next.WaitAsync());
        Assert.Equal(["b"], recorder.Runs.Select(r => r.Handler));
    }

    [Fact]
    public async Task StopCancelsPendingOneShots()
    {
        var recorder = new Recorder();
        await using var workers = Workers(recorder);
        var worker = await workers.StartAsync();

        var id = await worker.PerformInAsync(new Job("a"), TimeSpan.FromSeconds(1));
        await worker.StopAsync();
        workers.FakeTime.Advance(TimeSpan.FromSeconds(5));

        Assert.False(worker.CancelScheduled(id));
        Assert.Empty(recorder.Runs);
    }

    [Fact]
    public async Task ManyOneShotsFireInDueOrderOnOneConsumer()
    {
        var recorder = new Recorder();
        await using var workers = Workers(recorder, maxConcurrency: 1);
        var worker = await workers.StartAsync();
        var start = workers.Time.GetUtcNow();

        for (var i = 10; i >= 1; i--)
        {
            await worker.PerformInAsync(new Job("a"), TimeSpan.FromSeconds(i));
        }

        var last = Signal.New();
        worker.Register("last", _ =>
        {
            last.TrySetResult();
            return Task.CompletedTask;
        });
        await worker.PerformInAsync(new Job("last"), TimeSpan.FromSeconds(11));
        for (var i = 0; i < 11; i++)
        {
            workers.FakeTime.Advance(TimeSpan.FromSeconds(1));
        }

        await last.WaitAsync();
        Assert.Equal(Enumerable.Range(1, 10).Select(i => start.AddSeconds(i)), recorder.Runs.Select(r => r.Scheduled));
    }
}

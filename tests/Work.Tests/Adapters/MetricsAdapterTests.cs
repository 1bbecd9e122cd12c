using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Work.Diagnostics;

namespace Work.Tests.Adapters;

public sealed class MetricsAdapterTests
{
    [Fact]
    public async Task CountsExecutionsByHandlerAndStatus()
    {
        await using var workers = new TestWorkers(w => w.UseMetrics()
            .AddHandler("ok", _ => Task.CompletedTask)
            .AddHandler("boom", _ => throw new InvalidOperationException()));
        var instruments = workers.Services.GetInstruments();
        using var executions = new MetricCollector<long>(instruments.Executions);
        using var duration = new MetricCollector<double>(instruments.Duration);
        var worker = await workers.StartAsync();

        await worker.PerformAsync(new Job("ok"));
        await worker.PerformAsync(new Job("ok"));
        await worker.PerformAsync(new Job("boom"));

        var measurements = executions.GetMeasurementSnapshot();
        Assert.Equal(2, measurements.Where(m => m.Tags[WorkDiagnostics.HandlerTag] is "ok").Sum(m => m.Value));
        var failure = Assert.Single(measurements, m => m.Tags[WorkDiagnostics.StatusTag] is "500");
        Assert.Equal("boom", failure.Tags[WorkDiagnostics.HandlerTag]);
        Assert.Equal(typeof(InvalidOperationException).FullName, failure.Tags[WorkDiagnostics.ErrorTypeTag]);
        Assert.All(measurements.Where(m => m.Tags[WorkDiagnostics.StatusTag] is "200"), m => Assert.False(m.Tags.ContainsKey(WorkDiagnostics.ErrorTypeTag)));
        Assert.Equal(3, duration.GetMeasurementSnapshot().Count);
        Assert.Equal("s", instruments.Duration.Unit);
    }

    [Fact]
    public async Task DurationIsInSecondsFromTheClock()
    {
        var started = Signal.New();
        var release = Signal.New();
        await using var workers = new TestWorkers(w => w.UseMetrics().AddHandler("slow", async _ =>
        {
            started.TrySetResult();
            await release.Task;
        }));
        using var duration = new MetricCollector<double>(workers.Services.GetInstruments().Duration);
        var worker = await workers.StartAsync();

        var run = worker.PerformAsync(new Job("slow"));
        await started.WaitAsync();
        workers.FakeTime.Advance(TimeSpan.FromMilliseconds(1500));
        release.TrySetResult();
        await run.Bounded();

        Assert.Equal(1.5, Assert.Single(duration.GetMeasurementSnapshot()).Value, 6);
    }

    [Fact]
    public async Task ActiveCountsExecutionsInFlight()
    {
        var started = Signal.New();
        var release = Signal.New();
        await using var workers = new TestWorkers(w => w.UseMetrics().AddHandler("slow", async _ =>
        {
            started.TrySetResult();
            await release.Task;
        }));
        using var active = new MetricCollector<long>(workers.Services.GetInstruments().Active);
        var worker = await workers.StartAsync();

        var run = worker.PerformAsync(new Job("slow") { Queue = "q1" });
        await started.WaitAsync();
        Assert.Equal(1, active.GetMeasurementSnapshot().EvaluateAsCounter());
        release.TrySetResult();
        await run.Bounded();

        Assert.Equal(0, active.GetMeasurementSnapshot().EvaluateAsCounter());
        Assert.All(active.GetMeasurementSnapshot(), m => Assert.Equal("q1", m.Tags[WorkDiagnostics.QueueTag]));
    }

    [Fact]
    public async Task LatenessIsRecordedAgainstTheDueTime()
    {
        var ran = Signal.New();
        await using var workers = new TestWorkers(w => w.UseMetrics().AddHandler("late", _ =>
        {
            ran.TrySetResult();
            return Task.CompletedTask;
        }));
        using var lateness = new MetricCollector<double>(workers.Services.GetInstruments().Lateness);
        var worker = await workers.StartAsync();

        await worker.PerformAsync(new Job("late"), new Work.Workers.PerformOptions { ScheduledAt = workers.Time.GetUtcNow() - TimeSpan.FromSeconds(2) });

        Assert.Equal(2.0, Assert.Single(lateness.GetMeasurementSnapshot()).Value, 6);
    }
}

using System.Collections.Concurrent;
using System.Diagnostics;
using Work.Diagnostics;

namespace Work.Tests.Adapters;

[Collection(TracingCollection.Name)]
public sealed class TracingAdapterTests : IDisposable
{
    private readonly ConcurrentQueue<Activity> _stopped = new();
    private readonly ActivityListener _listener;

    public TracingAdapterTests()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == WorkDiagnostics.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public void Dispose() => _listener.Dispose();

    [Fact]
    public async Task OneConsumerSpanPerExecutionTaggedWithHandlerAndStatus()
    {
        await using var workers = new TestWorkers(w => w.UseTracing().AddHandler("traced", ctx =>
        {
            ctx.Status = JobStatus.NoResponse;
            return Task.CompletedTask;
        }));
        var worker = await workers.StartAsync();

        var execution = await worker.PerformAsync(new Job("traced"));

        var span = Assert.Single(_stopped, a => (string?)a.GetTagItem(WorkDiagnostics.ExecutionIdTag) == execution.ExecutionId);
        Assert.Equal(ActivityKind.Consumer, span.Kind);
        Assert.Equal("traced", span.GetTagItem(WorkDiagnostics.HandlerTag));
        Assert.Equal(444, span.GetTagItem(WorkDiagnostics.StatusTag));
        Assert.Equal(ActivityStatusCode.Unset, span.Status);
    }

    [Fact]
    public async Task FailedExecutionMarksTheSpanAsError()
    {
        await using var workers = new TestWorkers(w => w.UseTracing().AddHandler("boom", _ => throw new InvalidOperationException("boom")));
        var worker = await workers.StartAsync();

        var execution = await worker.PerformAsync(new Job("boom"));

        var span = Assert.Single(_stopped, a => (string?)a.GetTagItem(WorkDiagnostics.ExecutionIdTag) == execution.ExecutionId);
        Assert.Equal(ActivityStatusCode.Error, span.Status);
        Assert.Equal("boom", span.StatusDescription);
        Assert.Equal(typeof(InvalidOperationException).FullName, span.GetTagItem(WorkDiagnostics.ErrorTypeTag));
    }

    [Fact]
    public async Task SpanIsParentedToTheTraceContextTheJobCarries()
    {
        await using var workers = new TestWorkers(w => w.UseTracing().AddHandler("child", _ => Task.CompletedTask));
        var worker = await workers.StartAsync();
        var traceId = ActivityTraceId.CreateRandom();
        var parentSpan = ActivitySpanId.CreateRandom();
        var job = new Job("child") { TraceParent = $"00-{traceId}-{parentSpan}-01" };

        var execution = await worker.PerformAsync(job);

        var span = Assert.Single(_stopped, a => (string?)a.GetTagItem(WorkDiagnostics.ExecutionIdTag) == execution.ExecutionId);
        Assert.Equal(traceId, span.TraceId);
        Assert.Equal(parentSpan, span.ParentSpanId);
        Assert.Equal(ActivityStatusCode.Unset, span.Status);
    }

    [Fact]
    public async Task ScheduledJobCarriesTheProducerSpanToItsExecution()
    {
        var ran = Signal.New<string>();
        await using var workers = new TestWorkers(w => w.UseTracing().AddHandler("later", ctx =>
        {
            ran.TrySetResult(ctx.ExecutionId);
            return Task.CompletedTask;
        }));
        var worker = await workers.StartAsync();
        using var caller = new Activity("request").SetIdFormat(ActivityIdFormat.W3C).Start();

        await worker.PerformInAsync(new Job("later"), TimeSpan.FromSeconds(1));
        caller.Stop();
        workers.FakeTime.Advance(TimeSpan.FromSeconds(1));
        var executionId = await ran.WaitAsync();

        var producer = Assert.Single(_stopped, a => a.Kind == ActivityKind.Producer && a.TraceId == caller.TraceId);
        await WaitForSpanAsync(executionId);
        var consumer = Assert.Single(_stopped, a => (string?)a.GetTagItem(WorkDiagnostics.ExecutionIdTag) == executionId);
        Assert.Equal(caller.TraceId, consumer.TraceId);
        Assert.Equal(producer.SpanId, consumer.ParentSpanId);
    }

    private async Task WaitForSpanAsync(string executionId)
    {
        // The span stops when the pipeline unwinds, just after the handler signalled.
        using var timeout = new CancellationTokenSource(Signal.SafetyBound);
        while (!_stopped.Any(a => (string?)a.GetTagItem(WorkDiagnostics.ExecutionIdTag) == executionId))
        {
            await Task.Yield();
            timeout.Token.ThrowIfCancellationRequested();
        }
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TracingCollection
{
    public const string Name = "tracing";
}

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Work.Diagnostics;

namespace Work.Cluster.Tests;

[Collection(ClusterCollection.Name)]
public sealed class TelemetryTests(ClusterFixture fixture) : IDisposable
{
    private readonly ConcurrentQueue<Activity> _spans = new();
    private readonly ConcurrentQueue<(string Instrument, string? Method)> _measurements = new();
    private readonly ActivityListener _activities = new()
    {
        // Orleans carries the trace context between client and silo through its own source, as an OpenTelemetry setup would listen to.
        ShouldListenTo = source => source.Name == WorkDiagnostics.SourceName || source.Name.StartsWith("Microsoft.Orleans", StringComparison.Ordinal),
        Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
    };

    private readonly MeterListener _meters = new();

    private void Listen()
    {
        _activities.ActivityStopped = _spans.Enqueue;
        ActivitySource.AddActivityListener(_activities);
        _meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == WorkDiagnostics.MeterName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _meters.SetMeasurementEventCallback<long>((instrument, _, tags, _) =>
        {
            string? method = null;
            foreach (var tag in tags)
            {
                if (tag.Key == WorkDiagnostics.GrainMethodTag)
                {
                    method = tag.Value as string;
                }
            }

            _measurements.Enqueue((instrument.Name, method));
        });
        _meters.Start();
    }

    public void Dispose()
    {
        _activities.Dispose();
        _meters.Dispose();
    }

    [Fact]
    public async Task GrainCallsAreMeasuredAndTracedAndTheExecutionLinksToTheRequestThatScheduledIt()
    {
        Listen();
        var board = Probe.NewBoard();
        var job = fixture.Job(ClusterFixture.NewJobName("telemetry"));
        await job.DefineProbeAsync(board);
        await job.StartAsync();

        using var request = new Activity("http request").SetIdFormat(ActivityIdFormat.W3C).Start();
        var id = await job.EnqueueAsync();
        request.Stop();
        await job.WaitFinishedAsync(id);

        var start = Assert.Single(board.Started);
        Assert.True(ActivityContext.TryParse(start.TraceParent, null, out var carried));
        Assert.Equal(request.TraceId, carried.TraceId);

        var execute = Assert.Single(_spans, s => (string?)s.GetTagItem(WorkDiagnostics.ExecutionIdTag) == id);
        Assert.Equal(request.TraceId, execute.TraceId);
        var producer = Assert.Single(_spans, s => s.Kind == ActivityKind.Producer && s.SpanId == execute.ParentSpanId);
        Assert.Equal(request.TraceId, producer.TraceId);
        Assert.Contains(_spans, s => s.Kind == ActivityKind.Server && s.DisplayName == "Work.Cluster.IConcurrentJobGrain/EnqueueAsync");

        var calls = _measurements.Where(m => m.Instrument == "work.grain.calls").Select(m => m.Method).ToHashSet();
        Assert.Contains("DefineAsync", calls);
        Assert.Contains("EnqueueAsync", calls);
        Assert.Contains("ExecuteAsync", calls);
        Assert.Contains(_measurements, m => m.Instrument == "work.job.executions");
    }

    [Fact]
    public async Task PerformsSharingAClientCallEachLinkToTheirOwnRequest()
    {
        Listen();
        var board = Probe.NewBoard();
        var name = ClusterFixture.NewJobName("telemetry-many");
        var client = new Client.WorkClient(fixture.Cluster.Client);
        await client.DefineAsync(name, new JobDefinition(new Job(Probe.Handler) { Args = Probe.Args(board) }) { MaxWorkers = 4 });
        await client.StartAsync(name);

        var requests = new List<Activity>();
        var performs = new List<Task<string>>();
        for (var i = 0; i < 20; i++)
        {
            var request = new Activity($"http request {i}").SetIdFormat(ActivityIdFormat.W3C).Start();
            requests.Add(request);
            performs.Add(client.EnqueueAsync(name));
            request.Stop();
        }

        var ids = await Task.WhenAll(performs);
        await Task.WhenAll(ids.Select(id => client.WaitAsync(name, id)));

        for (var i = 0; i < ids.Length; i++)
        {
            var start = Assert.Single(board.Started, s => s.ExecutionId == ids[i]);
            Assert.True(ActivityContext.TryParse(start.TraceParent, null, out var carried));
            Assert.Equal(requests[i].TraceId, carried.TraceId);
            var producer = Assert.Single(_spans, s => s.Kind == ActivityKind.Producer && s.TraceId == requests[i].TraceId);
            Assert.Equal(requests[i].SpanId, producer.ParentSpanId);
        }

        Assert.Contains(_measurements, m => m.Instrument == "work.grain.calls" && m.Method == "PerformManyAsync");
    }
}

using System.Diagnostics;

namespace Work.Diagnostics;

/// <summary>
/// The product's stable telemetry names and its one <see cref="ActivitySource"/>. Subscribe to
/// <see cref="SourceName"/> for traces and <see cref="MeterName"/> for metrics.
/// </summary>
public static class WorkDiagnostics
{
    /// <summary>The name of the ActivitySource.</summary>
    public const string SourceName = "Work.Orleans";

    /// <summary>The name of the Meter.</summary>
    public const string MeterName = "Work.Orleans";

    /// <summary>Tag: the handler name.</summary>
    public const string HandlerTag = "work.job.handler";

    /// <summary>Tag: the queue.</summary>
    public const string QueueTag = "work.job.queue";

    /// <summary>Tag: the final status code.</summary>
    public const string StatusTag = "work.job.status";

    /// <summary>Tag: the name of the concurrent job or job grain.</summary>
    public const string JobNameTag = "work.job.name";

    /// <summary>Span tag: the execution id (never a metric tag).</summary>
    public const string ExecutionIdTag = "work.execution.id";

    /// <summary>Span tag: the attempt number.</summary>
    public const string AttemptTag = "work.execution.attempt";

    /// <summary>Tag: the grain interface of a call.</summary>
    public const string GrainInterfaceTag = "work.grain.interface";

    /// <summary>Tag: the grain method of a call.</summary>
    public const string GrainMethodTag = "work.grain.method";

    /// <summary>Tag: the type of error, on failures only (OpenTelemetry's <c>error.type</c>).</summary>
    public const string ErrorTypeTag = "error.type";

    internal static readonly ActivitySource Source = new(SourceName);

    /// <summary>
    /// Starts the producer span for scheduling <paramref name="job"/> and returns the job carrying that span's trace
    /// context, so its executions link to it. Returns the job unchanged when nothing listens and no trace is active.
    /// </summary>
    public static Job StampTraceContext(Job job, string operation)
    {
        ArgumentNullException.ThrowIfNull(job);
        if (job.TraceParent is not null)
        {
            return job;
        }

        using var activity = Source.HasListeners()
            ? Source.StartActivity($"{operation} {job.Handler}", ActivityKind.Producer)
            : null;
        activity?.SetTag(HandlerTag, job.Handler);
        activity?.SetTag(QueueTag, job.Queue);
        var current = activity ?? Activity.Current;
        return current is null || current.IdFormat != ActivityIdFormat.W3C
            ? job
            : job with { TraceParent = current.Id, TraceState = current.TraceStateString };
    }

    /// <summary>
    /// Starts the producer span for scheduling a run of <paramref name="handler"/> in job <paramref name="jobName"/>
    /// and returns its W3C trace context to store with the run (or the current one when nothing listens). A caller's
    /// <paramref name="parentTraceParent"/>, carried in a request, is the span's parent instead of the current one.
    /// </summary>
    public static (string? TraceParent, string? TraceState) CaptureTraceContext(
        string operation, string jobName, string handler, string? parentTraceParent = null, string? parentTraceState = null)
    {
        var hasParent = ActivityContext.TryParse(parentTraceParent, parentTraceState, out var parent);
        using var activity = Source.HasListeners()
            ? hasParent
                ? Source.StartActivity($"{operation} {jobName}", ActivityKind.Producer, parent)
                : Source.StartActivity($"{operation} {jobName}", ActivityKind.Producer)
            : null;
        activity?.SetTag(JobNameTag, jobName);
        activity?.SetTag(HandlerTag, handler);
        if (activity is null && hasParent)
        {
            return (parentTraceParent, parentTraceState);
        }

        var current = activity ?? Activity.Current;
        return current is null || current.IdFormat != ActivityIdFormat.W3C ? (null, null) : (current.Id, current.TraceStateString);
    }

    /// <summary>The trace context a job carries, if it carries a valid one.</summary>
    public static bool TryGetParentContext(Job job, out ActivityContext context)
    {
        ArgumentNullException.ThrowIfNull(job);
        context = default;
        return job.TraceParent is not null && ActivityContext.TryParse(job.TraceParent, job.TraceState, out context);
    }
}

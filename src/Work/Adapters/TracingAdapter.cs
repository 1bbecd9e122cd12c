using System.Diagnostics;
using Work.Diagnostics;
using Work.Pipeline;

namespace Work.Adapters;

/// <summary>
/// Starts a consumer span per execution on the <see cref="WorkDiagnostics.SourceName"/> source, parented to the trace
/// context the job carries (or the current one), tagged with handler, queue, execution id, attempt and final status.
/// The span is current while the handler runs, so its own spans nest under it.
/// </summary>
public sealed class TracingAdapter : IJobAdapter
{
    /// <summary>The shared instance; the adapter has no state.</summary>
    public static TracingAdapter Instance { get; } = new();

    /// <inheritdoc />
    public async Task InvokeAsync(JobContext context, JobHandler next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        if (!WorkDiagnostics.Source.HasListeners())
        {
            await next(context);
            return;
        }

        using var activity = WorkDiagnostics.TryGetParentContext(context.Job, out var parent)
            ? WorkDiagnostics.Source.StartActivity($"execute {context.Handler}", ActivityKind.Consumer, parent)
            : WorkDiagnostics.Source.StartActivity($"execute {context.Handler}", ActivityKind.Consumer);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(WorkDiagnostics.HandlerTag, context.Handler);
            activity.SetTag(WorkDiagnostics.QueueTag, context.Job.Queue);
            activity.SetTag(WorkDiagnostics.ExecutionIdTag, context.ExecutionId);
            activity.SetTag(WorkDiagnostics.AttemptTag, context.Attempt);
            if (context.JobName is not null)
            {
                activity.SetTag(WorkDiagnostics.JobNameTag, context.JobName);
            }
        }

        try
        {
            await next(context);
        }
        finally
        {
            if (activity is not null)
            {
                activity.SetTag(WorkDiagnostics.StatusTag, (int)context.Status);
                if (context.Status.IsFailure())
                {
                    activity.SetStatus(ActivityStatusCode.Error, context.Error?.Message);
                    activity.SetTag(WorkDiagnostics.ErrorTypeTag, context.Error?.GetType().FullName ?? context.Status.ToCode());
                }
            }
        }
    }
}

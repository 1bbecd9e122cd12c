using Work.Diagnostics;
using Work.Pipeline;

namespace Work.Adapters;

/// <summary>
/// Records <c>work.job.executions</c>, <c>work.job.duration</c>, <c>work.job.lateness</c> and <c>work.job.active</c> for
/// every execution, tagged
/// with handler, queue, job name and final status (and <c>error.type</c> on failures).
/// </summary>
public sealed class MetricsAdapter : IJobAdapter
{
    private readonly WorkInstruments _instruments;
    private readonly TimeProvider _time;

    /// <summary>Creates the adapter.</summary>
    public MetricsAdapter(WorkInstruments instruments, TimeProvider time)
    {
        _instruments = instruments ?? throw new ArgumentNullException(nameof(instruments));
        _time = time ?? throw new ArgumentNullException(nameof(time));
    }

    /// <inheritdoc />
    public async Task InvokeAsync(JobContext context, JobHandler next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var tags = WorkInstruments.JobTags(context.Job, context.JobName);
        var start = _time.GetTimestamp();
        var lateness = context.StartedAt - context.ScheduledAt;
        _instruments.Lateness.Record(lateness > TimeSpan.Zero ? lateness.TotalSeconds : 0, tags);
        _instruments.Active.Add(1, tags);
        try
        {
            await next(context);
        }
        finally
        {
            var elapsed = _time.GetElapsedTime(start);
            _instruments.Active.Add(-1, tags);
            tags.Add(WorkDiagnostics.StatusTag, context.Status.ToCode());
            if (context.Status.IsFailure())
            {
                tags.Add(WorkDiagnostics.ErrorTypeTag, context.Error?.GetType().FullName ?? context.Status.ToCode());
            }

            _instruments.Executions.Add(1, tags);
            _instruments.Duration.Record(elapsed.TotalSeconds, tags);
        }
    }
}

using Work.Diagnostics;
using Work.Pipeline;

namespace Work.Adapters;

/// <summary>
/// Enforces <see cref="Job.Timeout"/>. At the deadline the execution's token is cancelled and the execution ends as
/// <see cref="JobStatus.Timeout"/>, even when the handler ignores the token or blocks its thread (it is started on the
/// thread pool, so a handler that never returns to its caller cannot hold the deadline up): its slot is released and
/// the abandoned handler is counted in <c>work.job.abandoned</c>; what it does to the context afterwards no longer
/// changes the outcome. Every worker runs it right around the handler, inside <see cref="RecoveryAdapter"/>.
/// </summary>
public sealed class TimeoutAdapter : IJobAdapter
{
    private readonly TimeProvider _time;
    private readonly WorkInstruments? _instruments;

    /// <summary>Creates the adapter on <paramref name="time"/>.</summary>
    public TimeoutAdapter(TimeProvider time, WorkInstruments? instruments = null)
    {
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _instruments = instruments;
    }

    /// <inheritdoc />
    public Task InvokeAsync(JobContext context, JobHandler next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        return context.Job.Timeout is { } timeout ? InvokeWithDeadlineAsync(context, next, timeout) : next(context);
    }

    private async Task InvokeWithDeadlineAsync(JobContext context, JobHandler next, TimeSpan timeout)
    {
        var outer = context.CancellationToken;
        using var deadline = new CancellationTokenSource(timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(outer, deadline.Token);
        context.CancellationToken = linked.Token;
        // On the thread pool: a handler that blocks (a synchronous call, a sleep) before its first await would
        // otherwise keep this method from reaching its deadline until the handler chose to return.
        var handler = Task.Run(() => next(context), CancellationToken.None);

        try
        {
            // Waits on the deadline only: a stopping worker signals the handler but still waits for it.
            await handler.WaitAsync(deadline.Token);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            // This continuation can run inside the deadline's own Cancel, before the linked token heard of it:
            // cancel the handler's token here so it is signalled before the sources are disposed.
            await linked.CancelAsync();
            context.Status = JobStatus.Timeout;
            context.Error = new TimeoutException($"The execution exceeded its timeout of {timeout}.");
            if (!handler.IsCompleted)
            {
                context.Abandoned = true;
                _instruments?.Abandoned.Add(1, WorkInstruments.JobTags(context.Job, context.JobName));
                _ = handler.ContinueWith(
                    static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            }
        }
        finally
        {
            context.CancellationToken = outer;
        }
    }
}

using Work.Pipeline;

namespace Work.Adapters;

/// <summary>
/// Turns the way a handler ended into a status: a normal return with <see cref="JobStatus.Unknown"/> becomes
/// <see cref="JobStatus.Success"/>; an exception becomes <see cref="JobStatus.InternalError"/> unless the handler
/// already set an error status; a cancellation caused by the worker stopping becomes <see cref="JobStatus.Unavailable"/>.
/// Every worker runs it right around the handler.
/// </summary>
public sealed class RecoveryAdapter : IJobAdapter
{
    /// <summary>The shared instance; the adapter has no state.</summary>
    public static RecoveryAdapter Instance { get; } = new();

    /// <inheritdoc />
    public async Task InvokeAsync(JobContext context, JobHandler next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        try
        {
            await next(context);
            if (context.Status == JobStatus.Unknown)
            {
                context.Status = context.Error is null ? JobStatus.Success : JobStatus.InternalError;
            }
        }
        catch (OperationCanceledException ex) when (context.CancellationToken.IsCancellationRequested)
        {
            context.Error = ex;
            if (!context.Status.IsError())
            {
                context.Status = JobStatus.Unavailable;
            }
        }
        catch (Exception ex)
        {
            context.Error = ex;
            if (!context.Status.IsError())
            {
                context.Status = JobStatus.InternalError;
            }
        }
    }
}

using Work.Diagnostics;
using Work.Pipeline;

namespace Work.Workers;

// One-shots at a time or after a delay: a timer each, accepted into the queue when it fires.
public sealed partial class CommonWorker
{
    /// <inheritdoc />
    public ValueTask<string> PerformAtAsync(Job job, DateTimeOffset time, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        if (time == default)
        {
            throw new ArgumentException("PerformAt needs a time; the default DateTimeOffset is not one.", nameof(time));
        }

        job.Validate();
        EnsureRunning();
        var request = Request(WorkDiagnostics.StampTraceContext(job, "schedule"), new PerformOptions { ScheduledAt = time });
        var delay = time - _time.GetUtcNow();
        if (delay <= TimeSpan.Zero)
        {
            Accept(new QueuedExecution(request, null));
            return ValueTask.FromResult(request.ExecutionId);
        }

        var pending = new PendingOneShot(request);
        _pending[request.ExecutionId] = pending;
        pending.Timer = _time.CreateTimer(
            static state =>
            {
                var (worker, shot) = ((CommonWorker, PendingOneShot))state!;
                worker.Fire(shot);
            },
            (this, pending),
            delay,
            Timeout.InfiniteTimeSpan);
        if (!_pending.ContainsKey(request.ExecutionId))
        {
            pending.Timer.Dispose();
        }

        return ValueTask.FromResult(request.ExecutionId);
    }

    /// <inheritdoc />
    public ValueTask<string> PerformInAsync(Job job, TimeSpan delay, CancellationToken cancellationToken = default)
    {
        if (delay <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(delay), delay, "PerformIn needs a positive delay.");
        }

        return PerformAtAsync(job, _time.GetUtcNow() + delay, cancellationToken);
    }

    /// <inheritdoc />
    public bool CancelScheduled(string executionId)
    {
        if (!_pending.TryRemove(executionId, out var pending))
        {
            return false;
        }

        pending.Timer?.Dispose();
        return true;
    }

    private void Fire(PendingOneShot shot)
    {
        if (!_pending.TryRemove(shot.Request.ExecutionId, out _))
        {
            return;
        }

        shot.Timer?.Dispose();
        TryAccept(new QueuedExecution(shot.Request, null));
    }

    private sealed class PendingOneShot(ExecutionRequest request)
    {
        public ExecutionRequest Request { get; } = request;

        public ITimer? Timer { get; set; }
    }
}

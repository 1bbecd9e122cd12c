namespace Work.Scheduling;

/// <summary>
/// Group commit of a job's writes: one write is under way at a time, and every change made meanwhile shares the next
/// one. A commit someone waits for (an accept, a report, a definition) starts the next write as soon as the current
/// one ends; a change nobody waits for (a dispatch, an expired lease) waits up to the write delay for company. A
/// failed write fails its waiters and is tried again after a second, also if nothing else changes, unless the failure
/// says another activation wrote meanwhile.
/// </summary>
internal sealed class GroupCommit
{
    /// <summary>How long after a failed write it is tried again.</summary>
    public static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    private readonly Func<Task> _write;
    private readonly TimeSpan _delay;
    private readonly Func<Exception, bool> _retry;
    private readonly IJobTimer _soon;
    private readonly IJobTimer _retryTimer;
    private TaskCompletionSource? _next;
    private bool _urgent;
    private bool _writing;
    private bool _soonArmed;

    // The last write failed: its changes are in memory only until a write succeeds.
    private bool _unwritten;

    /// <param name="write">Writes everything changed so far, as one consistent moment.</param>
    /// <param name="delay">How long a change nobody waits for may wait for company.</param>
    /// <param name="timers">Where the delay and retry timers come from.</param>
    /// <param name="retry">Told of every failed write; false when writing again is pointless.</param>
    public GroupCommit(Func<Task> write, TimeSpan delay, IJobTimers timers, Func<Exception, bool> retry)
    {
        _write = write;
        _delay = delay;
        _retry = retry;
        _soon = timers.Create(OnSoonAsync, keepAlive: true);
        _retryTimer = timers.Create(OnRetryAsync, keepAlive: true);
    }

    public override string ToString() =>
        $"next {(_next is null ? "none" : _next.Task.Status.ToString())}, urgent {_urgent}, writing {_writing}, soon armed {_soonArmed}";

    /// <summary>True while some change is not written yet (also after a failed write) or a write is under way.</summary>
    public bool Busy => _next is not null || _writing || _unwritten;

    /// <summary>Completes once everything changed before the call is written; fails if that write fails.</summary>
    public Task CommitAsync() => Request(urgent: true);

    /// <summary>Writes everything changed before the call within the write delay; nobody waits for it.</summary>
    public void CommitSoon() => Request(urgent: false);

    /// <summary>
    /// Completes once everything changed before the call is written, within the write delay: for a caller that may
    /// wait a little so its change shares a write with whatever comes next.
    /// </summary>
    public Task CommitSoonAsync() => Request(urgent: false);

    /// <summary>Writes what is not written yet, for an activation that is going.</summary>
    public Task FlushAsync() => Busy ? Request(urgent: true) : Task.CompletedTask;

    private Task Request(bool urgent)
    {
        var round = _next;
        if (round is null)
        {
            _next = round = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

            // A round only changes nobody waits for may fail unobserved: its failure is reported to the retry callback.
            _ = round.Task.ContinueWith(
                static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        _urgent |= urgent;
        if (!_writing)
        {
            if (_urgent || _delay <= TimeSpan.Zero)
            {
                Start();
            }
            else if (!_soonArmed)
            {
                _soonArmed = true;
                _soon.Change(_delay);
            }
        }

        return round.Task;
    }

    private Task OnSoonAsync()
    {
        _soonArmed = false;
        if (!_writing && _next is not null)
        {
            Start();
        }

        return Task.CompletedTask;
    }

    // After a failure the changes are in memory only: written again even if nothing else changes.
    private Task OnRetryAsync()
    {
        Request(urgent: true);
        return Task.CompletedTask;
    }

    private void Start()
    {
        if (_soonArmed)
        {
            _soonArmed = false;
            _soon.Change(Timeout.InfiniteTimeSpan);
        }

        _writing = true;
        _ = WriteRoundsAsync();
    }

    private async Task WriteRoundsAsync()
    {
        while (_next is { } round)
        {
            _next = null;
            _urgent = false;
            try
            {
                await _write();
                _unwritten = false;
                round.TrySetResult();
            }
            catch (Exception ex)
            {
                _unwritten = true;
                round.TrySetException(ex);
                if (_retry(ex))
                {
                    _retryTimer.Change(RetryDelay);
                }
            }

            if (_next is not null && !_urgent && _delay > TimeSpan.Zero)
            {
                // Only changes nobody waits for: let them gather.
                _soonArmed = true;
                _soon.Change(_delay);
                break;
            }
        }

        _writing = false;
    }
}

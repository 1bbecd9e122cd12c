namespace Work.Scheduling;

/// <summary>
/// Wakes a job at its next due time. A timer covers the long wait and fires a little early; the last stretch is a
/// precise wake-up (<see cref="PreciseWakeUps"/>), since grain timers are only as exact as the system's coarse tick.
/// Waits longer than a timer can take are covered in steps: the job finds nothing due and arms again. The timer keeps
/// the activation alive only while asked to, so idle jobs can be collected.
/// </summary>
internal sealed class WakeUpAlarm
{
    /// <summary>The longest single timer wait; longer waits are re-armed when it fires.</summary>
    public static readonly TimeSpan MaxTimerWait = TimeSpan.FromDays(1);

    private readonly IJobTimers _timers;
    private readonly PreciseWakeUps _precise;
    private readonly TimeProvider _time;
    private readonly Func<Task> _wake;
    private IJobTimer? _timer;
    private bool _keepAlive;

    // The due time of the pending precise wake-up, and the number of the latest arming: a wake-up from an earlier
    // arming does nothing.
    private DateTimeOffset? _preciseAt;
    private long _arming;

    /// <param name="timers">Where its timer comes from.</param>
    /// <param name="precise">The silo's precise wake-ups.</param>
    /// <param name="time">The clock.</param>
    /// <param name="wake">Called at the due time; it should not throw.</param>
    public WakeUpAlarm(IJobTimers timers, PreciseWakeUps precise, TimeProvider time, Func<Task> wake)
    {
        _timers = timers;
        _precise = precise;
        _time = time;
        _wake = wake;
    }

    /// <summary>The time of the last arming that is still pending, for tests.</summary>
    public DateTimeOffset? ArmedFor { get; private set; }

    /// <summary>Wakes the job at <paramref name="next"/> (null: never); a time that passed wakes it at once.</summary>
    public void Arm(DateTimeOffset? next, bool keepAlive)
    {
        if (_timer is null || keepAlive != _keepAlive)
        {
            _timer?.Dispose();
            _timer = _timers.Create(OnTimerAsync, keepAlive);
            _keepAlive = keepAlive;
        }

        ArmedFor = next;
        var now = _time.GetUtcNow();
        if (next is { } at && at > now && at - now <= PreciseWakeUps.Window)
        {
            _timer.Change(Timeout.InfiniteTimeSpan);
            if (_preciseAt != at)
            {
                _preciseAt = at;
                _ = WakeAtAsync(at, ++_arming);
            }

            return;
        }

        _preciseAt = null;
        _arming++;
        var due = next is not { } time ? Timeout.InfiniteTimeSpan
            : time <= now ? TimeSpan.Zero
            : time - now - (PreciseWakeUps.Window / 2) is var wait && wait < MaxTimerWait ? wait
            : MaxTimerWait;
        _timer.Change(due);
    }

    /// <summary>Disarms it for good: the activation is going.</summary>
    public void Stop()
    {
        _arming++;
        _preciseAt = null;
        _timer?.Dispose();
    }

    // A timer callback never overlaps the previous one: returning at once lets the next due time fire while this
    // wake-up's work is still under way.
    private Task OnTimerAsync()
    {
        ArmedFor = null;
        _ = _wake();
        return Task.CompletedTask;
    }

    private async Task WakeAtAsync(DateTimeOffset at, long arming)
    {
        try
        {
            await _precise.WaitUntilAsync(at);
        }
        catch (ObjectDisposedException)
        {
            // The silo is stopping.
            return;
        }

        if (arming == _arming)
        {
            _preciseAt = null;
            ArmedFor = null;
            await _wake();
        }
    }
}

using System.Diagnostics;

namespace Work.Scheduling;

/// <summary>
/// Wake-ups to the millisecond for the last stretch before a due time. Grain timers run on .NET's timer queue, which
/// counts time in the operating system's coarse ticks (4 ms on a common Linux kernel), so a timer due in a second
/// fires several milliseconds early or late. Job grains arm their timer a little early and wait the rest here: one
/// thread for the silo waits for the earliest due time on a monitor, whose timed waits are not rounded to the tick,
/// and yields in a loop for the last millisecond or two, which a timed wait can overshoot (within a small share of one
/// core: wake-ups that come closer together than that wait the rounded-up millisecond instead).
/// With a <see cref="TimeProvider"/> other than the system's (a fake clock in tests), waits are that provider's delays.
/// </summary>
internal sealed class PreciseWakeUps : IDisposable
{
    private readonly TimeProvider _time;
    private readonly object _lock = new();
    private readonly PriorityQueue<TaskCompletionSource, long> _waiting = new();
    private Thread? _thread;
    private bool _disposed;
    private double _spinBudget = MaxSpinBudget * Stopwatch.Frequency;
    private long _spinBudgetAt = Stopwatch.GetTimestamp();

    /// <summary>Creates the service; its thread starts at the first wait.</summary>
    public PreciseWakeUps(TimeProvider time) => _time = time ?? throw new ArgumentNullException(nameof(time));

    // The thread yields in a loop for the last stretch before a due time instead of a timed wait, which can end up to
    // a millisecond late.
    private const double SpinMilliseconds = 1.0;

    // At most this share of one core goes to yielding loops, with this many seconds of them saved up.
    private const double SpinShare = 0.05;
    private const double MaxSpinBudget = 0.005;

    /// <summary>How far ahead of a due time a timer should hand over to <see cref="WaitUntilAsync"/>.</summary>
    public static TimeSpan Window { get; } = TimeSpan.FromMilliseconds(20);

    /// <summary>Completes at <paramref name="due"/>, never before it by this provider's clock.</summary>
    public Task WaitUntilAsync(DateTimeOffset due)
    {
        var remaining = due - _time.GetUtcNow();
        if (remaining <= TimeSpan.Zero)
        {
            return Task.CompletedTask;
        }

        if (!ReferenceEquals(_time, TimeProvider.System))
        {
            // In whole milliseconds, rounded up: a provider may end shorter delays at once (a fake clock does), which
            // would wake the caller before the due time.
            return Task.Delay(TimeSpan.FromMilliseconds(Math.Ceiling(remaining.TotalMilliseconds)), _time);
        }

        var wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var at = Stopwatch.GetTimestamp() + (long)Math.Ceiling(remaining.TotalSeconds * Stopwatch.Frequency);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _waiting.Enqueue(wake, at);
            if (_thread is null)
            {
                _thread = new Thread(Run) { IsBackground = true, Name = "Work precise wake-ups" };
                _thread.Start();
            }
            else
            {
                Monitor.Pulse(_lock);
            }
        }

        return wake.Task;
    }

    /// <summary>Stops the thread; waits not yet due never complete.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            Monitor.Pulse(_lock);
        }
    }

    // Spinning for a stretch of the given length (in Stopwatch ticks) if the budget allows: it fills at SpinShare of the
    // time that passes, up to MaxSpinBudget, so many wake-ups close together cost at most that share of one core.
    private bool TakeSpin(long stretch)
    {
        var now = Stopwatch.GetTimestamp();
        _spinBudget = Math.Min(MaxSpinBudget * Stopwatch.Frequency, _spinBudget + ((now - _spinBudgetAt) * SpinShare));
        _spinBudgetAt = now;
        if (_spinBudget < stretch)
        {
            return false;
        }

        _spinBudget -= stretch;
        return true;
    }

    private void Run()
    {
        lock (_lock)
        {
            while (!_disposed)
            {
                if (!_waiting.TryPeek(out var wake, out var at))
                {
                    Monitor.Wait(_lock);
                    continue;
                }

                var remaining = at - Stopwatch.GetTimestamp();
                if (remaining <= 0)
                {
                    _waiting.Dequeue();
                    wake.TrySetResult();
                    continue;
                }

                var milliseconds = remaining * 1000.0 / Stopwatch.Frequency;
                if (milliseconds >= SpinMilliseconds + 1)
                {
                    // Timed waits count whole milliseconds and may end up to one late: wait until the last stretch.
                    Monitor.Wait(_lock, (int)(milliseconds - SpinMilliseconds));
                    continue;
                }

                if (!TakeSpin(remaining))
                {
                    // Out of spinning time (wake-ups come close together): round up, and wait again if woken early.
                    Monitor.Wait(_lock, (int)Math.Ceiling(milliseconds));
                    continue;
                }

                // The last stretch, yielding to every thread that has work, without the lock so that waits can
                // still be added. An earlier wait added meanwhile is at most this stretch late.
                Monitor.Exit(_lock);
                try
                {
                    while (Stopwatch.GetTimestamp() < at)
                    {
                        Thread.Yield();
                    }
                }
                finally
                {
                    Monitor.Enter(_lock);
                }
            }
        }
    }
}

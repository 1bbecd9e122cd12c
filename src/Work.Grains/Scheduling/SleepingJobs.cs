using Microsoft.Extensions.Logging;
using Work.Grains;

namespace Work.Scheduling;

/// <summary>
/// The silo's list of jobs that left memory while idle, with the time to wake each: <see cref="WakeLead"/> before its
/// next due time, so the job is loaded and its own precise alarm armed when the time comes. One timer for the silo
/// waits for the earliest. An entry costs about a hundred bytes where an idle activation costs kilobytes. A wake-up
/// that fails (the job's database did not answer, say) is tried again every <see cref="RetryDelay"/> until it succeeds.
/// The list is not durable: when a silo starts or dies, the cluster's watch wakes every defined job
/// (<see cref="Grains.JobWatchGrain"/>).
/// </summary>
internal sealed partial class SleepingJobs : ILifecycleParticipant<ISiloLifecycle>, IDisposable
{
    /// <summary>
    /// How long before its due time a sleeping job is woken: time to activate and load it, short enough that few jobs
    /// sit in memory waiting (100,000 one-minute jobs on SQLite: 3,500 awake with 0.5 s against 6,300 with 2 s, tick
    /// lateness p99 60-68 ms against 114-137 ms).
    /// </summary>
    public static readonly TimeSpan WakeLead = TimeSpan.FromSeconds(0.5);

    /// <summary>How long after a failed wake-up the job is woken again.</summary>
    public static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(10);

    private readonly TimeProvider _time;
    private readonly Func<string, Task> _wake;
    private readonly ILogger _logger;
    private readonly object _lock = new();
    private readonly PriorityQueue<string, DateTimeOffset> _queue = new();

    // The latest wake-up time of each job; a queue entry with another time is stale and dropped when it comes up.
    private readonly Dictionary<string, DateTimeOffset> _wakeAt = new(StringComparer.Ordinal);
    private readonly ITimer _timer;
    private DateTimeOffset? _armedFor;
    private bool _disposed;

    // Failed wake-ups since the last warning, and when that was (under the lock).
    private int _failedSinceWarning;
    private DateTimeOffset _warnedAt = DateTimeOffset.MinValue;

    public SleepingJobs(TimeProvider time, IGrainFactory grains, ILogger<SleepingJobs> logger)
        : this(time, job => grains.GetGrain<IJobReportGrain>(job).WakeAsync(), logger)
    {
    }

    /// <param name="time">The clock.</param>
    /// <param name="wake">Wakes one job.</param>
    /// <param name="logger">Where failed wake-ups are logged.</param>
    public SleepingJobs(TimeProvider time, Func<string, Task> wake, ILogger logger)
    {
        _time = time;
        _wake = wake;
        _logger = logger;
        _timer = time.CreateTimer(_ => OnTimer(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>How many jobs have a wake-up pending here (a job woken early by a call keeps its entry until it comes up).</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _wakeAt.Count;
            }
        }
    }

    /// <summary>Wakes <paramref name="job"/> <see cref="WakeLead"/> before <paramref name="due"/>; replaces an earlier entry.</summary>
    public void Add(string job, DateTimeOffset due) => Put(job, due - WakeLead, replace: true);

    /// <summary>Wakes <paramref name="job"/> after <paramref name="delay"/>, or sooner if it has an earlier entry.</summary>
    public void WakeIn(string job, TimeSpan delay) => Put(job, _time.GetUtcNow() + delay, replace: false);

    private void Put(string job, DateTimeOffset at, bool replace)
    {
        lock (_lock)
        {
            if (_disposed)
            {
                // The silo is stopping: the cluster's watch wakes every job when it has gone.
                return;
            }

            // A job woken early (by a call, say) that sleeps again for the same time keeps its one entry; a retry
            // does not put off an earlier wake-up.
            if (_wakeAt.TryGetValue(job, out var known) && (known == at || (!replace && known < at)))
            {
                return;
            }

            _wakeAt[job] = at;
            _queue.Enqueue(job, at);
            if (_armedFor is not { } armed || at < armed)
            {
                Arm(at);
            }
        }
    }

    /// <summary>The wake-up time of a sleeping job, for tests.</summary>
    public DateTimeOffset? WakeUpOf(string job)
    {
        lock (_lock)
        {
            return _wakeAt.TryGetValue(job, out var at) ? at : null;
        }
    }

    /// <summary>Stops waking jobs when the silo stops serving: a stopping silo could not host them.</summary>
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(SleepingJobs), ServiceLifecycleStage.Active, _ => Task.CompletedTask, _ =>
        {
            Dispose();
            return Task.CompletedTask;
        });

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            _timer.Dispose();
        }
    }

    // Under the lock.
    private void Arm(DateTimeOffset at)
    {
        _armedFor = at;
        var wait = at - _time.GetUtcNow();
        _timer.Change(wait > TimeSpan.Zero ? wait : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
    }

    private void OnTimer()
    {
        var due = new List<string>();
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _armedFor = null;
            var now = _time.GetUtcNow();
            while (_queue.TryPeek(out var job, out var at) && at <= now)
            {
                _queue.Dequeue();
                if (_wakeAt.TryGetValue(job, out var latest) && latest == at)
                {
                    _wakeAt.Remove(job);
                    due.Add(job);
                }
            }

            if (_queue.TryPeek(out _, out var next))
            {
                Arm(next);
            }
        }

        foreach (var job in due)
        {
            _ = WakeAsync(job);
        }
    }

    /// <summary>Wakes <paramref name="job"/> now; if that fails, it is tried again after <see cref="RetryDelay"/>.</summary>
    public async Task WakeAsync(string job)
    {
        try
        {
            await _wake(job);
        }
        catch (Exception ex)
        {
            Failed(job, ex);
        }
    }

    // One warning per retry period with the count since the last, not one per job.
    private void Failed(string job, Exception error)
    {
        WakeIn(job, RetryDelay);
        LogWakeRetry(_logger, error, job);
        var now = _time.GetUtcNow();
        int others;
        lock (_lock)
        {
            if (now - _warnedAt < RetryDelay)
            {
                _failedSinceWarning++;
                return;
            }

            (_warnedAt, others, _failedSinceWarning) = (now, _failedSinceWarning, 0);
        }

        LogWakeFailed(_logger, error, job, others, RetryDelay.TotalSeconds);
    }

    [LoggerMessage(EventId = 2210, Level = LogLevel.Warning, Message = "Could not wake the job {Job} (nor {Others} others since the last warning); each is tried again in {Seconds} s")]
    private static partial void LogWakeFailed(ILogger logger, Exception error, string job, int others, double seconds);

    [LoggerMessage(EventId = 2211, Level = LogLevel.Debug, Message = "Could not wake the job {Job}; it is tried again")]
    private static partial void LogWakeRetry(ILogger logger, Exception error, string job);
}

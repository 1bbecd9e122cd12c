using Microsoft.Extensions.Logging;
using Work.Grains;

namespace Work.Scheduling;

/// <summary>
/// The silo's list of jobs that left memory while idle, with the time to wake each: <see cref="WakeLead"/> before its
/// next due time, so the job is loaded and its own precise alarm armed when the time comes. One timer for the silo
/// waits for the earliest. An entry costs about a hundred bytes where an idle activation costs kilobytes. The list is
/// not durable: a job whose silo goes away is woken by its reminder, and by the silos, which wake every defined job
/// when a silo starts or dies (<see cref="Hosting.JobWakeUp"/>).
/// </summary>
internal sealed partial class SleepingJobs : ILifecycleParticipant<ISiloLifecycle>, IDisposable
{
    /// <summary>
    /// How long before its due time a sleeping job is woken: time to activate and load it, short enough that few jobs
    /// sit in memory waiting (100,000 one-minute jobs on SQLite: 3,500 awake with 0.5 s against 6,300 with 2 s, tick
    /// lateness p99 60-68 ms against 114-137 ms).
    /// </summary>
    public static readonly TimeSpan WakeLead = TimeSpan.FromSeconds(0.5);

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
    public void Add(string job, DateTimeOffset due)
    {
        var at = due - WakeLead;
        lock (_lock)
        {
            if (_disposed)
            {
                // The silo is stopping: the job's reminder, or the silos' wake-up of every job, brings it back.
                return;
            }

            // A job woken early (by its reminder, say) that sleeps again for the same time keeps its one entry.
            if (_wakeAt.TryGetValue(job, out var known) && known == at)
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

    private async Task WakeAsync(string job)
    {
        try
        {
            await _wake(job);
        }
        catch (Exception ex)
        {
            // Its reminder wakes it later.
            LogWakeFailed(_logger, ex, job);
        }
    }

    [LoggerMessage(EventId = 2210, Level = LogLevel.Warning, Message = "Could not wake the sleeping job {Job}; its reminder will")]
    private static partial void LogWakeFailed(ILogger logger, Exception error, string job);
}

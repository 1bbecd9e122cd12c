using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Work.Hosting;
using Work.Pipeline;
using Work.Placement;

namespace Work.Grains;

/// <summary>
/// Runs executions on its silo. Accepting an order only starts it: the handler runs on the thread pool through the
/// silo's pipeline, a timer renews the leases of what is running, and the result is reported to the job grain, with
/// retries, so an execution may last longer than any grain call. Orders sent ahead (queued) wait in their job's lane
/// and start in the slot of the job's next run that ends here, with no round trip to the job.
/// </summary>
[Reentrant]
[SiloPinnedPlacement]
internal sealed partial class JobExecutorGrain : Grain, IJobExecutorGrain
{
    private const int MaxReportsInFlight = 4;
    private const int DeferredReports = 1_024;

    private static readonly TimeSpan s_reportDeferral = TimeSpan.FromMilliseconds(5);

    private static readonly TimeSpan[] s_reportBackoff =
        [TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5)];

    private readonly ConcurrentDictionary<(string ExecutionId, int Attempt), Running> _running = new();
    private readonly ConcurrentDictionary<string, ReportQueue> _reports = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, JobLane> _lanes = new(StringComparer.Ordinal);

    // Attempts that finished here and that their job has not confirmed as durably recorded: their leases are still
    // renewed, so a job that is unreachable for a while (its silo or directory entry being lost) does not run them
    // again, and they are reported again while no confirmation comes (the job's activation may have died before its
    // write).
    private readonly ConcurrentDictionary<(string ExecutionId, int Attempt), Unconfirmed> _unreported = new();
    private readonly ExecutionEngine _engine;
    private readonly ExecutorDrain _drain;
    private readonly WorkClusterOptions _options;
    private readonly TimeProvider _time;
    private readonly Scheduling.PreciseWakeUps _wakeUps;
    private readonly ConcurrentDictionary<DateTimeOffset, DueMoment> _dueAt = new();
    private readonly ILogger _logger;

    // The silo's factory, not the activation's: reports are sent from the thread pool, outside the activation.
    private readonly IGrainFactory _grains;

    public JobExecutorGrain(
        ExecutionEngine engine,
        ExecutorDrain drain,
        IGrainFactory grains,
        IOptions<WorkClusterOptions> options,
        TimeProvider time,
        Scheduling.PreciseWakeUps wakeUps,
        ILogger<JobExecutorGrain> logger)
    {
        _wakeUps = wakeUps;
        _grains = grains;
        _engine = engine;
        _drain = drain;
        _options = options.Value;
        _time = time;
        _logger = logger;
    }

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _stopping = _drain.Join(this);
        this.RegisterGrainTimer(
            static (grain, _) => grain.RenewAsync(),
            this,
            new GrainTimerCreationOptions { DueTime = _options.LeaseRenewPeriod, Period = _options.LeaseRenewPeriod, Interleave = true, KeepAlive = true });
        return Task.CompletedTask;
    }

    public Task<bool> ExecuteAsync(IReadOnlyList<ExecutionOrder> orders)
    {
        ArgumentNullException.ThrowIfNull(orders);

        // Orders to start count first: a queued order in the same call waits for them instead of going back.
        List<(Running Running, JobLane Lane)>? starts = null;
        List<ExecutionOrder>? returned = null;
        lock (_gate)
        {
            if (_stopping)
            {
                GiveBackUnheld(orders);
                return s_refused;
            }

            foreach (var order in orders)
            {
                if (!order.Queued && Admit(order) is { } running)
                {
                    (starts ??= []).Add((running, StartOn(order.JobName)));
                }
            }

            foreach (var order in orders)
            {
                if (order.Queued && Admit(order) is { } running && !(_lanes.TryGetValue(order.JobName, out var lane) && lane.TryQueue(running)))
                {
                    // None of the job's runs is running here: no slot will come to it.
                    Forget(running);
                    (returned ??= []).Add(order);
                }
            }
        }

        foreach (var (running, lane) in starts ?? [])
        {
            Launch(running, lane);
        }

        foreach (var group in returned?.GroupBy(o => o.JobName) ?? [])
        {
            _ = ReturnAsync(group.Key, group.ToList());
        }

        return s_taken;
    }

    public Task RecallAsync(string jobName)
    {
        if (_lanes.TryGetValue(jobName, out var lane))
        {
            _ = ReturnWaitingAsync(jobName, lane);
        }

        return Task.CompletedTask;
    }

    public Task ConfirmAsync(string jobName, IReadOnlyList<ExecutionAttempt> attempts)
    {
        ArgumentNullException.ThrowIfNull(attempts);
        foreach (var attempt in attempts)
        {
            _unreported.TryRemove(Key(attempt.ExecutionId, attempt.Attempt), out _);
        }

        NoteIfIdle();
        return Task.CompletedTask;
    }

    public Task<ServedQueues> QueuesAsync()
    {
        LeaveIfMisplaced();

        // A stopping silo serves nothing from now on.
        return Task.FromResult(new ServedQueues(_engine.SiloName, _stopping ? [] : [.. _options.Queues]));
    }

    public Task<IReadOnlyList<ExecutionAttempt>> HeldAsync(string jobName, IReadOnlyList<ExecutionAttempt> attempts)
    {
        ArgumentNullException.ThrowIfNull(attempts);
        IReadOnlyList<ExecutionAttempt> held = attempts.Where(a =>
        {
            var key = Key(a.ExecutionId, a.Attempt);
            return (_running.TryGetValue(key, out var running) && running.Order.JobName == jobName)
                || (_unreported.TryGetValue(key, out var unconfirmed) && unconfirmed.Order.JobName == jobName);
        }).ToList();
        return Task.FromResult(held);
    }

    public Task<int> CancelAsync(IReadOnlyList<string> executionIds)
    {
        ArgumentNullException.ThrowIfNull(executionIds);
        var ids = executionIds.ToHashSet(StringComparer.Ordinal);
        var found = _running.Values.Where(r => ids.Contains(r.Order.ExecutionId)).ToList();

        // Waiting runs first: they go back unstarted (the job finishes them as cancelled), and none of them takes the
        // slot of a running one that this call signals.
        var waiting = found.Where(r => _lanes.TryGetValue(r.Order.JobName, out var lane) && lane.Remove(r)).ToList();
        foreach (var running in waiting)
        {
            Forget(running);
        }

        foreach (var running in found.Except(waiting))
        {
            running.SignalCancel();
        }

        foreach (var job in waiting.GroupBy(r => r.Order.JobName))
        {
            _ = ReturnAsync(job.Key, job.Select(r => r.Order).ToList());
        }

        return Task.FromResult(found.Count);
    }

    private static (string ExecutionId, int Attempt) Key(string executionId, int attempt) => (executionId, attempt);

    // Takes an order in, or null when the same attempt is already here (running, waiting, or finished and reported).
    private Running? Admit(ExecutionOrder order)
    {
        var key = Key(order.ExecutionId, order.Attempt);
        if (_unreported.ContainsKey(key))
        {
            // The same attempt delivered again after it finished here: its report is on the way.
            return null;
        }

        var running = new Running(order, new CancellationTokenSource());
        if (!_running.TryAdd(key, running))
        {
            // The same attempt delivered twice: it is already here.
            running.Cancellation.Dispose();
            return null;
        }

        return running;
    }

    // Gives the runs waiting in a job's lane back to the job unstarted; completes once the job has them (or was given up on).
    private Task ReturnWaitingAsync(string jobName, JobLane lane)
    {
        var waiting = lane.TakeWaiting();
        if (waiting.Count == 0)
        {
            return Task.CompletedTask;
        }

        waiting.ForEach(Forget);
        return ReturnAsync(jobName, waiting.ConvertAll(r => r.Order));
    }

    private void Forget(Running running)
    {
        _running.TryRemove(Key(running.Order.ExecutionId, running.Order.Attempt), out _);
        running.Cancellation.Dispose();
        NoteIfIdle();
    }

    // The lane of a job with one more run running in it; a lane that closed meanwhile (its last run ended) is replaced.
    private JobLane StartOn(string jobName)
    {
        while (true)
        {
            var lane = _lanes.GetOrAdd(jobName, static name => new JobLane(name));
            if (lane.TryStart())
            {
                return lane;
            }
        }
    }

    // Off the grain's scheduler: the grain stays free and the handler may run as long as it needs. A run handed over
    // before its due time is parked until then.
    private void Launch(Running running, JobLane lane)
    {
        if (running.Order.ScheduledAt <= _time.GetUtcNow() || !TryPark(running, lane))
        {
            Start(running, lane);
        }
    }

    // Starts a run's loop, once: a parked run is started by its due time or by its cancellation, whichever comes first.
    private void Start(Running running, JobLane lane)
    {
        if (running.TryStart())
        {
            _ = Task.Run(() => RunLoopAsync(running, lane));
        }
    }

    // Runs an attempt, then every queued run that takes its slot, reporting each as it ends.
    private async Task RunLoopAsync(Running running, JobLane lane)
    {
        for (Running? current = running; current is not null;)
        {
            var order = current.Order;
            JobExecution execution;
            try
            {
                if (!await DueAsync(current))
                {
                    execution = CancelledBeforeItRan(order);
                }
                else
                {
                    execution = await _engine.Executor.ExecuteAsync(
                        new ExecutionRequest(order.Job, order.ExecutionId, order.Attempt, order.ScheduledAt, order.JobName, order.Item),
                        current.Cancellation.Token);
                }
            }
            catch (Exception ex)
            {
                // Reported as failed, so its slot passes on and the job hears of it.
                LogRunFailed(_logger, ex, order.ExecutionId, order.JobName);
                var now = _time.GetUtcNow();
                execution = new JobExecution
                {
                    ExecutionId = order.ExecutionId,
                    Handler = order.Job.Handler,
                    Queue = order.Job.Queue,
                    Attempt = order.Attempt,
                    Status = JobStatus.InternalError,
                    Error = $"The execution could not be run: {ex.GetType().Name}: {ex.Message}",
                    ErrorType = ex.GetType().FullName,
                    ScheduledAt = order.ScheduledAt,
                    StartedAt = now,
                    FinishedAt = now,
                    Worker = _engine.SiloName,
                };
            }

            if (current.StartedWithOthers)
            {
                // Many runs started at one due time: the runs yet to start go before the reports of those that ended.
                await Task.Yield();
            }

            if (_abandoned)
            {
                // The silo stopped before this run ended: left to its lease, it counts as lost and runs again elsewhere.
                ForgetAbandoned(current, lane);
                return;
            }

            var next = lane.Next(_lanes);
            var handedTo = next is null ? null : new ExecutionLease(next.Order.ExecutionId, next.Order.Attempt, next.Order.Lease, _engine.SiloName);

            // Unreported before it stops running, so its lease is renewed without a gap.
            var key = Key(order.ExecutionId, order.Attempt);
            var report = new ExecutionReport(execution, order.Lease, handedTo);
            _unreported[key] = new Unconfirmed(order, report, _time.GetUtcNow());
            _running.TryRemove(key, out _);
            current.Cancellation.Dispose();
            QueueReport(order.JobName, report, more: next is not null);
            current = next;
        }
    }

    // The record of a run cancelled while it waited for its due time: reported like any other, so its slot passes on.
    private JobExecution CancelledBeforeItRan(ExecutionOrder order)
    {
        var now = _time.GetUtcNow();
        return new JobExecution
        {
            ExecutionId = order.ExecutionId,
            Handler = order.Job.Handler,
            Queue = order.Job.Queue,
            Attempt = order.Attempt,
            Status = JobStatus.NoResponse,
            Error = "Cancelled before it ran.",
            ErrorType = Scheduling.JobScheduler.CancelledBeforeRun,
            ScheduledAt = order.ScheduledAt,
            StartedAt = now,
            FinishedAt = now,
            Worker = _engine.SiloName,
        };
    }

    // Placed here because the silo of this key was not active to the caller's silo: once idle, it makes room for the
    // right one (asked now and then by the renewal timer, so a trickle of work does not keep it here for good).
    private void LeaveIfMisplaced()
    {
        if (this.GetPrimaryKeyString() != _engine.SiloName && _running.IsEmpty && _unreported.IsEmpty && _lanes.IsEmpty)
        {
            DeactivateOnIdle();
        }
    }

    private async Task RenewAsync()
    {
        ReportUnconfirmedAgain(_time.GetUtcNow());
        DropIdleReportQueues();
        LeaveIfMisplaced();
        var byJob = _running.Values.Select(r => r.Order).Concat(_unreported.Values.Select(u => u.Order)).GroupBy(o => o.JobName).ToList();
        await Task.WhenAll(byJob.Select(async group =>
        {
            try
            {
                await _grains.GetGrain<IJobReportGrain>(group.Key).RenewAsync(
                    group.DistinctBy(o => (o.ExecutionId, o.Attempt)).Select(o => new ExecutionLease(o.ExecutionId, o.Attempt, o.Lease, _engine.SiloName)).ToList());
            }
            catch (Exception ex)
            {
                LogRenewFailed(_logger, ex, group.Key);
            }
        }));
    }
}

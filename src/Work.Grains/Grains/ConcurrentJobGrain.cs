using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Orleans.Storage;
using Work.Diagnostics;
using Work.Hosting;
using Work.Scheduling;

namespace Work.Grains;

/// <summary>
/// A named job in the cluster. Thin: the rules and the state live in <see cref="JobScheduler"/>; the state is kept by
/// <see cref="JobStore"/> through a <see cref="GroupCommit"/> (one write for everything that happened at once); a
/// <see cref="WakeUpAlarm"/> wakes the job at its next due time, a <see cref="ReminderKeeper"/> holds a reminder while
/// anything is scheduled so the job comes back after its silo dies, and an <see cref="ExecutorRoster{TExecutor}"/>
/// picks the executors due runs are handed to. This class keeps the API, the pump and the hand-over.
/// </summary>
[Reentrant]
internal sealed partial class ConcurrentJobGrain : Grain, IConcurrentJobGrain, IJobReportGrain, IRemindable
{
    private const string ReminderName = "work.job";
    private static readonly TimeSpan s_maxWait = TimeSpan.FromSeconds(20);

    private readonly TimeProvider _time;
    private readonly ExecutionEngine _engine;
    private readonly PreciseWakeUps _wakeUps;
    private readonly WorkClusterOptions _options;
    private readonly ILogger _logger;
    private readonly ExecutionWaiters _waiters;
    private readonly ExecutorRoster<IJobExecutorGrain> _roster;
    private readonly ReminderKeeper _reminder;
    private JobStore _store = null!;
    private GroupCommit _commit = null!;
    private WakeUpAlarm _alarm = null!;
    private JobScheduler? _scheduler;
    private string? _nameProblem;
    private bool _conflicted;
    private TaskCompletionSource? _pumpSoon;

    public ConcurrentJobGrain(
        TimeProvider time,
        IClusterMembershipService membership,
        ExecutionEngine engine,
        PreciseWakeUps wakeUps,
        IOptions<WorkClusterOptions> options,
        ILogger<ConcurrentJobGrain> logger)
    {
        _time = time;
        _engine = engine;
        _wakeUps = wakeUps;
        _options = options.Value;
        _logger = logger;
        _waiters = new ExecutionWaiters(time);
        _roster = new ExecutorRoster<IJobExecutorGrain>(() => membership.CurrentSnapshot, engine.SiloName, silo => GrainFactory.GetGrain<IJobExecutorGrain>(silo));
        _reminder = new ReminderKeeper(
            () => this.RegisterOrUpdateReminder(ReminderName, _options.ReminderPeriod, _options.ReminderPeriod),
            async () =>
            {
                if (await this.GetReminder(ReminderName) is { } reminder)
                {
                    await this.UnregisterReminder(reminder);
                }
            },
            ex => LogReminderFailed(_logger, ex, Name));
    }

    private string Name => this.GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // A name no job may have touches no storage: every call is refused with the reason.
        _nameProblem = JobLimits.NameProblem(Name);
        if (_nameProblem is not null)
        {
            return;
        }

        var timers = new GrainTimers(this);
        _store = new JobStore(ServiceProvider.GetRequiredKeyedService<IGrainStorage>(WorkClusterOptions.StorageName), GrainContext.GrainId);
        _commit = new GroupCommit(WriteAsync, _options.WriteDelay, timers, OnWriteFailed);
        _alarm = new WakeUpAlarm(timers, _wakeUps, _time, PumpInBackgroundAsync);
        try
        {
            await LoadAsync();
        }
        catch (JobStorageException)
        {
            // The job still answers: each call tries to load again, and says why it cannot.
        }
    }

    // What waits for a write is written before the activation goes, so a dispatch or completion is not redone.
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_nameProblem is not null)
        {
            return;
        }

        _alarm.Stop();
        if (_scheduler is null || _conflicted || !_commit.Busy)
        {
            return;
        }

        try
        {
            await _commit.FlushAsync().WaitAsync(cancellationToken);
        }
        catch (Exception ex)
        {
            LogDeactivationWriteFailed(_logger, ex, Name, reason.Description);
        }
    }

    public async Task DefineAsync(JobDefinition definition)
    {
        var scheduler = await UsableAsync();
        ArgumentNullException.ThrowIfNull(definition);
        scheduler.CheckDefinition(definition);
        if (!_engine.Handlers.Contains(definition.Job.Handler))
        {
            throw new ArgumentException(new Pipeline.JobHandlerNotFoundException(definition.Job.Handler, _engine.Handlers.Names).Message + $" Job '{Name}' was not defined.");
        }

        await GrainFactory.GetGrain<IJobCatalogGrain>(IJobCatalogGrain.Key).AddAsync(Name);
        scheduler.Define(definition);
        await PumpAsync(mustSave: true);
    }

    public async Task StartAsync()
    {
        (await UsableAsync()).Start();
        await PumpAsync(mustSave: true);
    }

    public async Task StopAsync()
    {
        var cancelled = new List<JobExecution>();
        var running = (await UsableAsync()).Stop(cancelled);
        await PumpAsync(cancelled, mustSave: true);
        await SignalAsync(running);
    }

    public async Task DeleteAsync()
    {
        var scheduler = await UsableAsync();
        var cancelled = new List<JobExecution>();
        var running = scheduler.Delete(cancelled);
        _waiters.Complete(cancelled);
        _waiters.FailAll(new KeyNotFoundException($"Job '{Name}' was deleted."));
        await PumpAsync(mustSave: true);
        await SignalAsync(running);

        // Unless it was defined again meanwhile.
        if (!scheduler.IsDefined)
        {
            await GrainFactory.GetGrain<IJobCatalogGrain>(IJobCatalogGrain.Key).RemoveAsync(Name);
        }
    }

    public async Task<string> EnqueueAsync(JobArgs? args = null) => await AcceptAsync(null, args);

    public async Task<string> PerformAtAsync(DateTimeOffset time, JobArgs? args = null)
    {
        if (JobLimits.DueTimeProblem(time, _time.GetUtcNow()) is { } problem)
        {
            throw new ArgumentException(problem, nameof(time));
        }

        return await AcceptAsync(time, args);
    }

    public async Task<string> PerformInAsync(TimeSpan delay, JobArgs? args = null)
    {
        if (JobLimits.DelayProblem(delay) is { } problem)
        {
            throw new ArgumentOutOfRangeException(nameof(delay), delay, problem);
        }

        return await AcceptAsync(_time.GetUtcNow() + delay, args);
    }

    public async Task<IReadOnlyList<string>> PerformManyAsync(IReadOnlyList<PerformRequest> requests)
    {
        var scheduler = await UsableAsync();
        ArgumentNullException.ThrowIfNull(requests);
        if (requests.Count > PerformRequest.MaxPerCall)
        {
            throw new ArgumentException($"PerformMany takes at most {PerformRequest.MaxPerCall} requests; it got {requests.Count}. Nothing was accepted.", nameof(requests));
        }

        // All are checked before any is accepted, so a bad request leaves the job as it was.
        for (var i = 0; i < requests.Count; i++)
        {
            var request = requests[i] ?? throw new ArgumentException($"Request {i} is null. Nothing was accepted.", nameof(requests));
            if (scheduler.RequestProblem(request) is { } problem)
            {
                throw new ArgumentException($"Request {i}: {problem} Nothing was accepted.", nameof(requests));
            }
        }

        scheduler.EnsureCanAccept(requests.Count);
        var now = _time.GetUtcNow();
        var handler = scheduler.Definition.Job.Handler;
        var ids = new string[requests.Count];
        for (var i = 0; i < requests.Count; i++)
        {
            var request = requests[i];
            var (traceParent, traceState) = WorkDiagnostics.CaptureTraceContext(request.At is null ? "enqueue" : "schedule", Name, handler, request.TraceParent, request.TraceState);
            ids[i] = scheduler.Accept(request.At ?? now, request.Args, traceParent, traceState).ExecutionId;
        }

        await PumpSoonAsync();
        return ids;
    }

    public async Task PerformEveryAsync(TimeSpan interval, bool sync = false)
    {
        (await UsableAsync()).SetEvery(new EverySchedule { Interval = interval, Sync = sync });
        await PumpAsync(mustSave: true);
    }

    public async Task<JobExecution?> WaitAsync(string executionId, TimeSpan maxWait)
    {
        var scheduler = await UsableAsync();
        if (JobLimits.ExecutionIdProblem(executionId) is { } problem)
        {
            throw new ArgumentException(problem, nameof(executionId));
        }

        if (!scheduler.IsActive(executionId))
        {
            return scheduler.LastRecord(executionId)
                ?? throw new KeyNotFoundException($"Job '{Name}' has no execution '{executionId}' pending, running or in its history.");
        }

        return await _waiters.WaitAsync(executionId, maxWait > s_maxWait ? s_maxWait : maxWait);
    }

    public async Task<int> CancelAsync(string? executionId = null)
    {
        var scheduler = await UsableAsync();
        if (executionId is not null && JobLimits.ExecutionIdProblem(executionId) is { } problem)
        {
            throw new ArgumentException(problem, nameof(executionId));
        }

        var cancelled = new List<JobExecution>();
        var running = scheduler.Cancel(executionId, cancelled);
        await PumpAsync(cancelled, mustSave: true);
        await SignalAsync(running);
        return cancelled.Count + running.Count;
    }

    public async Task<JobInfo> GetInfoAsync() => (await UsableAsync()).Info(_time.GetUtcNow()) with { Silo = _engine.SiloName };

    public async Task<IReadOnlyList<JobExecution>> GetHistoryAsync(int count = 20)
    {
        var scheduler = await UsableAsync();
        if (count < 0 || count > JobDefinition.MaxHistoryLimit)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, $"The history count must be between 0 and {JobDefinition.MaxHistoryLimit}; it is {count}.");
        }

        return scheduler.History.Newest(count);
    }

    public async Task ReportAsync(IReadOnlyList<ExecutionReport> reports)
    {
        ArgumentNullException.ThrowIfNull(reports);
        var scheduler = await UsableAsync();
        var finished = new List<JobExecution>();
        var accepted = 0;
        foreach (var report in reports)
        {
            if (scheduler.Report(report.Execution, report.Lease, finished))
            {
                accepted++;
            }
            else
            {
                LogIgnoredReport(_logger, Name, report.Execution.ExecutionId, report.Execution.Attempt, report.Execution.Worker);
            }
        }

        if (accepted > 0)
        {
            // The executor keeps renewing these attempts until this returns, so it returns once they are durable.
            await PumpAsync(finished, mustSave: true);
        }
    }

    public async Task RenewAsync(IReadOnlyList<ExecutionLease> leases)
    {
        ArgumentNullException.ThrowIfNull(leases);
        var scheduler = await UsableAsync();
        var now = _time.GetUtcNow();
        foreach (var lease in leases)
        {
            scheduler.Renew(lease.ExecutionId, lease.Attempt, lease.Lease, now, _options.LeaseDuration);
        }

        Rearm(scheduler);
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        await UsableAsync();
        await PumpAsync();
    }

    private async Task<string> AcceptAsync(DateTimeOffset? due, JobArgs? args)
    {
        var scheduler = await UsableAsync();
        var (traceParent, traceState) = WorkDiagnostics.CaptureTraceContext(due is null ? "enqueue" : "schedule", Name, scheduler.Definition.Job.Handler);
        var run = scheduler.Accept(due ?? _time.GetUtcNow(), args, traceParent, traceState);
        await PumpSoonAsync();
        return run.ExecutionId;
    }

    // The scheduler of a job that can answer: its name is valid, its state loaded, and no other activation wrote it.
    private async ValueTask<JobScheduler> UsableAsync()
    {
        if (_nameProblem is { } problem)
        {
            throw new ArgumentException(problem);
        }

        if (_conflicted)
        {
            throw new InconsistentStateException($"Job '{Name}' was written by another activation meanwhile and is reloading; try again.");
        }

        if (_scheduler is null)
        {
            await LoadAsync();
        }

        return _scheduler!;
    }

    private async Task LoadAsync()
    {
        StoredJob stored;
        try
        {
            stored = await _store.LoadAsync();
        }
        catch (Exception ex)
        {
            LogLoadFailed(_logger, ex, Name);

            // The cause stays in the silo's log: a database's own exception may not cross to the caller.
            throw new JobStorageException($"Job '{Name}' could not read its stored state: {ex.GetType().Name}: {ex.Message}");
        }

        var scheduler = _scheduler = JobScheduler.Load(Name, stored, _time, _options);

        // Executors cannot have renewed with this activation yet: every attempt in flight gets one lease period to
        // report or renew before it counts as lost.
        scheduler.RenewAll(_time.GetUtcNow(), _options.LeaseDuration);
        if (_store.RecordExists)
        {
            LogActivated(_logger, Name, scheduler.PendingCount, scheduler.InFlightCount, scheduler.NeedsReminder);
        }

        if (scheduler.Problem is { } problem)
        {
            LogStoredProblem(_logger, problem);
        }

        // Due times that passed while the job was not active are handled now (misfire policy for recurring ticks).
        await PumpAsync();
    }

    // Accepts that arrive together share one pump: one dispatch per executor and one write for all of them. The pump
    // runs after the calls already queued on this activation have been accepted; each accept returns after it.
    private Task PumpSoonAsync()
    {
        if (_pumpSoon is { } pending)
        {
            return pending.Task;
        }

        var soon = _pumpSoon = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _ = RunPumpSoonAsync(soon);
        return soon.Task;
    }

    private async Task RunPumpSoonAsync(TaskCompletionSource soon)
    {
        await Task.Yield();
        _pumpSoon = null;
        try
        {
            await PumpAsync(mustSave: true);
            soon.TrySetResult();
        }
        catch (Exception ex)
        {
            soon.TrySetException(ex);
        }
    }

    /// <summary>
    /// Takes what is due under the cap, hands the runs to executors (one call per executor), makes them and whatever
    /// just changed durable in one group-committed write, and re-arms the alarm.
    /// </summary>
    private async Task PumpAsync(List<JobExecution>? finished = null, bool mustSave = false)
    {
        var scheduler = _scheduler!;
        var now = _time.GetUtcNow();
        finished ??= [];
        var due = scheduler.TakeDue(now, finished);
        var batches = new List<(string Executor, List<InFlightRun> Runs)>();
        if (due.Count > 0)
        {
            foreach (var (executor, runs) in _roster.Assign(due, scheduler.InFlightByExecutor()))
            {
                batches.Add((executor, runs.ConvertAll(run => scheduler.Dispatched(run, executor, now, _options.LeaseDuration))));
            }
        }

        _waiters.Complete(finished);

        // Runs go out while the write is under way: a tick is not late by a storage round trip. If this silo dies
        // before the write lands, storage still holds them as pending and they are dispatched again (at least once;
        // an executor still running the same attempt does not start it twice, and the history records one).
        // Nobody waits for an executor to take its runs: an executor on a silo that just died may not answer before
        // the response timeout. A failed hand-over puts its runs back.
        foreach (var (executor, runs) in batches)
        {
            _ = HandOverAsync(executor, runs);
        }

        // Armed before the write, so the next due time is not held up by it.
        Rearm(scheduler);
        if (mustSave)
        {
            await CommitAsync();
        }
        else if (batches.Count > 0 || finished.Count > 0)
        {
            // Nobody waits on dispatches and expired leases: a run dispatched again after a crash is fenced by its id
            // and attempt. They share a write with whatever follows within WriteDelay.
            _commit.CommitSoon();
        }

        _reminder.Set(scheduler.NeedsReminder);
    }

    private void Rearm(JobScheduler scheduler) => _alarm.Arm(scheduler.NextWakeUp(_time.GetUtcNow()), keepAlive: scheduler.NeedsReminder);

    private async Task HandOverAsync(string executor, List<InFlightRun> runs)
    {
        var scheduler = _scheduler!;
        var job = scheduler.Definition.Job;
        var orders = runs.ConvertAll(inFlight => new ExecutionOrder
        {
            JobName = Name,
            Job = job with { Args = inFlight.Run.Args ?? job.Args, TraceParent = inFlight.Run.TraceParent, TraceState = inFlight.Run.TraceState },
            ExecutionId = inFlight.Run.ExecutionId,
            Attempt = inFlight.Run.Attempt,
            ScheduledAt = inFlight.Run.DueAt,
            Lease = inFlight.Lease,
        });
        try
        {
            await _roster.Executor(executor).ExecuteAsync(orders);
        }
        catch (Exception ex)
        {
            // The executor's silo is going away: the runs go back to pending and are dispatched again.
            LogDispatchFailed(_logger, ex, Name, runs.Count, executor);
            var finished = new List<JobExecution>();
            foreach (var inFlight in runs)
            {
                scheduler.Undispatched(inFlight.Run, finished);
            }

            _waiters.Complete(finished);
            _commit.CommitSoon();
            Rearm(scheduler);
        }
    }

    private async Task SignalAsync(IReadOnlyList<InFlightRun> running)
    {
        await Task.WhenAll(running.Select(async r =>
        {
            try
            {
                await _roster.Executor(r.Executor).CancelAsync(r.Run.ExecutionId);
            }
            catch (Exception ex)
            {
                LogCancelFailed(_logger, ex, Name, r.Run.ExecutionId, r.Executor);
            }
        }));
    }

    private async Task PumpInBackgroundAsync()
    {
        if (_scheduler is null || _conflicted)
        {
            return;
        }

        try
        {
            await PumpAsync();
        }
        catch (Exception ex)
        {
            LogPumpFailed(_logger, ex, Name);
            Rearm(_scheduler);
        }
    }

    private async Task CommitAsync()
    {
        try
        {
            await _commit.CommitAsync();
        }
        catch (Exception ex) when (ex is not InconsistentStateException)
        {
            // The cause stays in the silo's log: a database's own exception may not cross to the caller.
            throw new JobStorageException($"Job '{Name}' could not write its state ({ex.GetType().Name}: {ex.Message}); it keeps trying. The call was not acknowledged.");
        }
    }

    private async Task WriteAsync()
    {
        var scheduler = _scheduler!;
        var changes = scheduler.TakeChanges();
        try
        {
            await _store.WriteAsync(changes);
        }
        catch
        {
            scheduler.NotWritten(changes);
            throw;
        }
    }

    private bool OnWriteFailed(Exception error)
    {
        LogWriteFailed(_logger, error, Name);
        if (error is InconsistentStateException)
        {
            // Another activation wrote meanwhile: this one stops answering and starts over from storage.
            _conflicted = true;
            _alarm.Stop();
            DeactivateOnIdle();
            return false;
        }

        return true;
    }

    // Grain timers for the plain classes: callbacks run on this activation, interleaved with its calls.
    private sealed class GrainTimers(ConcurrentJobGrain grain) : IJobTimers
    {
        public IJobTimer Create(Func<Task> callback, bool keepAlive) => new Timer(grain.RegisterGrainTimer(
            static (callback, _) => callback(),
            callback,
            new GrainTimerCreationOptions { DueTime = Timeout.InfiniteTimeSpan, Period = Timeout.InfiniteTimeSpan, Interleave = true, KeepAlive = keepAlive }));

        private sealed class Timer(IGrainTimer timer) : IJobTimer
        {
            public void Change(TimeSpan dueTime) => timer.Change(dueTime, Timeout.InfiniteTimeSpan);

            public void Dispose() => timer.Dispose();
        }
    }
}

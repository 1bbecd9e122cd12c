using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Work.Cluster;
using Work.Diagnostics;
using Work.Hosting;
using Work.Scheduling;

namespace Work.Grains;

/// <summary>
/// A named job in the cluster. Thin: the rules and the state live in <see cref="JobScheduler"/>; the state is kept by
/// <see cref="JobStore"/> through a <see cref="GroupCommit"/> (one write for everything that happened at once); a
/// <see cref="WakeUpAlarm"/> wakes the job at its next due time, the silo's <see cref="SleepingJobs"/> list wakes it when
/// it left memory (and the cluster's <see cref="JobWatchGrain"/> after its silo dies), and an
/// <see cref="ExecutorRoster{TExecutor}"/> picks the executors due runs are handed to. This class keeps the API, the
/// pump and the hand-over.
/// </summary>
[Reentrant]
internal sealed partial class ConcurrentJobGrain : Grain, IConcurrentJobGrain, IJobReportGrain, IRemindable
{
    // Earlier versions held a reminder per job; one still registered is dropped when it fires or the job loads.
    private const string LegacyReminderName = "work.job";

    // A job that leaves memory with something scheduled, other than to sleep (its silo is not stopping), is woken again
    // this soon.
    private static readonly TimeSpan s_wakeAgain = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan s_maxWait = TimeSpan.FromSeconds(20);

    private readonly TimeProvider _time;
    private readonly ExecutionEngine _engine;
    private readonly PreciseWakeUps _wakeUps;
    private readonly WorkClusterOptions _options;
    private readonly ILogger _logger;
    private readonly ExecutionWaiters _waiters;
    private readonly ExecutorRoster<IJobExecutorGrain> _roster;
    private readonly SleepingJobs _sleepers;
    private JobStore _store = null!;
    private GroupCommit _commit = null!;
    private WakeUpAlarm _alarm = null!;
    private JobScheduler? _scheduler;
    private string? _nameProblem;
    private bool _conflicted;

    // Attempts whose leases ran out and whose executors are being asked whether they still hold them.
    private readonly HashSet<(string ExecutionId, int Attempt)> _asking = [];

    // The queues each live silo serves, and whether the last pump found none serving the job's queue.
    private static readonly TimeSpan s_unservedRetry = TimeSpan.FromSeconds(1);
    private readonly SiloQueues _queues;
    private bool _unserved;
    private DateTimeOffset? _holdUntil;

    // Confirmations to executors under way, and whether this activation is going to sleep.
    private int _confirming;
    private bool _sleeping;

    // Deactivating: what it still writes frees no runs to send (the next activation sends them).
    private bool _leaving;

    // Set once OnActivateAsync is done: an activation cannot be asked to go while it is still activating.
    private bool _activated;

    // Whether this activation dispatched anything: a job that ran stays in memory while its next run is near.
    private bool _ranHere;

    // Accepts that arrive together share one pump: one dispatch per executor and one write for all of them.
    private readonly SharedTurn _acceptPump;
    private readonly ExecutorDrain _drain;

    public ConcurrentJobGrain(
        TimeProvider time,
        IClusterMembershipService membership,
        ExecutionEngine engine,
        PreciseWakeUps wakeUps,
        SleepingJobs sleepers,
        ExecutorDrain drain,
        IOptions<WorkClusterOptions> options,
        ILogger<ConcurrentJobGrain> logger)
    {
        _drain = drain;
        _time = time;
        _engine = engine;
        _wakeUps = wakeUps;
        _sleepers = sleepers;
        _options = options.Value;
        _logger = logger;
        _waiters = new ExecutionWaiters(time);
        _roster = new ExecutorRoster<IJobExecutorGrain>(() => membership.CurrentSnapshot, engine.SiloName, silo => GrainFactory.GetGrain<IJobExecutorGrain>(silo));
        _acceptPump = new SharedTurn(() => PumpAsync(mustSave: true));
        _queues = new SiloQueues(engine.SiloName, [.. _options.Queues]);
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

        var timers = new GrainJobTimers(this);
        _store = new JobStore(GrainStorageRecords.For(ServiceProvider), GrainContext.GrainId);
        OpenItems();
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

        _activated = true;
    }

    // What waits for a write is written before the activation goes, so a dispatch or completion is not redone.
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_nameProblem is not null)
        {
            return;
        }

        _alarm.Stop();
        _leaving = true;
        if (_scheduler is not { } scheduler || _conflicted)
        {
            return;
        }

        if (_commit.Busy)
        {
            try
            {
                await _commit.FlushAsync().WaitAsync(cancellationToken);
            }
            catch (Exception ex)
            {
                LogDeactivationWriteFailed(_logger, ex, Name, reason.Description);
            }
        }

        // A job going to sleep is woken for its next due time as it stands now, after every call it took meanwhile.
        if (_sleeping && scheduler.NextWakeUp(_time.GetUtcNow()) is { } next)
        {
            _sleepers.Add(Name, next);
            LogSleeping(_logger, Name, next);
        }
        else if (!_sleeping && scheduler.NeedsWaking && reason.ReasonCode != DeactivationReasonCode.ShuttingDown)
        {
            // Sent away with work to come (a failed activation's retry, or the runtime's choice): back soon. A silo that
            // stops leaves its jobs to the watch, which wakes them all once the silo has gone.
            _sleepers.WakeIn(Name, s_wakeAgain);
            LogWakingAgain(_logger, Name, reason.Description);
        }
    }

    public async Task DefineAsync(JobDefinition definition)
    {
        var scheduler = await UsableAsync();
        ArgumentNullException.ThrowIfNull(definition);
        scheduler.CheckDefinition(definition);
        CheckReceive(definition);
        if (!_engine.Handlers.Contains(definition.Job.Handler))
        {
            throw new ArgumentException(new Pipeline.JobHandlerNotFoundException(definition.Job.Handler, _engine.Handlers.Names).Message + $" Job '{Name}' was not defined.");
        }

        await GrainFactory.GetGrain<IJobCatalogGrain>(IJobCatalogGrain.Key).AddAsync(Name);
        var lowered = scheduler.IsDefined && definition.MaxWorkers < scheduler.Definition.MaxWorkers;
        scheduler.Define(definition);
        await PumpAsync(mustSave: true);
        StreamRoomMayHaveOpened();
        if (lowered)
        {
            // Runs sent ahead would keep the slots they take over: they come back and wait under the new cap.
            await RecallAsync(scheduler.ExecutorsWithQueuedRuns());
        }
    }

    public async Task StartAsync()
    {
        (await UsableAsync()).Start();
        await PumpAsync(mustSave: true);
        StreamRoomMayHaveOpened();
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
        Completed(cancelled);
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

    public async Task<string> PerformAtAsync(DateTimeOffset time, JobArgs? args = null) => await AcceptAsync(time, args);

    public async Task<string> PerformInAsync(TimeSpan delay, JobArgs? args = null) => await AcceptAsync((await UsableAsync()).DueIn(delay), args);

    public async Task<IReadOnlyList<string>> PerformManyAsync(IReadOnlyList<PerformRequest> requests)
    {
        var scheduler = await UsableAsync();
        var handler = scheduler.Definition.Job.Handler;
        var ids = scheduler.AcceptMany(requests, request =>
            WorkDiagnostics.CaptureTraceContext(request.At is null && request.Delay is null ? "enqueue" : "schedule", Name, handler, request.TraceParent, request.TraceState));
        await _acceptPump.RunAsync();
        return ids;
    }

    public async Task PerformEveryAsync(TimeSpan interval, bool sync = false)
    {
        (await UsableAsync()).SetEvery(new EverySchedule { Interval = interval, Sync = sync });
        await PumpAsync(mustSave: true);
    }

    public async Task PerformCronAsync(string cron, string? timeZone = null, bool sync = false)
    {
        (await UsableAsync()).SetEvery(EverySchedule.CronAt(cron, timeZone, sync));
        await PumpAsync(mustSave: true);
    }

    public async Task<JobExecution?> WaitAsync(string executionId, TimeSpan maxWait) =>
        (await UsableAsync()).Outcome(executionId) ?? await _waiters.WaitAsync(executionId, maxWait > s_maxWait ? s_maxWait : maxWait);

    public async Task<int> CancelAsync(string? executionId = null)
    {
        var cancelled = new List<JobExecution>();
        var running = (await UsableAsync()).Cancel(executionId, cancelled);
        await PumpAsync(cancelled, mustSave: true);
        await SignalAsync(running);
        return cancelled.Count + running.Count;
    }

    public async Task<JobInfo> GetInfoAsync()
    {
        var scheduler = await UsableAsync();
        var info = scheduler.Info(_time.GetUtcNow()) with { Silo = _engine.SiloName, HeldItems = scheduler.State.Items.Count };
        return scheduler.IsDefined && ServingSilos(scheduler).Serving.Count == 0
            ? info with { Waiting = $"No live silo serves queue '{scheduler.Definition.Job.Queue}'; its executions wait until one does." }
            : info;
    }

    public async Task<IReadOnlyList<JobExecution>> GetHistoryAsync(int count = 20) => (await UsableAsync()).Newest(count);

    public async Task<IReadOnlyList<JobExecution>> GetHistoryAsync(int skip, int count) => (await UsableAsync()).Newest(skip, count);

    public async Task<ExecutionState> GetExecutionAsync(string executionId) => (await UsableAsync()).Execution(executionId);

    public async Task<IReadOnlyList<ExecutionState>> GetPendingAsync(int skip, int count) => (await UsableAsync()).Unfinished(skip, count);

    public async Task ReportAsync(string executor, IReadOnlyList<ExecutionReport> reports)
    {
        ArgumentNullException.ThrowIfNull(reports);
        var scheduler = await UsableAsync();
        var finished = new List<JobExecution>();
        var accepted = 0;
        var now = _time.GetUtcNow();
        foreach (var report in reports)
        {
            // The queued run that took the slot holds it now, whatever became of the run that ended.
            if (report.Next is { } next && scheduler.HandedOver(executor, next, now, _options.LeaseDuration))
            {
                accepted++;
            }

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
            // The results count (and free their workers) now; their write may wait the write delay for company, so a
            // run accepted meanwhile shares its commit.
            await PumpAsync(finished);
            _commit.CommitSoon();
        }

        _ = ConfirmWhenDurableAsync(executor, reports);
    }

    // The executor renews reported attempts, and reports them again, until it hears they are durable.
    private async Task ConfirmWhenDurableAsync(string executor, IReadOnlyList<ExecutionReport> reports)
    {
        if (!_roster.ActiveSilos().Contains(executor))
        {
            // Not a live silo's executor: nobody to confirm to.
            return;
        }

        _confirming++;
        try
        {
            if (_commit.Busy)
            {
                await _commit.CommitSoonAsync();
            }

            await _roster.Executor(executor).ConfirmAsync(Name, reports.Select(r => new ExecutionAttempt(r.Execution.ExecutionId, r.Execution.Attempt)).ToList());
        }
        catch (Exception ex)
        {
            LogConfirmFailed(_logger, ex, Name, reports.Count, executor);
        }
        finally
        {
            _confirming--;
        }

        ConsiderSleep();
    }

    public async Task ReturnAsync(string executor, IReadOnlyList<ExecutionLease> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        var scheduler = await UsableAsync();
        var finished = new List<JobExecution>();
        var returned = runs.Count(run => scheduler.Returned(run, finished));
        if (returned > 0)
        {
            await PumpAsync(finished);
            _commit.CommitSoon();
        }
    }

    public async Task RenewAsync(IReadOnlyList<ExecutionLease> leases)
    {
        ArgumentNullException.ThrowIfNull(leases);
        var scheduler = await UsableAsync();
        var now = _time.GetUtcNow();
        foreach (var lease in leases)
        {
            scheduler.Renew(lease.ExecutionId, lease.Attempt, lease.Lease, lease.Executor, now, _options.LeaseDuration);
        }

        Rearm(scheduler);
    }

    public async Task WakeAsync()
    {
        await UsableAsync();

        // Woken for a silo's start, say, with nothing due soon: back to sleep.
        ConsiderSleep();
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        await UsableAsync();
        await DropLegacyReminderAsync();
        await PumpAsync();
    }

    private async Task<string> AcceptAsync(DateTimeOffset? due, JobArgs? args)
    {
        var scheduler = await UsableAsync();
        var (traceParent, traceState) = WorkDiagnostics.CaptureTraceContext(due is null ? "enqueue" : "schedule", Name, scheduler.Definition.Job.Handler);
        var run = scheduler.Accept(due ?? _time.GetUtcNow(), args, traceParent, traceState);
        await _acceptPump.RunAsync();
        return run.ExecutionId;
    }
}

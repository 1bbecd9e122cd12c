using System.Globalization;
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
/// A named job in the cluster. Thin: the rules live in <see cref="JobScheduler"/>; this grain keeps the state durable
/// (one write for everything that happened at once), fires one grain timer at the earliest due time, holds a reminder
/// while anything is scheduled so it is reactivated after its silo dies, and hands due runs to executors spread
/// over the live silos.
/// </summary>
[Reentrant]
internal sealed partial class ConcurrentJobGrain : Grain, IConcurrentJobGrain, IRemindable
{
    private const string ReminderName = "work.job";
    private static readonly TimeSpan s_maxWait = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan s_saveRetryDelay = TimeSpan.FromSeconds(1);

    private readonly IPersistentState<JobState> _state;
    private readonly TimeProvider _time;
    private readonly IClusterMembershipService _membership;
    private readonly ExecutionEngine _engine;
    private readonly WorkClusterOptions _options;
    private readonly ILogger _logger;
    private readonly Dictionary<string, List<TaskCompletionSource<JobExecution>>> _waiters = new(StringComparer.Ordinal);
    private JobScheduler _scheduler = null!;
    private IGrainTimer? _timer;
    private readonly PreciseWakeUps _wakeUps;
    // The due time of the pending precise wake-up, and the number of the latest arming: a wake-up from an earlier
    // arming does nothing.
    private DateTimeOffset? _preciseAt;
    private long _wakeUp;
    // Null until this activation has registered or checked its reminder.
    private bool? _reminderRegistered;
    private Task _reminderUpdate = Task.CompletedTask;
    private bool _reminderStale;
    private bool _timerKeepsAlive;
    private bool _writing;
    private TaskCompletionSource? _nextWrite;
    private bool _urgentWrite;
    private IGrainTimer _writeSoon = null!;
    private bool _writeSoonArmed;
    private IGrainTimer? _saveRetry;
    private TaskCompletionSource? _pumpSoon;
    // The stored segments of the ready queue and the history, by state name, with their ETags.
    private readonly Dictionary<string, GrainState<ReadySegment>> _readySegments = new(StringComparer.Ordinal);
    private readonly Dictionary<string, GrainState<HistorySegment>> _historySegments = new(StringComparer.Ordinal);
    private IGrainStorage _storage = null!;
    private readonly Dictionary<string, IJobExecutorGrain> _executors = new(StringComparer.Ordinal);
    private int _nextExecutor;
    private List<string>? _silos;
    private MembershipVersion _silosVersion;

    public ConcurrentJobGrain(
        [PersistentState("job", WorkClusterOptions.StorageName)] IPersistentState<JobState> state,
        TimeProvider time,
        IClusterMembershipService membership,
        ExecutionEngine engine,
        PreciseWakeUps wakeUps,
        IOptions<WorkClusterOptions> options,
        ILogger<ConcurrentJobGrain> logger)
    {
        _state = state;
        _time = time;
        _membership = membership;
        _engine = engine;
        _wakeUps = wakeUps;
        _options = options.Value;
        _logger = logger;
    }

    private string Name => this.GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _storage = ServiceProvider.GetRequiredKeyedService<IGrainStorage>(WorkClusterOptions.StorageName);
        var ready = new ReadyQueue(_state.State);
        ready.Load(await ReadSegmentsAsync(_readySegments, ReadySegmentName, _state.State.ReadyHead, _state.State.ReadyTail, s => s.Runs));
        var history = new HistoryLog(_state.State);
        history.Load(await ReadSegmentsAsync(_historySegments, HistorySegmentName, _state.State.HistoryHead, _state.State.HistoryTail, s => s.Records));
        _scheduler = new JobScheduler(Name, _state.State, _time, lostRedeliveries: _options.LostRedeliveries, ready: ready, history: history);
        _writeSoon = this.RegisterGrainTimer(
            static (grain, _) => grain.OnWriteSoon(),
            this,
            new GrainTimerCreationOptions { DueTime = Timeout.InfiniteTimeSpan, Period = Timeout.InfiniteTimeSpan, Interleave = true, KeepAlive = true });
        SetTimer(keepAlive: _scheduler.NeedsReminder);

        // Executors cannot have renewed with this activation yet: give every attempt in flight one lease period to
        // report or renew before it counts as lost.
        _scheduler.Renew(_state.State.InFlight.Keys.ToList(), _time.GetUtcNow(), _options.LeaseDuration);
        if (_state.RecordExists)
        {
            LogActivated(_logger, Name, _scheduler.PendingCount, _state.State.InFlight.Count, _state.State.Recurring is not null);
        }

        // Due times that passed while the job was not active are handled now (misfire policy for recurring ticks).
        await PumpAsync();
    }

    // What waits for a write is written before the activation goes, so a dispatch or completion is not redone.
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _wakeUp++;
        if (_nextWrite is null && !_writing)
        {
            return;
        }

        try
        {
            await SaveAsync().WaitAsync(cancellationToken);
        }
        catch (Exception ex)
        {
            LogDeactivationWriteFailed(_logger, ex, Name, reason.Description);
        }
    }

    public async Task DefineAsync(JobDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        if (string.IsNullOrWhiteSpace(Name))
        {
            throw new ArgumentException("A job needs a name; the grain key is empty.");
        }

        if (definition.Job is { Handler: { } handler } && !string.IsNullOrWhiteSpace(handler) && !_engine.Handlers.Contains(handler))
        {
            throw new ArgumentException(new Pipeline.JobHandlerNotFoundException(handler, _engine.Handlers.Names).Message + $" Job '{Name}' was not defined.");
        }

        _scheduler.Define(definition);
        await GrainFactory.GetGrain<IJobCatalogGrain>(IJobCatalogGrain.Key).AddAsync(Name);
        await PumpAsync(mustSave: true);
    }

    public async Task StartAsync()
    {
        _scheduler.Start();
        await PumpAsync(mustSave: true);
    }

    public async Task StopAsync()
    {
        var cancelled = new List<JobExecution>();
        var running = _scheduler.Stop(cancelled);
        await PumpAsync(cancelled, mustSave: true);
        await SignalAsync(running);
    }

    public async Task<string> EnqueueAsync(JobArgs? args = null) => await AcceptAsync(_time.GetUtcNow(), args, "enqueue");

    public async Task<string> PerformAtAsync(DateTimeOffset time, JobArgs? args = null)
    {
        if (time == default)
        {
            throw new ArgumentException("PerformAt needs a time; the default DateTimeOffset is not one.", nameof(time));
        }

        return await AcceptAsync(time, args, "schedule");
    }

    public async Task<string> PerformInAsync(TimeSpan delay, JobArgs? args = null)
    {
        if (delay <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(delay), delay, "PerformIn needs a positive delay.");
        }

        return await AcceptAsync(_time.GetUtcNow() + delay, args, "schedule");
    }

    public async Task<IReadOnlyList<string>> PerformManyAsync(IReadOnlyList<PerformRequest> requests)
    {
        ArgumentNullException.ThrowIfNull(requests);
        if (requests.Count > PerformRequest.MaxPerCall)
        {
            throw new ArgumentException($"PerformMany takes at most {PerformRequest.MaxPerCall} requests; it got {requests.Count}. Nothing was accepted.", nameof(requests));
        }

        // All are checked before any is accepted, so a bad request leaves the job as it was.
        _scheduler.EnsureStarted();
        for (var i = 0; i < requests.Count; i++)
        {
            if ((requests[i] ?? throw new ArgumentException($"Request {i} is null. Nothing was accepted.", nameof(requests))).Problem() is { } problem)
            {
                throw new ArgumentException($"Request {i}: {problem} Nothing was accepted.", nameof(requests));
            }
        }

        var now = _time.GetUtcNow();
        var handler = _scheduler.Definition.Job.Handler;
        var ids = new string[requests.Count];
        for (var i = 0; i < requests.Count; i++)
        {
            var request = requests[i];
            var operation = request.At is null ? "enqueue" : "schedule";
            var (traceParent, traceState) = WorkDiagnostics.CaptureTraceContext(operation, Name, handler, request.TraceParent, request.TraceState);
            ids[i] = _scheduler.Accept(request.At ?? now, request.Args, traceParent, traceState).ExecutionId;
        }

        await PumpSoonAsync();
        return ids;
    }

    public async Task PerformEveryAsync(TimeSpan interval, bool sync = false)
    {
        _scheduler.SetEvery(new EverySchedule { Interval = interval, Sync = sync });
        await PumpAsync(mustSave: true);
    }

    public async Task<JobExecution?> WaitAsync(string executionId, TimeSpan maxWait)
    {
        if (!_scheduler.IsActive(executionId))
        {
            return _scheduler.LastRecord(executionId)
                ?? throw new KeyNotFoundException($"Job '{Name}' has no execution '{executionId}' pending, running or in its history.");
        }

        var waiter = new TaskCompletionSource<JobExecution>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_waiters.TryGetValue(executionId, out var list))
        {
            _waiters[executionId] = list = [];
        }

        list.Add(waiter);
        try
        {
            var wait = maxWait < TimeSpan.Zero ? TimeSpan.Zero : maxWait > s_maxWait ? s_maxWait : maxWait;
            return await waiter.Task.WaitAsync(wait, _time);
        }
        catch (TimeoutException)
        {
            return null;
        }
        finally
        {
            if (_waiters.TryGetValue(executionId, out var remaining) && remaining.Remove(waiter) && remaining.Count == 0)
            {
                _waiters.Remove(executionId);
            }
        }
    }

    public async Task<int> CancelAsync(string? executionId = null)
    {
        var cancelled = new List<JobExecution>();
        var running = _scheduler.Cancel(executionId, cancelled);
        await PumpAsync(cancelled, mustSave: true);
        await SignalAsync(running);
        return cancelled.Count + running.Count;
    }

    public Task<JobInfo> GetInfoAsync() => Task.FromResult(_scheduler.Info(_time.GetUtcNow()) with { Silo = _engine.SiloName });

    public Task<IReadOnlyList<JobExecution>> GetHistoryAsync(int count = 20) =>
        Task.FromResult<IReadOnlyList<JobExecution>>(_scheduler.History.Newest(count));

    public async Task ReportAsync(IReadOnlyList<JobExecution> executions)
    {
        ArgumentNullException.ThrowIfNull(executions);
        var finished = new List<JobExecution>();
        var accepted = 0;
        foreach (var execution in executions)
        {
            if (_scheduler.Report(execution, finished))
            {
                accepted++;
            }
            else
            {
                LogIgnoredReport(_logger, Name, execution.ExecutionId, execution.Attempt, execution.Worker);
            }
        }

        if (accepted > 0)
        {
            // The executor keeps renewing these attempts until this returns, so it returns once they are durable.
            await PumpAsync(finished, mustSave: true);
        }
    }

    public Task RenewLeasesAsync(IReadOnlyList<string> executionIds)
    {
        _scheduler.Renew(executionIds, _time.GetUtcNow(), _options.LeaseDuration);
        Arm();
        return Task.CompletedTask;
    }

    public Task ReceiveReminder(string reminderName, TickStatus status) => PumpAsync();

    private async Task<string> AcceptAsync(DateTimeOffset due, JobArgs? args, string operation)
    {
        var handler = _scheduler.Definition.Job.Handler;
        var (traceParent, traceState) = WorkDiagnostics.CaptureTraceContext(operation, Name, handler);
        var run = _scheduler.Accept(due, args, traceParent, traceState);
        await PumpSoonAsync();
        return run.ExecutionId;
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
    /// just changed durable in one group-committed write, and re-arms the timer.
    /// </summary>
    private async Task PumpAsync(List<JobExecution>? finished = null, bool mustSave = false)
    {
        var now = _time.GetUtcNow();
        finished ??= [];
        var due = _scheduler.TakeDue(now, finished);
        Dictionary<string, List<PendingRun>>? batches = null;
        if (due.Count > 0)
        {
            batches = [];
            var silos = ActiveSilos();
            var load = _state.State.InFlight.Values.GroupBy(f => f.Executor).ToDictionary(g => g.Key, g => g.Count());
            foreach (var run in due)
            {
                var executor = PickExecutor(silos, load);
                _scheduler.Dispatched(run, executor, now, _options.LeaseDuration);
                if (!batches.TryGetValue(executor, out var batch))
                {
                    batches[executor] = batch = [];
                }

                batch.Add(run);
            }
        }

        Complete(finished);

        // Runs go out while the write is under way: a tick is not late by a storage round trip. If this silo dies
        // before the write lands, storage still holds them as pending and they are dispatched again (at least once;
        // an executor still running the same attempt does not start it twice, and the history records one).
        // Nobody waits for an executor to take its runs: an executor on a silo that just died may not answer before
        // the response timeout. A failed hand-over puts its runs back (see SendAsync).
        foreach (var (executor, runs) in batches ?? [])
        {
            _ = SendAsync(executor, runs);
        }

        // Armed before the write, so the next due time is not held up by it.
        Arm();
        if (mustSave)
        {
            await SaveAsync();
        }
        else if (batches is not null || finished.Count > 0)
        {
            // Nobody waits on dispatches and expired leases: a run dispatched again after a crash is fenced by its id
            // and attempt. They share a write with whatever follows within WriteDelay. Failures are logged and retried
            // by the write itself.
            SaveSoon();
        }

        UpdateReminder();
    }

    private async Task SendAsync(string executor, List<PendingRun> runs)
    {
        var job = _scheduler.Definition.Job;
        var orders = runs.Select(run => new ExecutionOrder
        {
            JobName = Name,
            Job = job with { Args = run.Args ?? job.Args, TraceParent = run.TraceParent, TraceState = run.TraceState },
            ExecutionId = run.ExecutionId,
            Attempt = run.Attempt,
            ScheduledAt = run.DueAt,
        }).ToList();
        try
        {
            await Executor(executor).ExecuteAsync(orders);
        }
        catch (Exception ex)
        {
            // The executor's silo is going away: the runs go back to pending and are dispatched again.
            LogDispatchFailed(_logger, ex, Name, runs.Count, executor);
            foreach (var run in runs)
            {
                _scheduler.Undispatched(run);
            }

            SaveSoon();
            Arm();
        }
    }

    private async Task SignalAsync(IReadOnlyList<InFlightRun> running)
    {
        await Task.WhenAll(running.Select(async r =>
        {
            try
            {
                await Executor(r.Executor).CancelAsync(r.Run.ExecutionId);
            }
            catch (Exception ex)
            {
                LogCancelFailed(_logger, ex, Name, r.Run.ExecutionId, r.Executor);
            }
        }));
    }

    // Made once per silo: a grain reference costs more to make than a dispatch.
    private IJobExecutorGrain Executor(string silo)
    {
        if (!_executors.TryGetValue(silo, out var executor))
        {
            _executors[silo] = executor = GrainFactory.GetGrain<IJobExecutorGrain>(silo);
        }

        return executor;
    }

    private List<string> ActiveSilos()
    {
        var snapshot = _membership.CurrentSnapshot;
        if (_silos is null || _silosVersion != snapshot.Version)
        {
            _silos = snapshot.Members.Values
                .Where(m => m.Status == SiloStatus.Active)
                .Select(m => m.SiloAddress.ToParsableString())
                .Order(StringComparer.Ordinal)
                .ToList();
            _silosVersion = snapshot.Version;
            foreach (var gone in _executors.Keys.Except(_silos).ToList())
            {
                _executors.Remove(gone);
            }
        }

        return _silos.Count > 0 ? _silos : [_engine.SiloName];
    }

    // The live silo with the fewest of this job's executions, ties broken round-robin.
    private string PickExecutor(List<string> silos, Dictionary<string, int> load)
    {
        var best = -1;
        var bestLoad = int.MaxValue;
        for (var i = 0; i < silos.Count; i++)
        {
            var candidate = (_nextExecutor + i) % silos.Count;
            var count = load.GetValueOrDefault(silos[candidate]);
            if (count < bestLoad)
            {
                best = candidate;
                bestLoad = count;
            }
        }

        _nextExecutor = (best + 1) % silos.Count;
        load[silos[best]] = bestLoad + 1;
        return silos[best];
    }

    // The grain timer covers the long wait and fires a little early; the last stretch is a precise wake-up, since
    // grain timers are only as exact as the system's coarse tick (several milliseconds).
    private void Arm()
    {
        var now = _time.GetUtcNow();
        var next = _scheduler.NextWakeUp(now);
        if (next is { } at && at > now && at - now <= PreciseWakeUps.Window)
        {
            _timer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            if (_preciseAt != at)
            {
                _preciseAt = at;
                _ = WakeUpAtAsync(at, ++_wakeUp);
            }

            return;
        }

        _preciseAt = null;
        _wakeUp++;
        var due = next is null ? Timeout.InfiniteTimeSpan : next.Value <= now ? TimeSpan.Zero : next.Value - now - (PreciseWakeUps.Window / 2);
        _timer?.Change(due, Timeout.InfiniteTimeSpan);
    }

    private async Task WakeUpAtAsync(DateTimeOffset at, long wakeUp)
    {
        await _wakeUps.WaitUntilAsync(at);
        if (wakeUp == _wakeUp)
        {
            _preciseAt = null;
            await PumpInBackgroundAsync();
        }
    }

    // The timer keeps the activation alive only while something is scheduled, so idle jobs can be collected.
    private void SetTimer(bool keepAlive)
    {
        _timer?.Dispose();
        _timerKeepsAlive = keepAlive;
        _timer = this.RegisterGrainTimer(
            static (grain, _) => grain.OnTimer(),
            this,
            new GrainTimerCreationOptions { DueTime = Timeout.InfiniteTimeSpan, Period = Timeout.InfiniteTimeSpan, Interleave = true, KeepAlive = keepAlive });
        Arm();
    }

    // A timer callback never overlaps the previous one: returning at once lets the next due time fire while this
    // pump's write is still under way.
    private Task OnTimer()
    {
        _ = PumpInBackgroundAsync();
        return Task.CompletedTask;
    }

    private async Task PumpInBackgroundAsync()
    {
        try
        {
            await PumpAsync();
        }
        catch (Exception ex)
        {
            LogPumpFailed(_logger, ex, Name);
            Arm();
        }
    }

    // The reminder is only how a job comes back after its silo dies, and silos also wake every job when a silo starts
    // or dies: so it is brought up to date beside the pump, not in its way. The reminder service can be slow to answer
    // while the silo owning this job's share of reminders is being declared dead, and a job must answer meanwhile.
    private void UpdateReminder()
    {
        var needed = _scheduler.NeedsReminder;
        if (needed != _timerKeepsAlive)
        {
            SetTimer(needed);
        }

        if (!_reminderUpdate.IsCompleted)
        {
            _reminderStale = true;
            return;
        }

        if (needed != _reminderRegistered)
        {
            _reminderUpdate = UpdateReminderAsync();
        }
    }

    private async Task UpdateReminderAsync()
    {
        try
        {
            do
            {
                _reminderStale = false;
                var needed = _scheduler.NeedsReminder;
                if (needed == _reminderRegistered)
                {
                    continue;
                }

                if (needed)
                {
                    await this.RegisterOrUpdateReminder(ReminderName, _options.ReminderPeriod, _options.ReminderPeriod);
                }
                else if (await this.GetReminder(ReminderName) is { } reminder)
                {
                    await this.UnregisterReminder(reminder);
                }

                _reminderRegistered = needed;
            }
            while (_reminderStale);
        }
        catch (Exception ex)
        {
            // Tried again at the next pump.
            _reminderRegistered = null;
            LogReminderFailed(_logger, ex, Name);
        }
    }

    private void Complete(List<JobExecution> finished)
    {
        foreach (var execution in finished)
        {
            if (_waiters.Remove(execution.ExecutionId, out var waiters))
            {
                foreach (var waiter in waiters)
                {
                    waiter.TrySetResult(execution);
                }
            }
        }
    }

    // Group commit: while a write is under way, later changes share the next write. A change someone waits on (an
    // accept, a definition) starts the next write as soon as the current one is done; other changes wait up to
    // WriteDelay for company.
    private Task SaveAsync(bool soon = false)
    {
        var round = _nextWrite ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _urgentWrite |= !soon;
        if (!_writing)
        {
            if (_urgentWrite || _options.WriteDelay <= TimeSpan.Zero)
            {
                StartWriting();
            }
            else if (!_writeSoonArmed)
            {
                _writeSoonArmed = true;
                _writeSoon.Change(_options.WriteDelay, Timeout.InfiniteTimeSpan);
            }
        }

        return round.Task;
    }

    // A write nobody waits on; a failure is logged and retried by the write itself.
    private void SaveSoon() =>
        _ = SaveAsync(soon: true).ContinueWith(
            static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Current);

    private Task OnWriteSoon()
    {
        _writeSoonArmed = false;
        if (!_writing && _nextWrite is not null)
        {
            StartWriting();
        }

        return Task.CompletedTask;
    }

    private void StartWriting()
    {
        if (_writeSoonArmed)
        {
            _writeSoonArmed = false;
            _writeSoon.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }

        _ = WriteRoundsAsync();
    }

    private async Task WriteRoundsAsync()
    {
        _writing = true;
        while (_nextWrite is { } round)
        {
            _nextWrite = null;
            _urgentWrite = false;
            var dirty = _scheduler.Ready.TakeDirty();
            var dropped = _scheduler.Ready.TakeDropped();
            var dirtyHistory = _scheduler.History.TakeDirty();
            var droppedHistory = _scheduler.History.TakeDropped();
            try
            {
                // Segments first, then the main state that points at them, then the segments it no longer needs.
                await Task.WhenAll(
                    dirty.Select(segment => WriteSegmentAsync(_readySegments, ReadySegmentName(segment.Number), new ReadySegment { Runs = segment.Runs }))
                        .Concat(dirtyHistory.Select(segment => WriteSegmentAsync(_historySegments, HistorySegmentName(segment.Number), new HistorySegment { Records = segment.Records }))));
                await _state.WriteStateAsync();
                await Task.WhenAll(
                    dropped.Select(number => ClearSegmentAsync(_readySegments, ReadySegmentName(number)))
                        .Concat(droppedHistory.Select(number => ClearSegmentAsync(_historySegments, HistorySegmentName(number)))));
                round.TrySetResult();
            }
            catch (Exception ex)
            {
                LogWriteFailed(_logger, ex, Name);
                _scheduler.Ready.MarkDirty(dirty.Select(d => d.Number));
                _scheduler.History.MarkDirty(dirtyHistory.Select(d => d.Number));
                _scheduler.Ready.ReturnDropped(dropped);
                _scheduler.History.ReturnDropped(droppedHistory);
                round.TrySetException(ex);
                if (ex is Orleans.Storage.InconsistentStateException)
                {
                    // Another activation wrote meanwhile: start over from storage.
                    DeactivateOnIdle();
                }
                else
                {
                    RetrySaveLater();
                }
            }

            if (_nextWrite is not null && !_urgentWrite && _options.WriteDelay > TimeSpan.Zero)
            {
                // Only changes nobody waits on: let them gather.
                _writing = false;
                _ = SaveAsync(soon: true);
                return;
            }
        }

        _writing = false;
    }

    // Storage is unreachable: the changes stay in memory and are written again shortly, also if nothing else changes.
    private void RetrySaveLater() =>
        _saveRetry ??= this.RegisterGrainTimer(
            static (grain, _) => grain.RetrySaveAsync(),
            this,
            new GrainTimerCreationOptions { DueTime = s_saveRetryDelay, Period = Timeout.InfiniteTimeSpan, Interleave = true, KeepAlive = true });

    private async Task RetrySaveAsync()
    {
        _saveRetry?.Dispose();
        _saveRetry = null;
        try
        {
            await SaveAsync();
        }
        catch (Exception)
        {
            // Logged by the write, which also arranged the next try.
        }
    }

    private static string ReadySegmentName(long number) => string.Create(CultureInfo.InvariantCulture, $"job-ready-{number}");

    private static string HistorySegmentName(long number) => string.Create(CultureInfo.InvariantCulture, $"job-history-{number}");

    private async Task WriteSegmentAsync<T>(Dictionary<string, GrainState<T>> stored, string name, T value)
    {
        if (!stored.TryGetValue(name, out var segment))
        {
            stored[name] = segment = new GrainState<T>(value);
        }

        segment.State = value;
        await _storage.WriteStateAsync(name, GrainContext.GrainId, segment);
    }

    private async Task ClearSegmentAsync<T>(Dictionary<string, GrainState<T>> stored, string name)
    {
        // Forgotten only once cleared: a failed clear is tried again with the next write.
        if (stored.TryGetValue(name, out var segment))
        {
            if (segment.RecordExists)
            {
                await _storage.ClearStateAsync(name, GrainContext.GrainId, segment);
            }

            stored.Remove(name);
        }
    }

    // Segments from the stored head through the stored tail, and any written after it whose tail update was lost.
    private async Task<List<(long Number, List<TItem> Items)>> ReadSegmentsAsync<TSegment, TItem>(
        Dictionary<string, GrainState<TSegment>> stored, Func<long, string> name, long head, long tail, Func<TSegment, List<TItem>> items)
        where TSegment : new()
    {
        var found = new List<(long, List<TItem>)>();
        for (var number = head; ; number++)
        {
            var segment = new GrainState<TSegment>(new TSegment());
            await _storage.ReadStateAsync(name(number), GrainContext.GrainId, segment);
            if (!segment.RecordExists)
            {
                if (number > tail)
                {
                    break;
                }

                continue;
            }

            stored[name(number)] = segment;
            found.Add((number, segment.State is { } value ? items(value) : []));
        }

        return found;
    }
}

using Orleans.Storage;
using Work.Scheduling;

namespace Work.Grains;

// The job's machinery around its API: loading, the pump, the hand-over to executors, and its writes.
internal sealed partial class ConcurrentJobGrain
{
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
        if (scheduler.State.ReminderPeriod is not null)
        {
            _ = DropLegacyReminderAsync();
        }

        // Executors cannot have renewed with this activation yet: every attempt in flight gets one lease period to
        // report or renew before it counts as lost.
        scheduler.RenewAll(_time.GetUtcNow(), _options.LeaseDuration);
        if (_store.RecordExists)
        {
            LogActivated(_logger, Name, scheduler.PendingCount, scheduler.InFlightCount, scheduler.NeedsWaking);
        }

        if (scheduler.Problem is { } problem)
        {
            LogStoredProblem(_logger, problem);
        }

        // Due times that passed while the job was not active are handled now (misfire policy for recurring ticks).
        await PumpAsync();
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
        AskBeforeLosing(scheduler, now);

        // Runs go only to live silos that serve the job's queue; with none, they wait. While a silo's answer is due
        // (for at most a second) they wait for it too, so the first runs spread over every silo that serves the queue.
        var (serving, hold) = ServingSilos(scheduler);
        _unserved = serving.Count == 0;
        _holdUntil = hold;
        var dispatch = !_unserved && hold is null;
        var due = scheduler.TakeDue(now, finished, dispatch);
        var batches = new Dictionary<string, List<InFlightRun>>(StringComparer.Ordinal);
        if (due.Count > 0)
        {
            _ranHere = true;
            foreach (var (executor, runs) in _roster.Assign(due, scheduler.InFlightByExecutor(), serving))
            {
                batches[executor] = runs.ConvertAll(run => scheduler.Dispatched(run, executor, now, _options.LeaseDuration));
            }
        }

        // What is due beyond the free slots waits on executors holding slots, to start there as their runs end.
        foreach (var (run, executor) in dispatch ? scheduler.TakeAhead(now, serving) : [])
        {
            if (!batches.TryGetValue(executor, out var runs))
            {
                batches[executor] = runs = [];
            }

            _ranHere = true;
            runs.Add(scheduler.Dispatched(run, executor, now, _options.LeaseDuration, queued: true));
        }

        Completed(finished);

        // A write someone waits for starts first, so its statement is on its way while the runs go out.
        Task? committed = null;
        if (mustSave)
        {
            committed = CommitAsync();
        }
        else if (batches.Count > 0 || finished.Count > 0 || scheduler.UnwrittenReruns > 0)
        {
            // Nobody waits on dispatches and expired leases: a run dispatched again after a crash is fenced by its id
            // and attempt. They share a write with whatever follows within WriteDelay. The rerun of a lost attempt
            // waits for that write.
            _commit.CommitSoon();
        }

        // Runs go out while the write is under way: a tick is not late by a storage round trip. If this silo dies
        // before the write lands, storage still holds them as pending and they are dispatched again (at least once;
        // an executor still running the same attempt does not start it twice, and the history records one).
        // Nobody waits for an executor to take its runs: an executor on a silo that just died may not answer before
        // the response timeout. A failed hand-over puts its runs back.
        foreach (var (executor, runs) in batches)
        {
            _ = HandOverAsync(executor, runs);
        }

        // Armed before the write ends, so the next due time is not held up by it.
        Rearm(scheduler);
        if (committed is not null)
        {
            await committed;
        }

        ReadItems(scheduler);
        ConsiderSleep();
    }

    // A reminder an earlier version registered for the job: the cluster's watch does its work now. Tried again at the
    // next activation if it fails.
    private async Task DropLegacyReminderAsync()
    {
        try
        {
            if (await this.GetReminder(LegacyReminderName) is { } reminder)
            {
                await this.UnregisterReminder(reminder);
            }

            if (_scheduler is { State.ReminderPeriod: not null } scheduler)
            {
                scheduler.State.ReminderPeriod = null;
                _commit.CommitSoon();
            }
        }
        catch (Exception ex)
        {
            LogReminderFailed(_logger, ex, Name);
        }
    }

    /// <summary>
    /// Leaves memory when the job is idle for a while: nothing ready or running, everything written and confirmed, and
    /// its next due time at least <see cref="WorkClusterOptions.IdleDeactivation"/> away (2 × <see cref="SleepingJobs.WakeLead"/>
    /// for an activation that has run nothing, such as one the watch woke). The silo's <see cref="SleepingJobs"/> wakes
    /// it shortly before that time; any call wakes it sooner; if this silo dies, the cluster's watch wakes it.
    /// </summary>
    private void ConsiderSleep()
    {
        if (_sleeping || !_activated || _options.IdleDeactivation <= TimeSpan.Zero || _scheduler is not { } scheduler || _conflicted
            || scheduler.Ready.Count > 0 || scheduler.InFlightCount > 0 || scheduler.State.Items.Count > 0 || scheduler.Receiving is { Kind: SourceKind.Table } || _commit.Busy || _confirming > 0 || _waiters.Count > 0)
        {
            return;
        }

        // An activation that has run nothing (woken by the watch, say) goes back to sleep unless its due time is
        // about as close as a sleeping job's wake-up would be.
        var now = _time.GetUtcNow();
        var threshold = _ranHere ? _options.IdleDeactivation : 2 * SleepingJobs.WakeLead;
        if (scheduler.NextWakeUp(now) is not { } next || next - now < threshold)
        {
            return;
        }

        // OnDeactivateAsync puts it on the silo's list, with its next due time as it stands then.
        _sleeping = true;
        DeactivateOnIdle();
    }

    private void Rearm(JobScheduler scheduler)
    {
        var now = _time.GetUtcNow();
        var next = scheduler.NextWakeUp(now);
        if (next is { } at && (_holdUntil ?? (_unserved ? now + s_unservedRetry : null)) is { } later && at < later)
        {
            // Runs wait for a silo's answer, or for a silo that serves the queue: look again then, not at once.
            next = later;
        }

        _alarm.Arm(next, keepAlive: scheduler.NeedsWaking);
    }

    private async Task HandOverAsync(string executor, List<InFlightRun> runs)
    {
        var scheduler = _scheduler!;
        var job = scheduler.Definition.Job;
        var orders = runs.ConvertAll(inFlight => ExecutionOrder.For(Name, job, inFlight));
        try
        {
            if (!await _roster.Executor(executor).ExecuteAsync(orders))
            {
                // The executor's silo is stopping: it serves nothing from now on. It gives back the runs it does not
                // hold already, and they go to other silos.
                LogExecutorStopping(_logger, Name, runs.Count, executor);
                _queues.Stopping(executor);
            }
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

            Completed(finished);
            _commit.CommitSoon();
            Rearm(scheduler);
        }
    }

    private async Task RecallAsync(IReadOnlyList<string> executors)
    {
        await Task.WhenAll(executors.Select(async executor =>
        {
            try
            {
                await _roster.Executor(executor).RecallAsync(Name);
            }
            catch (Exception ex)
            {
                // Its runs keep their slots until they end: a lowered cap then takes effect as they do.
                LogRecallFailed(_logger, ex, Name, executor);
            }
        }));
    }

    private async Task SignalAsync(IReadOnlyList<InFlightRun> running)
    {
        // One call per executor, so it takes its queued runs back before any running one ends and hands its slot on.
        await Task.WhenAll(running.GroupBy(r => r.Executor).Select(async onExecutor =>
        {
            var ids = onExecutor.Select(r => r.Run.ExecutionId).ToList();
            try
            {
                await _roster.Executor(onExecutor.Key).CancelAsync(ids);
            }
            catch (Exception ex)
            {
                LogCancelFailed(_logger, ex, Name, string.Join(", ", ids), onExecutor.Key);
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

    // A write that stored the loss of attempts frees their reruns, which go now rather than at the next wake-up.
    private async Task WriteAsync()
    {
        if (await _store.WriteAsync(_scheduler!) && !_leaving)
        {
            _ = PumpInBackgroundAsync();
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
            _itemTimer?.Dispose();
            _itemTimer = null;

            // Callers waiting here ask again and reach the activation that wrote; nothing keeps this one from going.
            _waiters.FailAll(new InconsistentStateException($"Job '{Name}' was written by another activation meanwhile and is reloading; try again."));
            DeactivateOnIdle();
            return false;
        }

        return true;
    }
}

using Work.Scheduling;

namespace Work.Grains;

// What the job learns from executors: whether an attempt whose lease ran out is still held, and which queues a silo
// serves.
internal sealed partial class ConcurrentJobGrain
{
    /// <summary>
    /// An attempt whose lease ran out while its executor's silo is alive is not counted lost yet: its renewals may have
    /// gone to another activation of this job (during a membership change two can exist for a while, and the one that
    /// loses the write race refuses calls until it is gone). Its lease is extended once while the executor is asked;
    /// what the executor holds keeps its lease, the rest is counted lost at once. An attempt whose executor does not
    /// answer within that extension is counted lost when it ends.
    /// </summary>
    private void AskBeforeLosing(JobScheduler scheduler, DateTimeOffset now)
    {
        var expired = scheduler.ExpiredLeases(now);
        if (expired.Count == 0)
        {
            return;
        }

        var alive = _roster.ActiveSilos();
        foreach (var onExecutor in expired.Where(r => alive.Contains(r.Executor) && !_asking.Contains((r.Run.ExecutionId, r.Run.Attempt))).GroupBy(r => r.Executor))
        {
            var runs = onExecutor.ToList();
            foreach (var inFlight in runs)
            {
                _asking.Add((inFlight.Run.ExecutionId, inFlight.Run.Attempt));
                scheduler.Renew(inFlight.Run.ExecutionId, inFlight.Run.Attempt, inFlight.Lease, inFlight.Executor, now, _options.LeaseDuration);
            }

            _ = AskAsync(onExecutor.Key, runs);
        }
    }

    private async Task AskAsync(string executor, List<InFlightRun> runs)
    {
        HashSet<(string, int)> held = [];
        try
        {
            var attempts = runs.ConvertAll(r => new ExecutionAttempt(r.Run.ExecutionId, r.Run.Attempt));
            foreach (var attempt in await _roster.Executor(executor).HeldAsync(Name, attempts))
            {
                held.Add((attempt.ExecutionId, attempt.Attempt));
            }
        }
        catch (Exception ex)
        {
            LogAskFailed(_logger, ex, Name, runs.Count, executor);
        }

        foreach (var inFlight in runs)
        {
            _asking.Remove((inFlight.Run.ExecutionId, inFlight.Run.Attempt));
        }

        if (_scheduler is not { } scheduler || _conflicted)
        {
            return;
        }

        // Counted lost here, not left to the next pump, which would ask again about what is not held.
        var now = _time.GetUtcNow();
        var finished = new List<JobExecution>();
        foreach (var inFlight in runs)
        {
            var (id, attempt) = (inFlight.Run.ExecutionId, inFlight.Run.Attempt);
            if (!held.Contains((id, attempt)))
            {
                scheduler.LeaseLapsed(id, attempt, inFlight.Lease, now, finished);
            }
            else if (scheduler.Renew(id, attempt, inFlight.Lease, inFlight.Executor, now, _options.LeaseDuration))
            {
                LogLeaseKept(_logger, Name, id, attempt, executor);
            }
        }

        try
        {
            await PumpAsync(finished);
        }
        catch (Exception ex)
        {
            LogPumpFailed(_logger, ex, Name);
            Rearm(scheduler);
        }
    }

    // The live silos that serve the job's queue, and until when to hold the dispatch for silos not heard from yet;
    // those are asked, and the job pumps when they answer.
    private (List<string> Serving, DateTimeOffset? HoldUntil) ServingSilos(JobScheduler scheduler)
    {
        if (_drain.IsStopping)
        {
            // This silo is stopping: its executor takes no more runs, and may have left already.
            _queues.Stopping(_engine.SiloName);
        }

        var queue = scheduler.IsDefined ? scheduler.Definition.Job.Queue : Job.DefaultQueue;
        var (serving, toAsk, hold) = _queues.Serving(_roster.ActiveSilos(), queue, _time.GetUtcNow());
        foreach (var silo in toAsk)
        {
            _ = LearnQueuesAsync(silo);
        }

        return (serving, hold);
    }

    private async Task LearnQueuesAsync(string silo)
    {
        ServedQueues? answer = null;
        try
        {
            answer = await _roster.Executor(silo).QueuesAsync();
        }
        catch (SiloUnavailableException ex) when (_roster.ActiveSilos().Contains(silo))
        {
            // It has just joined, and this silo has not yet heard which grains it hosts: expected, and brief.
            LogQueuesNotYet(_logger, ex, Name, silo);
        }
        catch (Exception ex)
        {
            LogQueuesUnknown(_logger, ex, Name, silo);
        }

        // An executor answering from another silo (placed there while the asked silo was not active to this one) tells
        // that silo's queues, not the asked one's: the asked silo is asked again at the next pump. While the asked silo
        // is active but not yet known here to host executors, the call fails instead of being placed elsewhere.
        var right = answer is not null && answer.Silo == silo;
        var now = _time.GetUtcNow();
        if (answer is not null && !right)
        {
            _queues.Learned(answer.Silo, answer.Queues, now);
        }

        // Asked again a while later, not at once: a wrong answer may repeat until the misplaced executor is idle.
        _queues.Learned(silo, right ? answer!.Queues : null, now);
        if (right)
        {
            await PumpInBackgroundAsync();
        }
    }
}

using Work.Pipeline;

namespace Work.Scheduling;

// How runs come and go: stopping, deleting and cancelling, recurring ticks, expired leases, finished attempts and retries.
internal sealed partial class JobScheduler
{
    /// <summary>
    /// Stops the job; returns the attempts in flight, whose executors should be told to cancel. Items the job took
    /// from its stream and has not started stay and run (a stream cannot take an item back) unless
    /// <paramref name="streamItemsToo"/>.
    /// </summary>
    public IReadOnlyList<InFlightRun> Stop(List<JobExecution> cancelled, bool streamItemsToo = false)
    {
        State.Started = false;
        State.Recurring = null;
        CancelPending(null, cancelled, keepStreamItems: !streamItemsToo);
        return MarkCancelled(null, keepQueuedStreamItems: !streamItemsToo);
    }

    /// <summary>
    /// Deletes the job: what is pending is finished as cancelled (in <paramref name="cancelled"/>), the definition,
    /// schedules, counters and history go, and the segments are dropped. Returns the attempts in flight, whose
    /// executors should be told to cancel; their reports will be ignored.
    /// </summary>
    public IReadOnlyList<InFlightRun> Delete(List<JobExecution> cancelled)
    {
        var running = Stop(cancelled, streamItemsToo: true);
        ReleaseItems();
        State.InFlight.Clear();
        _queued = 0;
        _byExecutor.Clear();
        State.Definition = null;
        State.StartedAt = default;
        State.Finished = 0;
        State.Succeeded = 0;
        State.SkippedTicks = 0;
        State.Lost = 0;
        State.History = [];
        History.Clear();
        Problem = null;
        return running;
    }

    /// <summary>
    /// Cancels one execution or, with null, all: pending ones are finished as cancelled (in <paramref name="finished"/>);
    /// running ones are marked so they are not retried, and returned for their executors to signal. An execution that
    /// already finished is left as it is.
    /// </summary>
    /// <exception cref="ArgumentException">The id is empty or too long.</exception>
    /// <exception cref="KeyNotFoundException">The job has no execution <paramref name="executionId"/>.</exception>
    public IReadOnlyList<InFlightRun> Cancel(string? executionId, List<JobExecution> finished)
    {
        if (executionId is not null)
        {
            CheckExecutionId(executionId);
        }

        if (executionId is not null && !IsActive(executionId) && LastRecord(executionId) is null)
        {
            throw new KeyNotFoundException($"Job '{Name}' has no execution '{executionId}' pending, running or in its history.");
        }

        CancelPending(executionId, finished);
        return MarkCancelled(executionId);
    }

    private static RecurringRun? NewRecurring(EverySchedule? every, DateTimeOffset now) => every switch
    {
        null => null,

        // The first time the expression names after now.
        { Cron: not null } => new RecurringRun { Schedule = every, Origin = now, NextDue = CronSchedule.Of(every).Next(now) },
        { FirstRun: { } first } when first >= now => new RecurringRun { Schedule = every, Origin = first, Next = 0 },

        // The first grid point at or after now.
        { FirstRun: { } first } => new RecurringRun
        {
            Schedule = every,
            Origin = first,
            Next = ((now - first).Ticks + every.Interval.Ticks - 1) / every.Interval.Ticks,
        },
        _ => new RecurringRun { Schedule = every, Origin = now, Next = every.RunImmediately ? 0 : 1 },
    };

    private void TickRecurring(DateTimeOffset now)
    {
        if (State.Recurring is not { } recurring || !State.Started || recurring.NextAt is not { } next || now < next)
        {
            return;
        }

        // The latest tick due by now runs (or is skipped by the misfire policy); the ones before it are skipped.
        DateTimeOffset latestDue;
        long skipped;
        RecurringRun after;
        if (recurring.Schedule.Cron is null)
        {
            var latest = (now - recurring.Origin).Ticks / recurring.Schedule.Interval.Ticks;
            (latestDue, skipped) = (recurring.DueAt(latest), latest - recurring.Next);
            after = recurring with { Next = latest + 1 };
        }
        else
        {
            var cron = CronSchedule.Of(recurring.Schedule);
            (latestDue, skipped) = LatestCronTime(cron, next, now);
            after = recurring with { NextDue = cron.Next(latestDue) };
        }

        var late = now - latestDue;
        var run = Definition.Misfire == MisfirePolicy.FireOnce || late <= s_misfireThreshold;
        if (run && recurring.Schedule.Sync && (State.InFlight.Values.Any(f => f.Run.Recurring) || State.Pending.Exists(p => p.Recurring)))
        {
            run = false;
        }

        if (run && State.InFlight.Count >= AllowedWorkers(now))
        {
            run = false;
        }

        if (run)
        {
            var job = Definition.Job;
            Insert(new PendingRun
            {
                ExecutionId = ExecutionIds.New(now),
                DueAt = latestDue,
                Recurring = true,
                TraceParent = job.TraceParent,
                TraceState = job.TraceState,
            });
        }
        else
        {
            skipped++;
        }

        State.SkippedTicks += skipped;
        State.Recurring = after;
    }

    // The latest time of a cron schedule from its next due time up to now, and how many came before it. A schedule far
    // behind (a silo down for long under a per-second expression) is not walked time by time: past the cap, the latest
    // time is found in ever wider windows before now, and the count stops at the cap.
    private static (DateTimeOffset Latest, long Before) LatestCronTime(CronSchedule cron, DateTimeOffset next, DateTimeOffset now)
    {
        const long Cap = 100_000;
        var latest = next;
        long count = 0;
        foreach (var time in cron.Between(next, now))
        {
            latest = time;
            if (++count >= Cap)
            {
                break;
            }
        }

        if (count >= Cap && latest < now)
        {
            for (var back = TimeSpan.FromMinutes(1); ; back += back)
            {
                var from = back >= now - latest ? latest : now - back;
                if (cron.Between(from, now).LastOrDefault() is var last && last != default)
                {
                    latest = last;
                    break;
                }
            }
        }

        return (latest, Math.Max(0, count - 1));
    }

    private void ExpireLeases(DateTimeOffset now, List<JobExecution> finished)
    {
        List<InFlightRun>? expired = null;
        foreach (var inFlight in State.InFlight.Values)
        {
            if (inFlight.LeaseUntil <= now)
            {
                (expired ??= []).Add(inFlight);
            }
        }

        if (expired is null)
        {
            return;
        }

        foreach (var inFlight in expired)
        {
            Lose(inFlight, $"The executor on {inFlight.Executor} stopped answering: its lease ran out at {inFlight.LeaseUntil:O}.", now, finished);
        }
    }

    // An attempt given up as lost: recorded as 503 and run again (see Finish).
    private void Lose(InFlightRun inFlight, string error, DateTimeOffset now, List<JobExecution> finished)
    {
        RemoveInFlight(inFlight);
        State.Lost++;
        Finish(inFlight, Record(inFlight.Run, JobStatus.Unavailable, error, LeaseExpired, inFlight.DispatchedAt, now, inFlight.Executor), finished);
    }

    private void Finish(InFlightRun inFlight, JobExecution execution, List<JobExecution> finished)
    {
        var definition = Definition;
        if (inFlight.Run.Item is { } item)
        {
            execution = execution with { ItemId = item.Id };
        }

        History.Add(execution, definition.HistoryLimit);
        State.Finished++;
        if (execution.Status == JobStatus.Success)
        {
            State.Succeeded++;
        }

        // A lost attempt may have run or not: it is run again (an identifiable duplicate at worst) beyond the retry policy.
        var lost = execution.ErrorType == LeaseExpired;
        var again = definition.Retry.ShouldRetry(execution.Status, execution.Attempt)
            || (lost && execution.Attempt < definition.Retry.MaxAttempts + _options.LostRedeliveries);
        if (!inFlight.Cancelled && State.Started && again)
        {
            var next = execution.Attempt + 1;
            var delay = lost ? TimeSpan.Zero : definition.Retry.DelayBefore(next, _random());
            var rerun = inFlight.Run with { Attempt = next, DueAt = execution.FinishedAt + delay };
            Insert(rerun);
            if (lost)
            {
                HoldUntilWritten(rerun);
            }

            return;
        }

        finished.Add(execution);
    }

    private void CancelPending(string? executionId, List<JobExecution> finished, bool keepStreamItems = false)
    {
        var now = _time.GetUtcNow();
        var cancelled = new List<PendingRun>();
        State.Pending.RemoveAll(run =>
        {
            if (executionId is not null && run.ExecutionId != executionId)
            {
                return false;
            }

            cancelled.Add(run);
            return true;
        });
        if (executionId is null)
        {
            foreach (var run in Ready.Clear())
            {
                if (keepStreamItems && IsStreamItem(run))
                {
                    Ready.Enqueue(run);
                }
                else
                {
                    cancelled.Add(run);
                }
            }
        }
        else if (Ready.Remove(executionId) is { } run)
        {
            cancelled.Add(run);
        }

        foreach (var run in cancelled)
        {
            var record = Record(run, JobStatus.NoResponse, "Cancelled before it ran.", CancelledBeforeRun, now, now, "");
            History.Add(record, State.Definition?.HistoryLimit ?? 0);
            finished.Add(record);
        }
    }

    private bool IsStreamItem(PendingRun run) => run.Item is not null && State.Items.TryGetValue(run.ExecutionId, out var held) && held.FromStream;

    // A cancelled attempt keeps its slot until its executor reports, but is never retried.
    private List<InFlightRun> MarkCancelled(string? executionId, bool keepQueuedStreamItems = false)
    {
        var signalled = new List<InFlightRun>();
        foreach (var (id, inFlight) in State.InFlight.ToList())
        {
            if (keepQueuedStreamItems && inFlight.Queued && IsStreamItem(inFlight.Run))
            {
                continue;
            }

            if ((executionId is null || id == executionId) && !inFlight.Cancelled)
            {
                signalled.Add(inFlight);
                PutInFlight(inFlight with { Cancelled = true });
            }
        }

        return signalled;
    }

    // The record of an attempt that ended without a report from a handler (lost, or cancelled before it ran).
    private JobExecution Record(
        PendingRun run, JobStatus status, string error, string errorType, DateTimeOffset started, DateTimeOffset finished, string worker) => new()
    {
        ExecutionId = run.ExecutionId,
        Handler = State.Definition?.Job.Handler ?? "",
        Queue = State.Definition?.Job.Queue ?? Job.DefaultQueue,
        Attempt = run.Attempt,
        Status = status,
        Error = error,
        ErrorType = errorType,
        ScheduledAt = run.DueAt,
        StartedAt = started,
        FinishedAt = finished,
        Worker = worker,
        ItemId = run.Item?.Id,
    };

    private void Insert(PendingRun run)
    {
        var pending = State.Pending;
        if (pending.Count == 0 || pending[^1].DueAt <= run.DueAt)
        {
            pending.Add(run);
            return;
        }

        var index = pending.FindIndex(p => p.DueAt > run.DueAt);
        pending.Insert(index, run);
    }
}

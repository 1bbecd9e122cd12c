namespace Work.Scheduling;

// What the job tells about itself: its next wake-up, its state, its executions.
internal sealed partial class JobScheduler
{
    /// <summary>The earliest time something may need doing, or null when nothing is scheduled.</summary>
    public DateTimeOffset? NextWakeUp(DateTimeOffset now)
    {
        if (State.Definition is not { } definition)
        {
            return null;
        }

        DateTimeOffset? next = null;
        void Consider(DateTimeOffset time) => next = next is null || time < next ? time : next;

        foreach (var inFlight in State.InFlight.Values)
        {
            Consider(inFlight.LeaseUntil);
        }

        if (Problem is not null)
        {
            return next;
        }

        if (State.Recurring?.NextAt is { } tick)
        {
            Consider(tick);
        }

        if (PendingCount > 0)
        {
            var allowed = AllowedWorkers(now);
            if (SlotsInUse < allowed || CanSendAhead(now))
            {
                if (FirstSendable() is { } timed)
                {
                    // Half the early hand-over before the due time: a pump then takes everything due in the next half
                    // too, so runs due close together share a pump instead of one pump each.
                    Consider(timed.DueAt - (_options.EarlyHandOver / 2));
                }

                if (Ready.Peek() is { } ready)
                {
                    Consider(ready.DueAt);
                }
            }

            if (SlotsInUse >= allowed && allowed < definition.MaxWorkers && State.Started && definition.StartInterval.Ticks <= JobLimits.Horizon.Ticks / allowed)
            {
                // Waiting for the ramp to allow one more.
                Consider(State.StartedAt + (definition.StartInterval * allowed));
            }
        }

        return next;
    }

    public JobInfo Info(DateTimeOffset now)
    {
        var due = new List<DateTimeOffset>();
        if (State.Recurring is { NextAt: { } tick } recurring)
        {
            due.Add(tick);
            if (recurring.Schedule.Cron is not null)
            {
                // A cron schedule's next few times, as they fall.
                var cron = CronSchedule.Of(recurring.Schedule);
                for (var (i, at) = (0, cron.Next(tick)); i < 4 && at is { } time; i++, at = cron.Next(time))
                {
                    due.Add(time);
                }
            }
        }

        due.AddRange(State.Pending.Take(10).Select(p => p.DueAt));
        if (Ready.Peek() is { } ready)
        {
            due.Add(ready.DueAt);
        }

        return new JobInfo
        {
            Name = Name,
            Definition = State.Definition,
            Started = State.Started,
            RunningWorkers = SlotsInUse,
            AllowedWorkers = State.Definition is null ? 0 : AllowedWorkers(now),
            Pending = PendingCount,
            NextDueTimes = due.Order().Take(10).ToList(),
            Finished = State.Finished,
            Succeeded = State.Succeeded,
            SkippedTicks = State.SkippedTicks,
            Lost = State.Lost,
            Problem = Problem,
        };
    }

    /// <summary>
    /// The final record of an execution, or null while it is pending or in flight.
    /// </summary>
    /// <exception cref="ArgumentException">The id is empty or too long.</exception>
    /// <exception cref="KeyNotFoundException">The job has no such execution pending, running or in its history.</exception>
    public JobExecution? Outcome(string executionId)
    {
        CheckExecutionId(executionId);
        if (IsActive(executionId))
        {
            return null;
        }

        return LastRecord(executionId)
            ?? throw new KeyNotFoundException($"Job '{Name}' has no execution '{executionId}' pending, running or in its history.");
    }

    /// <summary>The newest <paramref name="count"/> finished attempts, newest first.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The count is negative or over <see cref="JobDefinition.MaxHistoryLimit"/>.</exception>
    public List<JobExecution> Newest(int count) => count < 0 || count > JobDefinition.MaxHistoryLimit
        ? throw new ArgumentOutOfRangeException(nameof(count), count, $"The history count must be between 0 and {JobDefinition.MaxHistoryLimit}; it is {count}.")
        : History.Newest(count);

    /// <summary>Finished attempts, newest first, after skipping the newest <paramref name="skip"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The skip or count is negative, or they reach past the history's limit.</exception>
    public List<JobExecution> Newest(int skip, int count)
    {
        if (skip < 0 || count < 0 || (long)skip + count > JobDefinition.MaxHistoryLimit)
        {
            throw new ArgumentOutOfRangeException(
                skip < 0 ? nameof(skip) : nameof(count),
                $"A history page must have a skip and a count of 0 or more that reach no further than {JobDefinition.MaxHistoryLimit}; they are {skip} and {count}.");
        }

        var newest = History.Newest(skip + count);
        return skip >= newest.Count ? [] : newest.GetRange(skip, newest.Count - skip);
    }

    /// <summary>Where an execution stands.</summary>
    /// <exception cref="ArgumentException">The id is empty or too long.</exception>
    /// <exception cref="KeyNotFoundException">The job has no such execution pending, running or in its history.</exception>
    public ExecutionState Execution(string executionId)
    {
        CheckExecutionId(executionId);
        var last = LastRecord(executionId);
        if (State.InFlight.TryGetValue(executionId, out var inFlight))
        {
            return Running(inFlight, last);
        }

        var waiting = State.Pending.Find(p => p.ExecutionId == executionId)
            ?? (Ready.Contains(executionId) ? Ready.Runs.First(r => r.ExecutionId == executionId) : null);
        if (waiting is not null)
        {
            return Waiting(waiting, last);
        }

        return last is null
            ? throw new KeyNotFoundException($"Job '{Name}' has no execution '{executionId}' pending, running or in its history.")
            : new ExecutionState { ExecutionId = executionId, Phase = ExecutionPhase.Finished, Attempt = last.Attempt, DueAt = last.ScheduledAt, Last = last };
    }

    /// <summary>The maximum page of <see cref="Unfinished"/>.</summary>
    public const int MaxPendingPage = 1_000;

    /// <summary>
    /// Executions not finished, after skipping <paramref name="skip"/>: those in flight (oldest hand-over first), then
    /// those waiting, earliest due first.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The skip is negative or the count is not between 0 and <see cref="MaxPendingPage"/>.</exception>
    public List<ExecutionState> Unfinished(int skip, int count)
    {
        if (skip < 0 || count is < 0 or > MaxPendingPage)
        {
            throw new ArgumentOutOfRangeException(
                skip < 0 ? nameof(skip) : nameof(count),
                $"A page of pending executions must have a skip of 0 or more and a count between 0 and {MaxPendingPage}; they are {skip} and {count}.");
        }

        var running = State.InFlight.Values.OrderBy(r => r.DispatchedAt).Select(r => Running(r, null));
        var waiting = Merged(State.Pending, Ready.Runs).Select(r => Waiting(r, null));
        return running.Concat(waiting).Skip(skip).Take(count).ToList();
    }

    // Two runs lists each in due order, merged lazily: a page costs what it skips and takes, not the whole backlog.
    private static IEnumerable<PendingRun> Merged(IEnumerable<PendingRun> first, IEnumerable<PendingRun> second)
    {
        using var a = first.GetEnumerator();
        using var b = second.GetEnumerator();
        var (hasA, hasB) = (a.MoveNext(), b.MoveNext());
        while (hasA || hasB)
        {
            if (hasA && (!hasB || a.Current.DueAt <= b.Current.DueAt))
            {
                yield return a.Current;
                hasA = a.MoveNext();
            }
            else
            {
                yield return b.Current;
                hasB = b.MoveNext();
            }
        }
    }

    private static ExecutionState Running(InFlightRun inFlight, JobExecution? last) => new()
    {
        ExecutionId = inFlight.Run.ExecutionId,
        Phase = ExecutionPhase.Running,
        Attempt = inFlight.Run.Attempt,
        DueAt = inFlight.Run.DueAt,
        Executor = inFlight.Executor,
        Recurring = inFlight.Run.Recurring,
        Last = last,
    };

    private static ExecutionState Waiting(PendingRun run, JobExecution? last) => new()
    {
        ExecutionId = run.ExecutionId,
        Phase = ExecutionPhase.Pending,
        Attempt = run.Attempt,
        DueAt = run.DueAt,
        Recurring = run.Recurring,
        Last = last,
    };

    /// <summary>Whether an execution is pending or in flight.</summary>
    public bool IsActive(string executionId) =>
        State.InFlight.ContainsKey(executionId) || State.Pending.Exists(p => p.ExecutionId == executionId) || Ready.Contains(executionId);

    /// <summary>The last recorded attempt of an execution, if any.</summary>
    public JobExecution? LastRecord(string executionId) => History.LastOf(executionId);
}

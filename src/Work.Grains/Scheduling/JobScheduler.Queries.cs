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

        if (State.Recurring is { } recurring)
        {
            Consider(recurring.DueAt(recurring.Next));
        }

        if (PendingCount > 0)
        {
            var allowed = AllowedWorkers(now);
            if (SlotsInUse < allowed || CanSendAhead())
            {
                if (State.Pending.Count > 0)
                {
                    // Half the early hand-over before the due time: a pump then takes everything due in the next half
                    // too, so runs due close together share a pump instead of one pump each.
                    Consider(State.Pending[0].DueAt - (_options.EarlyHandOver / 2));
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
        if (State.Recurring is { } recurring)
        {
            due.Add(recurring.DueAt(recurring.Next));
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

    /// <summary>Whether an execution is pending or in flight.</summary>
    public bool IsActive(string executionId) =>
        State.InFlight.ContainsKey(executionId) || State.Pending.Exists(p => p.ExecutionId == executionId) || Ready.Contains(executionId);

    /// <summary>The last recorded attempt of an execution, if any.</summary>
    public JobExecution? LastRecord(string executionId) => History.LastOf(executionId);
}

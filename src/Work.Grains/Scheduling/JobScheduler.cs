using Work.Pipeline;

namespace Work.Scheduling;

/// <summary>
/// The scheduling rules of one cluster job, on plain state and an injected clock, so tests can drive them without a
/// cluster: what is due, what may run under the cluster-wide cap and the ramp, what a report or an expired lease
/// means, retries, misfires and cancellation. The job grain persists the state and does the calls.
/// </summary>
internal sealed class JobScheduler
{
    /// <summary>The error type of an attempt whose executor went away without reporting.</summary>
    public const string LeaseExpired = "Work.LeaseExpired";

    /// <summary>The error type of an execution cancelled before it ran.</summary>
    public const string CancelledBeforeRun = "Work.Cancelled";

    private readonly TimeProvider _time;
    private readonly Func<double> _random;
    private readonly TimeSpan _misfireThreshold;
    private readonly int _lostRedeliveries;

    public JobScheduler(
        string name,
        JobState state,
        TimeProvider time,
        Func<double>? random = null,
        TimeSpan? misfireThreshold = null,
        int lostRedeliveries = 2,
        ReadyQueue? ready = null,
        HistoryLog? history = null)
    {
        _lostRedeliveries = lostRedeliveries;
        Ready = ready ?? new ReadyQueue(state);
        History = history ?? new HistoryLog(state);
        Name = name;
        State = state;
        _time = time;
        _random = random ?? Random.Shared.NextDouble;
        _misfireThreshold = misfireThreshold ?? TimeSpan.FromSeconds(1);
    }

    public string Name { get; }

    public JobState State { get; }

    /// <summary>Runs accepted to run now, waiting for a free worker.</summary>
    public ReadyQueue Ready { get; }

    /// <summary>Finished attempts, oldest first, at most the definition's HistoryLimit.</summary>
    public HistoryLog History { get; }

    /// <summary>Executions accepted and not yet dispatched.</summary>
    public int PendingCount => State.Pending.Count + Ready.Count;

    public JobDefinition Definition =>
        State.Definition ?? throw new InvalidOperationException($"Job '{Name}' is not defined: define it before starting or performing it.");

    public void Define(JobDefinition definition)
    {
        var failures = definition.Validate();
        if (failures.Count > 0)
        {
            throw new ArgumentException($"Job '{Name}' cannot be defined: {string.Join(" ", failures)}", nameof(definition));
        }

        var everyChanged = State.Definition?.Every != definition.Every;
        State.Definition = definition;
        if (State.Started && everyChanged)
        {
            State.Recurring = NewRecurring(definition.Every, _time.GetUtcNow());
        }
    }

    public void Start()
    {
        var definition = Definition;
        if (State.Started)
        {
            return;
        }

        var now = _time.GetUtcNow();
        State.Started = true;
        State.StartedAt = now;
        State.Recurring = NewRecurring(definition.Every, now);
    }

    /// <summary>Stops the job; returns the attempts in flight, whose executors should be told to cancel.</summary>
    public IReadOnlyList<InFlightRun> Stop(List<JobExecution> cancelled)
    {
        State.Started = false;
        State.Recurring = null;
        CancelPending(null, cancelled);
        return MarkCancelled(null);
    }

    public void SetEvery(EverySchedule every)
    {
        if (every.Interval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(every), every.Interval, $"Job '{Name}' needs a positive interval to perform every interval.");
        }

        State.Definition = Definition with { Every = every };
        if (State.Started)
        {
            State.Recurring = NewRecurring(every, _time.GetUtcNow());
        }
    }

    /// <summary>Accepts one execution due at <paramref name="due"/>.</summary>
    public PendingRun Accept(DateTimeOffset due, JobArgs? args, string? traceParent, string? traceState)
    {
        var definition = Definition;
        EnsureStarted();
        if (JobDefinition.ArgsSizeProblem(args) is { } problem)
        {
            throw new ArgumentException(problem, nameof(args));
        }

        var run = new PendingRun
        {
            ExecutionId = ExecutionIds.New(_time.GetUtcNow()),
            DueAt = due,
            Args = args,
            TraceParent = traceParent ?? definition.Job.TraceParent,
            TraceState = traceParent is null ? definition.Job.TraceState : traceState,
        };
        if (due <= _time.GetUtcNow())
        {
            Ready.Enqueue(run);
        }
        else
        {
            Insert(run);
        }

        return run;
    }

    /// <exception cref="InvalidOperationException">The job is not started, so it accepts no performs.</exception>
    public void EnsureStarted()
    {
        _ = Definition;
        if (!State.Started)
        {
            throw new InvalidOperationException($"Job '{Name}' is not started: start it before performing it.");
        }
    }

    public int AllowedWorkers(DateTimeOffset now)
    {
        var definition = Definition;
        if (!State.Started || definition.StartInterval <= TimeSpan.Zero)
        {
            return definition.MaxWorkers;
        }

        var steps = Math.Max(0, (now - State.StartedAt).Ticks) / definition.StartInterval.Ticks;
        return (int)Math.Min(definition.MaxWorkers, 1 + steps);
    }

    /// <summary>
    /// What happens now: expired leases become lost attempts (added to <paramref name="finished"/>), a due recurring
    /// tick becomes a run or a skip, and due runs are taken while the cap allows. The caller dispatches the returned
    /// runs and records each with <see cref="Dispatched"/>.
    /// </summary>
    public List<PendingRun> TakeDue(DateTimeOffset now, List<JobExecution> finished)
    {
        var due = new List<PendingRun>();
        if (State.Definition is null)
        {
            return due;
        }

        ExpireLeases(now, finished);
        TickRecurring(now);
        var free = AllowedWorkers(now) - State.InFlight.Count;
        var taken = 0;
        while (due.Count < free)
        {
            var timed = taken < State.Pending.Count && State.Pending[taken].DueAt <= now ? State.Pending[taken] : null;
            var ready = Ready.Peek();
            if (ready is not null && (timed is null || ready.DueAt <= timed.DueAt))
            {
                due.Add(Ready.Dequeue());
            }
            else if (timed is not null)
            {
                due.Add(timed);
                taken++;
            }
            else
            {
                break;
            }
        }

        State.Pending.RemoveRange(0, taken);
        return due;
    }

    public void Dispatched(PendingRun run, string executor, DateTimeOffset now, TimeSpan lease) =>
        State.InFlight[run.ExecutionId] = new InFlightRun { Run = run, Executor = executor, DispatchedAt = now, LeaseUntil = now + lease };

    /// <summary>Puts back a run whose dispatch failed, to try again when the cap next allows.</summary>
    public void Undispatched(PendingRun run)
    {
        State.InFlight.Remove(run.ExecutionId);
        Insert(run);
    }

    /// <summary>
    /// Records a report. Returns false when it is not for an attempt in flight (a duplicate, or one already given
    /// up as lost): such a report changes nothing, so no execution is counted twice.
    /// </summary>
    public bool Report(JobExecution execution, List<JobExecution> finished)
    {
        if (!State.InFlight.TryGetValue(execution.ExecutionId, out var inFlight) || inFlight.Run.Attempt != execution.Attempt)
        {
            return false;
        }

        State.InFlight.Remove(execution.ExecutionId);
        Finish(inFlight, execution, finished);
        return true;
    }

    public void Renew(IEnumerable<string> executionIds, DateTimeOffset now, TimeSpan lease)
    {
        foreach (var id in executionIds)
        {
            if (State.InFlight.TryGetValue(id, out var inFlight))
            {
                State.InFlight[id] = inFlight with { LeaseUntil = now + lease };
            }
        }
    }

    /// <summary>
    /// Cancels one execution or, with null, all: pending ones are finished as cancelled (in <paramref name="finished"/>);
    /// running ones are marked so they are not retried, and returned for their executors to signal.
    /// </summary>
    public IReadOnlyList<InFlightRun> Cancel(string? executionId, List<JobExecution> finished)
    {
        CancelPending(executionId, finished);
        return MarkCancelled(executionId);
    }

    /// <summary>The earliest time something may need doing, or null when nothing is scheduled.</summary>
    public DateTimeOffset? NextWakeUp(DateTimeOffset now)
    {
        if (State.Definition is not { } definition)
        {
            return null;
        }

        DateTimeOffset? next = null;
        void Consider(DateTimeOffset time) => next = next is null || time < next ? time : next;

        if (State.Recurring is { } recurring)
        {
            Consider(recurring.DueAt(recurring.Next));
        }

        if (PendingCount > 0)
        {
            var allowed = AllowedWorkers(now);
            if (State.InFlight.Count < allowed)
            {
                if (State.Pending.Count > 0)
                {
                    Consider(State.Pending[0].DueAt);
                }

                if (Ready.Peek() is { } ready)
                {
                    Consider(ready.DueAt);
                }
            }
            else if (allowed < definition.MaxWorkers && State.Started)
            {
                // Waiting for the ramp to allow one more.
                Consider(State.StartedAt + (definition.StartInterval * allowed));
            }
        }

        foreach (var inFlight in State.InFlight.Values)
        {
            Consider(inFlight.LeaseUntil);
        }

        return next;
    }

    /// <summary>True when a reminder should keep the job alive: something is scheduled or running.</summary>
    public bool NeedsReminder => State.Recurring is not null || PendingCount > 0 || State.InFlight.Count > 0;

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
            RunningWorkers = State.InFlight.Count,
            AllowedWorkers = State.Definition is null ? 0 : AllowedWorkers(now),
            Pending = PendingCount,
            NextDueTimes = due.Order().Take(10).ToList(),
            Finished = State.Finished,
            SkippedTicks = State.SkippedTicks,
            Lost = State.Lost,
        };
    }

    /// <summary>Whether an execution is pending or in flight.</summary>
    public bool IsActive(string executionId) =>
        State.InFlight.ContainsKey(executionId) || State.Pending.Exists(p => p.ExecutionId == executionId) || Ready.Contains(executionId);

    /// <summary>The last recorded attempt of an execution, if any.</summary>
    public JobExecution? LastRecord(string executionId) => History.LastOf(executionId);

    private static RecurringRun? NewRecurring(EverySchedule? every, DateTimeOffset now) =>
        every is null ? null : new RecurringRun { Schedule = every, Origin = now, Next = every.RunImmediately ? 0 : 1 };

    private void TickRecurring(DateTimeOffset now)
    {
        if (State.Recurring is not { } recurring || !State.Started || now < recurring.DueAt(recurring.Next))
        {
            return;
        }

        var latest = (now - recurring.Origin).Ticks / recurring.Schedule.Interval.Ticks;
        var skipped = latest - recurring.Next;
        var late = now - recurring.DueAt(latest);
        var run = Definition.Misfire == MisfirePolicy.FireOnce || late <= _misfireThreshold;
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
                DueAt = recurring.DueAt(latest),
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
        State.Recurring = recurring with { Next = latest + 1 };
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
            State.InFlight.Remove(inFlight.Run.ExecutionId);
            State.Lost++;
            var error = $"The executor on {inFlight.Executor} stopped answering: its lease ran out at {inFlight.LeaseUntil:O}.";
            Finish(inFlight, Record(inFlight.Run, JobStatus.Unavailable, error, LeaseExpired, inFlight.DispatchedAt, now, inFlight.Executor), finished);
        }
    }

    private void Finish(InFlightRun inFlight, JobExecution execution, List<JobExecution> finished)
    {
        var definition = Definition;
        AddHistory(execution, definition.HistoryLimit);
        State.Finished++;
        // A lost attempt may have run or not: it is run again (an identifiable duplicate at worst) beyond the retry policy.
        var lost = execution.ErrorType == LeaseExpired;
        var again = definition.Retry.ShouldRetry(execution.Status, execution.Attempt)
            || (lost && execution.Attempt < definition.Retry.MaxAttempts + _lostRedeliveries);
        if (!inFlight.Cancelled && State.Started && again)
        {
            var next = execution.Attempt + 1;
            var delay = lost ? TimeSpan.Zero : definition.Retry.DelayBefore(next, _random());
            Insert(inFlight.Run with { Attempt = next, DueAt = execution.FinishedAt + delay });
            return;
        }

        finished.Add(execution);
    }

    private void CancelPending(string? executionId, List<JobExecution> finished)
    {
        var now = _time.GetUtcNow();
        var definition = State.Definition;
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
            cancelled.AddRange(Ready.Clear());
        }
        else if (Ready.Remove(executionId) is { } run)
        {
            cancelled.Add(run);
        }

        foreach (var run in cancelled)
        {
            var record = Record(run, JobStatus.NoResponse, "Cancelled before it ran.", CancelledBeforeRun, now, now, "");
            AddHistory(record, definition?.HistoryLimit ?? 0);
            finished.Add(record);
        }
    }

    // A cancelled attempt keeps its slot until its executor reports, but is never retried.
    private List<InFlightRun> MarkCancelled(string? executionId)
    {
        var signalled = new List<InFlightRun>();
        foreach (var (id, inFlight) in State.InFlight.ToList())
        {
            if ((executionId is null || id == executionId) && !inFlight.Cancelled)
            {
                signalled.Add(inFlight);
                State.InFlight[id] = inFlight with { Cancelled = true };
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
    };

    private void AddHistory(JobExecution execution, int limit) => History.Add(execution, limit);

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

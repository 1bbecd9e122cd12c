using System.Security.Cryptography;
using Work.Hosting;
using Work.Pipeline;

namespace Work.Scheduling;

/// <summary>
/// The scheduling rules of one cluster job, on plain state and an injected clock, so tests can drive them without a
/// cluster: what is due, what may run under the cluster-wide cap and the ramp, what a report or an expired lease
/// means, retries, misfires, cancellation, and which inputs are refused. It owns the job's state: the grain persists
/// what <see cref="TakeChanges"/> gives it and does the calls.
/// </summary>
internal sealed partial class JobScheduler
{
    /// <summary>The error type of an attempt whose executor went away without reporting.</summary>
    public const string LeaseExpired = "Work.LeaseExpired";

    /// <summary>The error type of an execution cancelled before it ran.</summary>
    public const string CancelledBeforeRun = "Work.Cancelled";

    private static readonly TimeSpan s_misfireThreshold = TimeSpan.FromSeconds(1);

    private readonly TimeProvider _time;
    private readonly Func<double> _random;
    private readonly Func<long> _leases;
    private readonly WorkClusterOptions _options;

    public JobScheduler(
        string name,
        JobState state,
        TimeProvider time,
        WorkClusterOptions? options = null,
        Func<double>? random = null,
        Func<long>? leases = null,
        ReadyQueue? ready = null,
        HistoryLog? history = null)
    {
        Name = name;
        State = state;
        _time = time;
        _options = options ?? new WorkClusterOptions();
        _random = random ?? Random.Shared.NextDouble;
        _leases = leases ?? NewLeaseSource();
        Ready = ready ?? new ReadyQueue(state);
        History = history ?? new HistoryLog(state);
        Problem = StoredProblem();
    }

    /// <summary>A scheduler over what a job's storage held.</summary>
    public static JobScheduler Load(
        string name, StoredJob stored, TimeProvider time, WorkClusterOptions options, Func<double>? random = null, Func<long>? leases = null)
    {
        var ready = new ReadyQueue(stored.State);
        ready.Load(stored.Ready, stored.NextReadySegment);
        var history = new HistoryLog(stored.State);
        history.Load(stored.History, stored.NextHistorySegment);
        return new JobScheduler(name, stored.State, time, options, random, leases, ready, history);
    }

    public string Name { get; }

    /// <summary>The state; tests read it, the grain does not.</summary>
    public JobState State { get; }

    /// <summary>Runs accepted to run now, waiting for a free worker.</summary>
    public ReadyQueue Ready { get; }

    /// <summary>Finished attempts, oldest first, at most the definition's HistoryLimit.</summary>
    public HistoryLog History { get; }

    /// <summary>
    /// Why the job cannot run as stored, or null: its definition breaks today's limits. Such a job answers, takes
    /// reports and can be defined again, stopped or deleted, but runs nothing new.
    /// </summary>
    public string? Problem { get; private set; }

    /// <summary>Executions accepted and not yet dispatched.</summary>
    public int PendingCount => State.Pending.Count + Ready.Count;

    /// <summary>Attempts handed to executors and not yet reported.</summary>
    public int InFlightCount => State.InFlight.Count;

    /// <summary>Whether the job has a definition.</summary>
    public bool IsDefined => State.Definition is not null;

    /// <summary>True when a reminder should keep the job alive: something is scheduled or running.</summary>
    public bool NeedsReminder => State.Recurring is not null || PendingCount > 0 || State.InFlight.Count > 0;

    public JobDefinition Definition =>
        State.Definition ?? throw new InvalidOperationException($"Job '{Name}' is not defined: define it before starting or performing it.");

    /// <summary>Checks a definition against the rules and this silo's limits.</summary>
    /// <exception cref="ArgumentException">It breaks them; the message names every problem.</exception>
    public void CheckDefinition(JobDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        var failures = Problems(definition);
        if (failures.Count > 0)
        {
            throw new ArgumentException($"Job '{Name}' cannot be defined: {string.Join(" ", failures)}", nameof(definition));
        }
    }

    public void Define(JobDefinition definition)
    {
        CheckDefinition(definition);
        var everyChanged = State.Definition?.Every != definition.Every || State.Recurring?.Schedule != definition.Every;
        State.Definition = definition;
        Problem = null;
        if (State.Started && everyChanged)
        {
            State.Recurring = NewRecurring(definition.Every, _time.GetUtcNow());
        }
    }

    public void Start()
    {
        var definition = Definition;
        EnsureUsable();
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

    /// <summary>
    /// Deletes the job: what is pending is finished as cancelled (in <paramref name="cancelled"/>), the definition,
    /// schedules, counters and history go, and the segments are dropped. Returns the attempts in flight, whose
    /// executors should be told to cancel; their reports will be ignored.
    /// </summary>
    public IReadOnlyList<InFlightRun> Delete(List<JobExecution> cancelled)
    {
        var running = Stop(cancelled);
        State.InFlight.Clear();
        State.Definition = null;
        State.StartedAt = default;
        State.Finished = 0;
        State.SkippedTicks = 0;
        State.Lost = 0;
        State.History = [];
        History.Clear();
        Problem = null;
        return running;
    }

    public void SetEvery(EverySchedule every)
    {
        ArgumentNullException.ThrowIfNull(every);
        _ = Definition;
        if (JobLimits.IntervalProblem(every.Interval, _options.MinInterval) is { } problem)
        {
            throw new ArgumentOutOfRangeException(nameof(every), every.Interval, $"Job '{Name}' cannot perform every interval: {problem}");
        }

        EnsureUsable();
        State.Definition = Definition with { Every = every };
        if (State.Started)
        {
            State.Recurring = NewRecurring(every, _time.GetUtcNow());
        }
    }

    /// <summary>
    /// Checks that <paramref name="count"/> more executions can be accepted: the job is defined, started and usable,
    /// and has room under <see cref="WorkClusterOptions.MaxPendingPerJob"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">They cannot; nothing was accepted.</exception>
    public void EnsureCanAccept(int count)
    {
        EnsureStarted();
        if (PendingCount + count > _options.MaxPendingPerJob)
        {
            throw new InvalidOperationException(
                $"Job '{Name}' has {PendingCount} executions waiting to run, and takes at most {_options.MaxPendingPerJob} " +
                $"(Work:Cluster:MaxPendingPerJob); {count} more were not accepted. Try again once some have run.");
        }
    }

    /// <summary>Why a perform of <paramref name="request"/> cannot be accepted now, or null when it can.</summary>
    public string? RequestProblem(PerformRequest request) => request.Problem(_time.GetUtcNow());

    /// <summary>Accepts one execution due at <paramref name="due"/>.</summary>
    /// <exception cref="ArgumentException">The due time is beyond the horizon or the args are too large.</exception>
    /// <exception cref="InvalidOperationException">The job cannot accept it (see <see cref="EnsureCanAccept"/>).</exception>
    public PendingRun Accept(DateTimeOffset due, JobArgs? args, string? traceParent, string? traceState)
    {
        var definition = Definition;
        var now = _time.GetUtcNow();
        if (JobLimits.DueTimeProblem(due, now) is { } timeProblem)
        {
            throw new ArgumentException(timeProblem, nameof(due));
        }

        if (JobDefinition.ArgsSizeProblem(args) is { } problem)
        {
            throw new ArgumentException(problem, nameof(args));
        }

        EnsureCanAccept(1);
        var run = new PendingRun
        {
            ExecutionId = ExecutionIds.New(now),
            DueAt = due,
            Args = args,
            TraceParent = traceParent ?? definition.Job.TraceParent,
            TraceState = traceParent is null ? definition.Job.TraceState : traceState,
        };
        if (due <= now)
        {
            Ready.Enqueue(run);
        }
        else
        {
            Insert(run);
        }

        return run;
    }

    /// <exception cref="InvalidOperationException">The job is not defined, not usable as stored, or not started.</exception>
    public void EnsureStarted()
    {
        _ = Definition;
        EnsureUsable();
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
    /// runs and records each with <see cref="Dispatched"/>. A job with a <see cref="Problem"/> only expires leases.
    /// </summary>
    public List<PendingRun> TakeDue(DateTimeOffset now, List<JobExecution> finished)
    {
        var due = new List<PendingRun>();
        if (State.Definition is null)
        {
            return due;
        }

        ExpireLeases(now, finished);
        if (Problem is not null)
        {
            return due;
        }

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

    /// <summary>Records that <paramref name="run"/> went to <paramref name="executor"/>, under a new lease secret.</summary>
    public InFlightRun Dispatched(PendingRun run, string executor, DateTimeOffset now, TimeSpan lease)
    {
        var inFlight = new InFlightRun { Run = run, Executor = executor, DispatchedAt = now, LeaseUntil = now + lease, Lease = _leases() };
        State.InFlight[run.ExecutionId] = inFlight;
        return inFlight;
    }

    /// <summary>
    /// Puts back a run whose hand-over failed, to try again when the cap next allows; a run cancelled meanwhile is
    /// finished as cancelled instead (in <paramref name="finished"/>). Nothing happens when the attempt is no longer in
    /// flight (reported, or given up as lost and dispatched again).
    /// </summary>
    public void Undispatched(PendingRun run, List<JobExecution> finished)
    {
        if (!State.InFlight.TryGetValue(run.ExecutionId, out var inFlight) || inFlight.Run.Attempt != run.Attempt)
        {
            return;
        }

        State.InFlight.Remove(run.ExecutionId);
        if (inFlight.Cancelled)
        {
            var now = _time.GetUtcNow();
            var record = Record(run, JobStatus.NoResponse, "Cancelled before it ran.", CancelledBeforeRun, now, now, "");
            History.Add(record, Definition.HistoryLimit);
            State.Finished++;
            finished.Add(record);
            return;
        }

        Insert(run);
    }

    /// <summary>
    /// Records a report under <paramref name="lease"/>. Returns false when it is not for an attempt in flight under
    /// that lease (a duplicate, one already given up as lost, or one this job never dispatched): such a report changes
    /// nothing, so no execution is counted twice and nobody but its executor can finish an attempt.
    /// </summary>
    public bool Report(JobExecution execution, long lease, List<JobExecution> finished)
    {
        ArgumentNullException.ThrowIfNull(execution);
        if (!State.InFlight.TryGetValue(execution.ExecutionId, out var inFlight)
            || inFlight.Run.Attempt != execution.Attempt
            || (inFlight.Lease != 0 && inFlight.Lease != lease))
        {
            return false;
        }

        State.InFlight.Remove(execution.ExecutionId);
        Finish(inFlight, execution, finished);
        return true;
    }

    /// <summary>Extends the lease of an attempt in flight whose secret is <paramref name="lease"/>; false when there is none.</summary>
    public bool Renew(string executionId, int attempt, long lease, DateTimeOffset now, TimeSpan duration)
    {
        if (!State.InFlight.TryGetValue(executionId, out var inFlight)
            || inFlight.Run.Attempt != attempt
            || (inFlight.Lease != 0 && inFlight.Lease != lease))
        {
            return false;
        }

        State.InFlight[executionId] = inFlight with { LeaseUntil = now + duration };
        return true;
    }

    /// <summary>
    /// Gives every attempt in flight one more lease period: a new activation, which no executor can have renewed with
    /// yet, does not count them lost at once.
    /// </summary>
    public void RenewAll(DateTimeOffset now, TimeSpan duration)
    {
        foreach (var (id, inFlight) in State.InFlight.ToList())
        {
            State.InFlight[id] = inFlight with { LeaseUntil = now + duration };
        }
    }

    /// <summary>How many attempts are in flight on each executor.</summary>
    public Dictionary<string, int> InFlightByExecutor()
    {
        var load = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var inFlight in State.InFlight.Values)
        {
            load[inFlight.Executor] = load.GetValueOrDefault(inFlight.Executor) + 1;
        }

        return load;
    }

    /// <summary>
    /// Cancels one execution or, with null, all: pending ones are finished as cancelled (in <paramref name="finished"/>);
    /// running ones are marked so they are not retried, and returned for their executors to signal. An execution that
    /// already finished is left as it is.
    /// </summary>
    /// <exception cref="KeyNotFoundException">The job has no execution <paramref name="executionId"/>.</exception>
    public IReadOnlyList<InFlightRun> Cancel(string? executionId, List<JobExecution> finished)
    {
        if (executionId is not null && !IsActive(executionId) && LastRecord(executionId) is null)
        {
            throw new KeyNotFoundException($"Job '{Name}' has no execution '{executionId}' pending, running or in its history.");
        }

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
            else if (allowed < definition.MaxWorkers && State.Started && definition.StartInterval.Ticks <= JobLimits.Horizon.Ticks / allowed)
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
            RunningWorkers = State.InFlight.Count,
            AllowedWorkers = State.Definition is null ? 0 : AllowedWorkers(now),
            Pending = PendingCount,
            NextDueTimes = due.Order().Take(10).ToList(),
            Finished = State.Finished,
            SkippedTicks = State.SkippedTicks,
            Lost = State.Lost,
            Problem = Problem,
        };
    }

    /// <summary>Whether an execution is pending or in flight.</summary>
    public bool IsActive(string executionId) =>
        State.InFlight.ContainsKey(executionId) || State.Pending.Exists(p => p.ExecutionId == executionId) || Ready.Contains(executionId);

    /// <summary>The last recorded attempt of an execution, if any.</summary>
    public JobExecution? LastRecord(string executionId) => History.LastOf(executionId);

    /// <summary>
    /// Everything changed since the last call, as one consistent moment to write: the main state is copied at the same
    /// moment as the segments it points at, so changes made while the write is under way go to the next write.
    /// </summary>
    public JobChanges TakeChanges() =>
        new(State.Snapshot(), Ready.TakeDirty(), Ready.TakeDropped(), History.TakeDirty(), History.TakeDropped());

    /// <summary>Marks the segments of a write that did not happen to be written again.</summary>
    public void NotWritten(JobChanges changes)
    {
        Ready.MarkDirty(changes.Ready.Select(s => s.Number));
        History.MarkDirty(changes.History.Select(s => s.Number));
    }

    // Every problem a definition has under the limits of this silo.
    private List<string> Problems(JobDefinition definition)
    {
        var failures = definition.Validate().ToList();
        if (definition.Every is { } every && every.Interval > TimeSpan.Zero && every.Interval < _options.MinInterval)
        {
            failures.Add(JobLimits.IntervalProblem(every.Interval, _options.MinInterval, "Every.Interval")!);
        }

        return failures;
    }

    // A definition stored under earlier limits, or by a silo with a shorter MinInterval, may break today's.
    private string? StoredProblem()
    {
        if (State.Definition is not { } definition)
        {
            return null;
        }

        var failures = Problems(definition);
        if (State.Recurring is { } recurring && JobLimits.IntervalProblem(recurring.Schedule.Interval, _options.MinInterval, "The recurring interval") is { } interval)
        {
            failures.Add(interval);
        }

        return failures.Count == 0
            ? null
            : $"Job '{Name}' cannot run as stored: {string.Join(" ", failures.Distinct())} Define it again, stop it or delete it.";
    }

    private void EnsureUsable()
    {
        if (Problem is { } problem)
        {
            throw new InvalidOperationException(problem);
        }
    }

    private static Func<long> NewLeaseSource()
    {
        // Secrets only executors see; seeded from the system's cryptographic source.
        var random = new Random(RandomNumberGenerator.GetInt32(int.MaxValue));
        return () => random.NextInt64(1, long.MaxValue);
    }
}

using Work.Grains;
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

    // How many attempts in flight were sent ahead (InFlightRun.Queued), and per executor how many hold slots and how
    // many were sent ahead: kept with every change to the attempts in flight.
    private readonly Dictionary<string, (int Held, int Queued)> _byExecutor = new(StringComparer.Ordinal);
    private int _queued;

    public JobScheduler(
        string name,
        JobState state,
        TimeProvider time,
        WorkClusterOptions? options = null,
        Func<double>? random = null,
        Func<long>? leaseKeys = null,
        ReadyQueue? ready = null,
        HistoryLog? history = null)
    {
        Name = name;
        State = state;
        _time = time;
        _options = options ?? new WorkClusterOptions();
        _random = random ?? Random.Shared.NextDouble;
        _leases = leaseKeys ?? NewLeaseKeySource();
        Ready = ready ?? new ReadyQueue(state);
        History = history ?? new HistoryLog(state);
        Problem = StoredProblem();
        foreach (var inFlight in state.InFlight.Values)
        {
            Count(inFlight, +1);
        }

        CountItems();
        if (State.LeaseKey == 0)
        {
            State.LeaseKey = _leases();
        }
    }

    /// <summary>A scheduler over what a job's storage held.</summary>
    public static JobScheduler Load(
        string name, StoredJob stored, TimeProvider time, WorkClusterOptions options, Func<double>? random = null, Func<long>? leaseKeys = null)
    {
        var ready = new ReadyQueue(stored.State);
        ready.Load(stored.Ready, stored.NextReadySegment);
        var history = new HistoryLog(stored.State);
        history.Load(stored.History, stored.NextHistorySegment);
        return new JobScheduler(name, stored.State, time, options, random, leaseKeys, ready, history);
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

    /// <summary>Attempts handed to executors and not yet reported, those sent ahead included.</summary>
    public int InFlightCount => State.InFlight.Count;

    /// <summary>Attempts in flight that hold a slot (started, or about to): at most the workers allowed.</summary>
    public int SlotsInUse => State.InFlight.Count - _queued;

    /// <summary>Whether the job has a definition.</summary>
    public bool IsDefined => State.Definition is not null;

    /// <summary>True when the job must come back if its activation goes: something is scheduled, running or held, or it reads a source.</summary>
    public bool NeedsWaking => State.Recurring is not null || PendingCount > 0 || State.InFlight.Count > 0 || State.Items.Count > 0 || Receiving is not null;

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

    public void SetEvery(EverySchedule every)
    {
        ArgumentNullException.ThrowIfNull(every);
        var definition = Definition;
        if (every.Cron is not null)
        {
            // The same rules as a definition's schedule.
            if (Problems(definition with { Every = every }) is { Count: > 0 } problems)
            {
                throw new ArgumentException($"Job '{Name}' cannot perform on that schedule: {string.Join(" ", problems)}", nameof(every));
            }
        }
        else if (JobLimits.IntervalProblem(every.Interval, _options.MinInterval) is { } problem)
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

    /// <summary>The due time <paramref name="delay"/> from now.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The delay is not positive or beyond <see cref="JobLimits.Horizon"/>.</exception>
    public DateTimeOffset DueIn(TimeSpan delay) => JobLimits.DelayProblem(delay) is { } problem
        ? throw new ArgumentOutOfRangeException(nameof(delay), delay, problem)
        : _time.GetUtcNow() + delay;

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

    /// <summary>
    /// Accepts several executions, all or none: every request is checked first (a problem is named by the request's
    /// index), then the room for all of them. <paramref name="trace"/> gives each one's trace context.
    /// </summary>
    /// <exception cref="ArgumentException">A request is null or not valid; nothing was accepted.</exception>
    /// <exception cref="InvalidOperationException">The job cannot accept them (see <see cref="EnsureCanAccept"/>).</exception>
    public List<string> AcceptMany(IReadOnlyList<PerformRequest> requests, Func<PerformRequest, (string? Parent, string? State)> trace)
    {
        ArgumentNullException.ThrowIfNull(requests);
        if (requests.Count > PerformRequest.MaxPerCall)
        {
            throw new ArgumentException($"PerformMany takes at most {PerformRequest.MaxPerCall} requests; it got {requests.Count}. Nothing was accepted.", nameof(requests));
        }

        for (var i = 0; i < requests.Count; i++)
        {
            var request = requests[i] ?? throw new ArgumentException($"Request {i} is null. Nothing was accepted.", nameof(requests));
            if (RequestProblem(request) is { } problem)
            {
                throw new ArgumentException($"Request {i}: {problem} Nothing was accepted.", nameof(requests));
            }
        }

        EnsureCanAccept(requests.Count);
        var now = _time.GetUtcNow();
        return requests.Select(request =>
        {
            var (parent, state) = trace(request);
            return Accept(request.At ?? (request.Delay is { } delay ? now + delay : now), request.Args, parent, state).ExecutionId;
        }).ToList();
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
    /// runs and records each with <see cref="Dispatched"/>. A job with a <see cref="Problem"/> only expires leases; with
    /// <paramref name="dispatch"/> false (no live silo serves its queue) nothing is taken, and its runs keep waiting.
    /// </summary>
    public List<PendingRun> TakeDue(DateTimeOffset now, List<JobExecution> finished, bool dispatch = true)
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
        if (dispatch)
        {
            TakeDue(now, AllowedWorkers(now) - SlotsInUse, due);
        }

        return due;
    }

    // Takes up to max runs due by now (timed ones by now + EarlyHandOver), the earliest first, into due.
    private void TakeDue(DateTimeOffset now, int max, List<PendingRun> due)
    {
        // Timed runs go a little early: their executor starts them at their due time (WorkClusterOptions.EarlyHandOver).
        var horizon = now + _options.EarlyHandOver;
        var taken = 0;
        List<PendingRun>? held = null;
        var limit = due.Count + max;
        while (due.Count < limit)
        {
            // Reruns of lost attempts whose loss is not written yet stay (see JobScheduler.Reruns.cs).
            while (taken < State.Pending.Count && State.Pending[taken].DueAt <= horizon && IsUnwrittenRerun(State.Pending[taken]))
            {
                (held ??= []).Add(State.Pending[taken++]);
            }

            var timed = taken < State.Pending.Count && State.Pending[taken].DueAt <= horizon ? State.Pending[taken] : null;
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
        if (held is not null)
        {
            State.Pending.InsertRange(0, held);
        }
    }

    /// <summary>
    /// Everything changed since the last call, as one consistent moment to write: the main state is copied at the same
    /// moment as the segments it points at, so changes made while the write is under way go to the next write.
    /// </summary>
    public JobChanges TakeChanges() =>
        new(State.Snapshot(), Ready.TakeDirty(), Ready.TakeDropped(), History.TakeDirty(), History.TakeDropped(), RerunsToWrite());

    /// <summary>Marks the segments of a write that did not happen to be written again.</summary>
    public void NotWritten(JobChanges changes)
    {
        Ready.MarkDirty(changes.Ready.Select(s => s.Number));
        History.MarkDirty(changes.History.Select(s => s.Number));
    }
}

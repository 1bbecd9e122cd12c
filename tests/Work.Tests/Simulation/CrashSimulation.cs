using System.Text;
using Microsoft.Extensions.Time.Testing;
using Orleans.Serialization;
using Work.Grains;
using Work.Scheduling;

namespace Work.Tests.Simulation;

/// <summary>
/// One seeded run of a job under a random workload (accepts now and later, batches, reports, renewals, lost
/// executors, cancels, stops, starts, definition changes, time passing) over storage that fails, loses answers or
/// never answers at any call, with activations that die at any point and are loaded again from what storage holds,
/// and now and then a second activation racing the first. After every step it checks what a new activation would load
/// against what was acknowledged; at the end it lets everything finish and checks that every acknowledged execution
/// ran to a final record, once.
/// </summary>
internal sealed class CrashSimulation
{
    private static readonly DateTimeOffset s_start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly Random _random;
    private readonly FakeTimeProvider _time = new(s_start);
    private readonly SimulatedGrainStorage _storage;
    private readonly Serializer _serializer;
    private readonly WorkClusterOptions _options = new()
    {
        LeaseDuration = TimeSpan.FromSeconds(30),
        LeaseRenewPeriod = TimeSpan.FromSeconds(10),
        WriteDelay = TimeSpan.FromMilliseconds(10),
        MaxPendingPerJob = 40,
        MinInterval = TimeSpan.FromMilliseconds(100),
    };

    private readonly List<string> _log = [];
    private readonly List<string> _violations = [];
    private readonly List<SimulatedJob> _live = [];
    private readonly List<PendingCall> _calls = [];
    private int _activations;

    // What callers were told: ids accepted, with the due time they asked for (if not now); reports the job took.
    private readonly List<string> _ackedIds = [];
    private readonly Dictionary<string, DateTimeOffset> _ackedDue = new(StringComparer.Ordinal);
    private readonly HashSet<(string Id, int Attempt)> _ackedReports = [];

    // Definitions in the order activations applied them, and the latest acknowledged (an index into them).
    private readonly List<JobDefinition> _definitions = [];
    private int _ackedDefinition = -1;

    // The executors: attempts running, and attempts finished whose report was not acknowledged yet.
    private readonly List<ExecutionLeaseAndOrder> _running = [];
    private readonly List<ExecutionReport> _unreported = [];

    // Attempts sent ahead, waiting on their executor for the slot of the job's next run that ends there; and queued
    // attempts an executor gives back unstarted, until the job takes them.
    private readonly List<ExecutionLeaseAndOrder> _waiting = [];
    private readonly List<ExecutionLease> _returning = [];
    private int _starts;
    private int _aheadQueued;
    private int _aheadHandedOver;
    private int _aheadReturned;
    private readonly HashSet<(string Id, int Attempt)> _started = [];
    private int _storageVersion;
    private int _checkedVersion = -1;

    public CrashSimulation(int seed, Serializer serializer)
    {
        Seed = seed;
        _random = new Random(seed);
        _storage = new SimulatedGrainStorage(serializer);
        _serializer = serializer;
        _storage.Written = what => Log("  stored " + what);

        // Odd seeds keep the job's records as the SQL stores do (one journal row per write), even seeds as grain
        // states (one storage call per record).
        Journal = seed % 2 == 1;

        // One seed in four sends nothing ahead; the others send a few runs ahead per executor, so queues fill up.
        _options.RunAhead = seed % 4 == 0 ? 0 : 1 + (seed / 4 % 4);

        // One seed in three hands timed runs over only once due; the others up to 10 or 20 ms early.
        _options.EarlyHandOver = TimeSpan.FromMilliseconds(seed % 3 * 10);
    }

    /// <summary>True when the job's records are kept in a journal, as on PostgreSQL and SQLite.</summary>
    public bool Journal { get; }

    public int Seed { get; }

    /// <summary>Attempts the executors started, duplicates included.</summary>
    public int Starts => _starts;

    /// <summary>Attempts the executors started again after they had run them (at least once: identifiable by id).</summary>
    public int Repeats { get; private set; }

    /// <summary>Attempts executors queued (sent ahead), started in the slot of a run that ended, and gave back.</summary>
    public (int Queued, int HandedOver, int Returned) Ahead => (_aheadQueued, _aheadHandedOver, _aheadReturned);

    /// <summary>Executions acknowledged to callers.</summary>
    public int Acknowledged => _ackedIds.Count;

    /// <summary>Activations loaded, the first included.</summary>
    public int Activations => _activations;

    /// <summary>Runs <paramref name="steps"/> random steps, then lets everything finish; returns the violations found.</summary>
    public IReadOnlyList<string> Run(int steps)
    {
        Bootstrap();
        for (var step = 0; step < steps && _violations.Count == 0; step++)
        {
            Step();
            Settle();
            Check();
        }

        if (_violations.Count == 0)
        {
            Drain();
        }

        return _violations;
    }

    /// <summary>The last steps taken, for a failure's message.</summary>
    public string Trace(int last = 60)
    {
        var text = new StringBuilder();
        foreach (var line in _log.Skip(Math.Max(0, _log.Count - last)))
        {
            text.AppendLine(line);
        }

        return text.ToString();
    }

    private DateTimeOffset Now => _time.GetUtcNow();

    private SimulatedJob Current => _live[0];

    private void Log(string what) => _log.Add($"{(Now - s_start).TotalMilliseconds,9:0.###} ms  {what}");

    private void Violation(string what)
    {
        Log("VIOLATION " + what);
        _violations.Add(what);
    }

    private void Bootstrap()
    {
        Activate();
        Define(Current, RandomDefinition());
        Call(Current, "start", Current.StartAsync());
        for (var i = 0; i < 200 && (_calls.Count > 0 || _storage.Pending.Count > 0); i++)
        {
            ResolveAll(SimulatedGrainStorage.Outcome.Lands);
            Current.Turns.RunUntilIdle(_random.Next);
            Settle();
        }
    }

    private SimulatedJob Activate()
    {
        var job = new SimulatedJob(++_activations, _storage, _time, _options, new Random(_random.Next()), Dispatched, Violation, Journal, Confirmed);
        _live.Add(job);
        Log($"{job} loads");
        _ = job.LoadAsync();
        return job;
    }

    private void Step()
    {
        var roll = _random.Next(1000);
        var target = _live[_random.Next(_live.Count)];
        switch (roll)
        {
            case < 250:
                if (target.Turns.RunOne(_random.Next))
                {
                    Log($"{target} ran a turn");
                }

                break;
            case < 470:
                if (_storage.Pending.Count > 0)
                {
                    var operation = _storage.Pending[_random.Next(_storage.Pending.Count)];
                    var outcome = _random.Next(100) switch
                    {
                        < 88 => SimulatedGrainStorage.Outcome.Lands,
                        < 97 => SimulatedGrainStorage.Outcome.Fails,
                        _ => SimulatedGrainStorage.Outcome.LandsButFails,
                    };
                    Log($"storage: {operation} of {operation.Owner} {outcome}");
                    Resolve(operation, outcome);
                }

                break;
            case < 570:
                Accept(target);
                break;
            case < 640:
                Report(target);
                break;
            case < 670:
                RetryReports(target);
                break;
            case < 690:
                Renew(target);
                break;
            case < 700:
                Return(target);
                break;
            case < 710:
                if (_running.Count > 0)
                {
                    var lost = _running[_random.Next(_running.Count)];
                    _running.Remove(lost);
                    Log($"executor loses {lost.ExecutionId}/{lost.Attempt}");
                    if (!_running.Exists(r => r.Executor == lost.Executor))
                    {
                        // Queued runs wait only while a run of the job runs on their executor: they go with it.
                        var gone = _waiting.RemoveAll(w => w.Executor == lost.Executor);
                        Log($"executor {lost.Executor} loses {gone} queued");
                    }
                }

                break;
            case < 810:
                Advance();
                break;
            case < 830:
                if (_ackedIds.Count > 0)
                {
                    var id = _ackedIds[_random.Next(_ackedIds.Count)];
                    Call(target, $"cancel {id}", target.CancelAsync(id));
                }

                break;
            case < 833:
                Call(target, "cancel all", target.CancelAsync(null));
                break;
            case < 843:
                Call(target, "stop", target.StopAsync());
                break;
            case < 863:
                Call(target, "start", target.StartAsync());
                break;
            case < 878:
                Define(target, RandomDefinition());
                break;
            case < 884:
                Crash(target);
                break;
            case < 888:
                Log($"{target} deactivates");
                var flush = target.FlushAsync();
                Call(target, "flush", flush, () => Kill(target, "deactivated"));
                break;
            case < 893:
                if (_live.Count == 1)
                {
                    Log("a second activation races the first");
                    Activate();
                }

                break;
            case < 899:
                if (_live.Count > 1)
                {
                    Kill(target, "lost the race");
                }

                break;
            default:
                target.Turns.RunOne(_random.Next);
                break;
        }
    }

    private void Accept(SimulatedJob target)
    {
        var requests = Enumerable.Range(0, _random.Next(1, 5)).Select(_ => _random.Next(4) switch
        {
            0 => PerformRequest.AtTime(Now + TimeSpan.FromMilliseconds(_random.Next(1, 3_000))),
            1 => PerformRequest.AtTime(Now - TimeSpan.FromMilliseconds(_random.Next(1, 3_000))),
            _ => PerformRequest.Now(),
        }).ToList();
        var call = target.AcceptAsync(requests);
        Call(target, $"accept {requests.Count}", call, () =>
        {
            for (var i = 0; i < requests.Count; i++)
            {
                var id = call.Result[i];
                _ackedIds.Add(id);
                if (requests[i].At is { } at)
                {
                    _ackedDue[id] = at;
                }
            }

            Log($"accepted {string.Join(", ", call.Result)}");
        });
    }

    private void Report(SimulatedJob target)
    {
        if (_running.Count == 0)
        {
            return;
        }

        // A run handed over early starts at its due time: only runs that started can end.
        var started = _running.Where(r => r.StartedAt <= Now).ToList();
        if (started.Count == 0)
        {
            return;
        }

        var attempt = started[_random.Next(started.Count)];
        _running.Remove(attempt);

        // The first run queued on the same executor takes the slot, and the report says so.
        ExecutionLease? next = null;
        if (_waiting.FindIndex(w => w.Executor == attempt.Executor) is var index and >= 0)
        {
            var queued = _waiting[index];
            _waiting.RemoveAt(index);
            Start(queued with { StartedAt = Now > queued.ScheduledAt ? Now : queued.ScheduledAt });
            _aheadHandedOver++;
            next = new ExecutionLease(queued.ExecutionId, queued.Attempt, queued.Lease, queued.Executor);
        }

        var status = _random.Next(100) switch
        {
            < 85 => JobStatus.Success,
            < 95 => JobStatus.InternalError,
            _ => JobStatus.Timeout,
        };
        var report = new ExecutionReport(
            new JobExecution
            {
                ExecutionId = attempt.ExecutionId,
                Handler = "h",
                Attempt = attempt.Attempt,
                Status = status,
                ScheduledAt = attempt.ScheduledAt,
                StartedAt = attempt.StartedAt,
                FinishedAt = Now,
                Worker = attempt.Executor,
            },
            attempt.Lease,
            next);
        _unreported.Add(report);
        SendReports(target, [report]);
    }

    private void RetryReports(SimulatedJob target)
    {
        if (_unreported.Count > 0)
        {
            SendReports(target, _unreported.ToList());
        }
    }

    // As executors do: the call only says the reports count; the attempts are renewed and reported again until the
    // job confirms them as durable.
    private void SendReports(SimulatedJob target, List<ExecutionReport> reports) =>
        Call(target, $"report {string.Join(", ", reports.Select(r => $"{r.Execution.ExecutionId}/{r.Execution.Attempt} {(int)r.Execution.Status}"))}", target.ReportAsync(reports));

    private void Confirmed(IReadOnlyList<ExecutionReport> reports, IReadOnlyList<ExecutionReport> taken)
    {
        Log($"confirmed {string.Join(", ", reports.Select(r => $"{r.Execution.ExecutionId[^3..]}/{r.Execution.Attempt}"))}");
        foreach (var report in reports)
        {
            _unreported.Remove(report);
        }

        foreach (var report in taken)
        {
            _ackedReports.Add((report.Execution.ExecutionId, report.Execution.Attempt));
        }
    }

    private void Return(SimulatedJob target)
    {
        if (_returning.Count > 0)
        {
            var runs = _returning.ToList();
            _returning.Clear();
            Call(target, $"return {string.Join(", ", runs.Select(r => $"{r.ExecutionId}/{r.Attempt}"))}", target.ReturnAsync(runs));
        }
    }

    private void Renew(SimulatedJob target)
    {
        var leases = _running.Concat(_waiting).Select(r => new ExecutionLease(r.ExecutionId, r.Attempt, r.Lease, r.Executor))
            .Concat(_unreported.Select(r => new ExecutionLease(r.Execution.ExecutionId, r.Execution.Attempt, r.Lease, r.Execution.Worker)))
            .ToList();
        if (leases.Count > 0)
        {
            Call(target, $"renew {leases.Count}", target.RenewAsync(leases));
        }
    }

    private void Define(SimulatedJob target, JobDefinition definition)
    {
        var applied = -1;
        Call(
            target,
            $"define max {definition.MaxWorkers}, every {definition.Every?.Interval.TotalMilliseconds}, attempts {definition.Retry.MaxAttempts}",
            target.DefineAsync(definition, () =>
            {
                applied = _definitions.Count;
                _definitions.Add(definition);
            }),
            () => _ackedDefinition = Math.Max(_ackedDefinition, applied));
    }

    private JobDefinition RandomDefinition() => new(new Job("h"))
    {
        MaxWorkers = _random.Next(1, 5),
        StartInterval = _random.Next(4) == 0 ? TimeSpan.FromMilliseconds(_random.Next(100, 2_000)) : TimeSpan.Zero,
        Every = _random.Next(4) == 0 ? new EverySchedule { Interval = TimeSpan.FromMilliseconds(_random.Next(200, 3_000)), Sync = _random.Next(2) == 0 } : null,
        Retry = _random.Next(2) == 0 ? RetryPolicy.None : new RetryPolicy { MaxAttempts = 3, InitialDelay = TimeSpan.FromMilliseconds(300) },
        HistoryLimit = JobDefinition.MaxHistoryLimit,
    };

    private void Advance()
    {
        var step = _random.Next(3) switch
        {
            0 => TimeSpan.FromMilliseconds(_random.Next(1, 20)),
            1 => TimeSpan.FromMilliseconds(_random.Next(20, 2_000)),
            _ => _live.Select(j => j.Scheduler?.NextWakeUp(Now)).Where(t => t > Now).Min() is { } next ? next - Now : TimeSpan.FromMilliseconds(500),
        };
        Log($"time +{step.TotalMilliseconds:0.###} ms");
        _time.Advance(step);
    }

    private void Crash(SimulatedJob target)
    {
        Log($"{target} crashes");
        Kill(target, "crashed");
    }

    private void Kill(SimulatedJob job, string why)
    {
        if (job.Dead)
        {
            return;
        }

        job.Die();
        _live.Remove(job);
        _storage.Abandon(job, _random);
        _storageVersion++;
        _calls.RemoveAll(c => c.Target == job);
        Log($"{job} is gone ({why})");
        if (_live.Count == 0)
        {
            Activate();
        }
    }

    // The executors start what they are handed, unless they already run or ran the same attempt.
    private bool Dispatched(InFlightRun inFlight, DateTimeOffset now)
    {
        if (_random.Next(50) == 0)
        {
            Log($"hand-over of {inFlight.Run.ExecutionId}/{inFlight.Run.Attempt} fails");
            return false;
        }

        var run = inFlight.Run;
        if (now < run.DueAt - _options.EarlyHandOver)
        {
            Violation($"{run.ExecutionId}/{run.Attempt} dispatched at {now:O}, more than {_options.EarlyHandOver.TotalMilliseconds} ms before it was due at {run.DueAt:O}");
        }

        if (_running.Exists(r => r.ExecutionId == run.ExecutionId && r.Attempt == run.Attempt)
            || _waiting.Exists(r => r.ExecutionId == run.ExecutionId && r.Attempt == run.Attempt)
            || _unreported.Exists(r => r.Execution.ExecutionId == run.ExecutionId && r.Execution.Attempt == run.Attempt))
        {
            Log($"executor already has {run.ExecutionId}/{run.Attempt}");
            return true;
        }

        // The executor starts it at its due time, never before.
        var order = new ExecutionLeaseAndOrder(run.ExecutionId, run.Attempt, inFlight.Lease, run.DueAt, now > run.DueAt ? now : run.DueAt, inFlight.Executor);
        if (inFlight.Queued)
        {
            if (_running.Exists(r => r.Executor == inFlight.Executor))
            {
                _waiting.Add(order);
                _aheadQueued++;
                Log($"executor {inFlight.Executor} queues {run.ExecutionId}/{run.Attempt}");
            }
            else
            {
                _returning.Add(new ExecutionLease(run.ExecutionId, run.Attempt, inFlight.Lease, inFlight.Executor));
                _aheadReturned++;
                Log($"executor {inFlight.Executor} gives back {run.ExecutionId}/{run.Attempt}: nothing of the job runs there");
            }

            return true;
        }

        Start(order);
        return true;
    }

    private void Start(ExecutionLeaseAndOrder order)
    {
        _starts++;
        if (!_started.Add((order.ExecutionId, order.Attempt)))
        {
            Repeats++;
        }

        // A later attempt runs only when the one before it failed or was lost, never once storage holds its success
        // (a stale activation counting lost an attempt that another one finished must not have sent the next).
        if (order.Attempt > 1 && StoredNow().History.Records.FirstOrDefault(r => r.ExecutionId == order.ExecutionId && r.Attempt < order.Attempt && r.Status == JobStatus.Success) is { } success)
        {
            Violation($"{order.ExecutionId}/{order.Attempt} starts though storage holds attempt {success.Attempt} as succeeded");
        }

        _running.Add(order);
        Log($"executor {order.Executor} starts {order.ExecutionId}/{order.Attempt}");
    }

    private void Call(SimulatedJob target, string what, Task task, Action? acknowledged = null)
    {
        Log($"{target} <- {what}");
        _calls.Add(new PendingCall(target, what, task, acknowledged));
    }

    private void Resolve(SimulatedGrainStorage.Operation operation, SimulatedGrainStorage.Outcome outcome)
    {
        _storage.Resolve(operation, outcome);
        _storageVersion++;
    }

    private void ResolveAll(SimulatedGrainStorage.Outcome outcome)
    {
        while (_storage.Pending.Count > 0)
        {
            Resolve(_storage.Pending[0], outcome);
        }
    }

    // Answers for finished calls, and activations that found another wrote meanwhile go (the grain deactivates).
    private void Settle()
    {
        foreach (var call in _calls.Where(c => c.Task.IsCompleted).ToList())
        {
            _calls.Remove(call);
            if (call.Task.IsCompletedSuccessfully)
            {
                call.Acknowledged?.Invoke();
            }
            else
            {
                Log($"{call.Target}: {call.What} failed: {call.Task.Exception?.InnerException?.Message}");
            }
        }

        foreach (var job in _live.Where(j => j.Conflicted).ToList())
        {
            Kill(job, "another activation wrote");
        }

        // A load that failed is tried again, as the grain does at its next call.
        foreach (var job in _live.Where(j => j.Loading is { IsFaulted: true }).ToList())
        {
            Kill(job, $"its load failed: {job.Loading!.Exception!.InnerException!.Message}");
        }
    }

    // What a new activation would load now holds everything acknowledged, once.
    private void Check()
    {
        if (_checkedVersion == _storageVersion)
        {
            return;
        }

        _checkedVersion = _storageVersion;
        var (stored, loaded) = Stored();
        foreach (var id in _ackedIds)
        {
            if (!loaded.IsActive(id) && loaded.LastRecord(id) is null)
            {
                Violation($"acknowledged execution {id} is neither pending, in flight nor in the history storage holds");
            }
        }

        foreach (var (id, attempt) in _ackedReports)
        {
            if (!loaded.History.Records.Any(r => r.ExecutionId == id && r.Attempt == attempt))
            {
                Violation($"the acknowledged report of {id}/{attempt} is not in the history storage holds");
            }
        }

        CheckHistory(loaded, $"storage (history segments {string.Join(", ", stored.History.Select(h => $"{h.Number}: {h.Records.Count}"))}; head {stored.State.HistoryHead}+{stored.State.HistoryHeadOffset}, tail {stored.State.HistoryTail} of {stored.State.HistoryTailCount})");

        // The definition stored is the one acknowledged last, or one applied after it.
        if (_ackedDefinition >= 0 && !_definitions.Skip(_ackedDefinition).Any(d => Same(d, loaded.State.Definition)))
        {
            Violation($"storage holds a definition older than the one acknowledged ({_ackedDefinition}): {loaded.State.Definition}");
        }
    }

    // What a new activation would load now.
    private (StoredJob Stored, JobScheduler Loaded) Stored()
    {
        var job = GrainId.Create("job", SimulatedJob.Name);
        var stored = (Journal ? new JobStore(_storage.CommittedJournal(), job) : new JobStore(_storage.Committed(), job)).LoadAsync().GetAwaiter().GetResult();
        return (stored, JobScheduler.Load(SimulatedJob.Name, stored, _time, _options));
    }

    private JobScheduler StoredNow() => Stored().Loaded;

    // Definitions compared as stored (their records hold lists, which compare by reference, and a list comes back
    // from storage as another type): both as they read after a trip through storage.
    private bool Same(JobDefinition a, JobDefinition? b) =>
        b is not null && Stored(a).AsSpan().SequenceEqual(Stored(b));

    private byte[] Stored(JobDefinition definition) =>
        _serializer.SerializeToArray(_serializer.Deserialize<JobDefinition>(_serializer.SerializeToArray(definition)));

    private void CheckHistory(JobScheduler scheduler, string where)
    {
        foreach (var twice in scheduler.History.Records.GroupBy(r => (r.ExecutionId, r.Attempt)).Where(g => g.Count() > 1))
        {
            Violation($"{where}: attempt {twice.Key.ExecutionId}/{twice.Key.Attempt} is in the history {twice.Count()} times: " +
                string.Join("; ", twice.Select(r => $"{(int)r.Status} {r.ErrorType} finished {(r.FinishedAt - s_start).TotalMilliseconds} ms by {r.Worker}")));
        }

        foreach (var record in scheduler.History.Records)
        {
            if (scheduler.State.InFlight.TryGetValue(record.ExecutionId, out var inFlight) && inFlight.Run.Attempt <= record.Attempt)
            {
                Violation($"{where}: {record.ExecutionId}/{inFlight.Run.Attempt} is in flight though attempt {record.Attempt} finished");
            }

            if (record.Attempt == 1 && _ackedDue.TryGetValue(record.ExecutionId, out var due) && record.ScheduledAt != due)
            {
                Violation($"{where}: {record.ExecutionId} was scheduled at {record.ScheduledAt:O}, not at {due:O} as asked");
            }
        }
    }

    // No more failures: everything pending runs, everything running reports, until the job is idle.
    private void Drain()
    {
        Log("drain");
        while (_live.Count > 1)
        {
            Kill(_live[^1], "drain");
        }

        var recurringOff = false;
        for (var round = 0; round < 3_000; round++)
        {
            ResolveAll(SimulatedGrainStorage.Outcome.Lands);
            Current.Turns.RunUntilIdle(_random.Next);
            Settle();
            if (_live.Count == 0)
            {
                Activate();
                continue;
            }

            var scheduler = Current.Scheduler;
            if (scheduler is null || _storage.Pending.Count > 0 || Current.Turns.Pending > 0)
            {
                continue;
            }

            if (_calls.Count > 0)
            {
                // Calls wait on a timer (a report's answer waits for a write within the write delay).
                _time.Advance(TimeSpan.FromMilliseconds(5));
                continue;
            }

            if (!recurringOff && scheduler.State.Definition is { Every: not null } withEvery)
            {
                recurringOff = true;
                Define(Current, withEvery with { Every = null });
                continue;
            }

            if (_running.Count > 0)
            {
                if (_running.Min(r => r.StartedAt) is var first && first > Now)
                {
                    // Handed over early: they start at their due times.
                    _time.Advance(first - Now);
                }

                while (_running.Exists(r => r.StartedAt <= Now))
                {
                    Report(Current);
                }

                continue;
            }

            if (_returning.Count > 0)
            {
                Return(Current);
                continue;
            }

            if (_waiting.Count > 0)
            {
                Violation($"{_waiting.Count} queued runs wait on executors where nothing of the job runs");
                break;
            }

            if (_unreported.Count > 0)
            {
                // Reported, not confirmed yet: the write may wait its delay. Reported again after it, as executors do.
                _time.Advance(TimeSpan.FromMilliseconds(20));
                RetryReports(Current);
                continue;
            }

            if (scheduler.PendingCount == 0 && scheduler.InFlightCount == 0)
            {
                break;
            }

            _time.Advance(scheduler.NextWakeUp(Now) is { } next && next > Now ? next - Now : TimeSpan.FromSeconds(1));
        }

        Log($"drained: {_calls.Count} calls waiting ({string.Join("; ", _calls.Select(c => $"{c.Target} {c.What} {c.Task.Status}"))}), {_storage.Pending.Count} storage calls, {Current.Turns.Pending} turns, commit: {Current.CommitState}");
        Check();
        var final = Current.Scheduler;
        if (final is null)
        {
            Violation($"{Current} never loaded ({Current.Loading?.Status}, {Current.Loading?.Exception}): {_storage.Pending.Count} storage calls, {Current.Turns.Pending} turns and {_calls.Count} calls waiting");
            return;
        }

        if (final.PendingCount > 0 || final.InFlightCount > 0)
        {
            Violation($"the job did not finish its work: {final.PendingCount} pending, {final.InFlightCount} in flight");
        }

        foreach (var id in _ackedIds)
        {
            if (final.IsActive(id) || final.LastRecord(id) is null)
            {
                Violation($"acknowledged execution {id} never finished");
            }
        }

        CheckHistory(final, "at the end");
    }

    private sealed record PendingCall(SimulatedJob Target, string What, Task Task, Action? Acknowledged);

    private sealed record ExecutionLeaseAndOrder(string ExecutionId, int Attempt, long Lease, DateTimeOffset ScheduledAt, DateTimeOffset StartedAt, string Executor);
}

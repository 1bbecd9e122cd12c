using Microsoft.Extensions.Time.Testing;
using Orleans.Storage;
using Work.Grains;
using Work.Scheduling;

namespace Work.Tests.Simulation;

/// <summary>
/// One activation of a job, made of the product's own parts (<see cref="JobStore"/>, <see cref="GroupCommit"/>,
/// <see cref="JobScheduler"/>, <see cref="WakeUpAlarm"/>) wired as the job grain wires them, with the grain's pump, on
/// a <see cref="DeterministicTaskScheduler"/> the simulation drives, over storage whose every call it answers.
/// </summary>
internal sealed class SimulatedJob
{
    public const string Name = "simulated";

    private readonly FakeTimeProvider _time;
    private readonly WorkClusterOptions _options;
    private readonly JobStore _store;
    private readonly GroupCommit _commit;
    private readonly WakeUpAlarm _alarm;
    private readonly Random _random;
    private readonly Func<InFlightRun, DateTimeOffset, bool> _dispatched;
    private readonly Action<string> _violation;
    private readonly SharedTurn _acceptPump;

    // Tells the executor which reports (all of a call, and those taken) are durable, as the grain's confirmation does.
    private readonly Action<IReadOnlyList<ExecutionReport>, IReadOnlyList<ExecutionReport>> _confirmed;

    public SimulatedJob(
        int number,
        SimulatedGrainStorage storage,
        FakeTimeProvider time,
        WorkClusterOptions options,
        Random random,
        Func<InFlightRun, DateTimeOffset, bool> dispatched,
        Action<string> violation,
        bool journal,
        Action<IReadOnlyList<ExecutionReport>, IReadOnlyList<ExecutionReport>> confirmed)
    {
        _confirmed = confirmed;
        Number = number;
        _time = time;
        _options = options;
        _random = random;
        _dispatched = dispatched;
        _violation = violation;
        var timers = new FakeJobTimers(time, Turns, () => Dead);
        _store = journal ? new JobStore(storage.Journal(this), GrainId.Create("job", Name)) : new JobStore(storage.For(this), GrainId.Create("job", Name));
        _commit = new GroupCommit(WriteAsync, options.WriteDelay, timers, OnWriteFailed);
        _acceptPump = new SharedTurn(() => PumpAsync(mustSave: true));
        _alarm = new WakeUpAlarm(timers, new PreciseWakeUps(time), time, PumpInBackgroundAsync);
    }

    /// <summary>Which activation this is, for the log.</summary>
    public int Number { get; }

    public DeterministicTaskScheduler Turns { get; } = new();

    public JobScheduler? Scheduler { get; private set; }

    /// <summary>Another activation wrote meanwhile: this one stops answering, as the grain does.</summary>
    public bool Conflicted { get; private set; }

    /// <summary>It died: nothing of it runs any more.</summary>
    public bool Dead { get; private set; }

    public override string ToString() => $"activation {Number}";

    /// <summary>The group commit's state, for a failure's message.</summary>
    public string CommitState => _commit.ToString();

    /// <summary>The load, started by <see cref="LoadAsync"/>.</summary>
    public Task? Loading { get; private set; }

    public Task LoadAsync() => Loading = Turns.Start(async () =>
    {
        var stored = await _store.LoadAsync();
        var scheduler = Scheduler = JobScheduler.Load(Name, stored, _time, _options, _random.NextDouble, () => _random.NextInt64(1, long.MaxValue));
        scheduler.RenewAll(_time.GetUtcNow(), _options.LeaseDuration);
        await PumpAsync();
    });

    public Task<IReadOnlyList<string>> AcceptAsync(IReadOnlyList<PerformRequest> requests) => Turns.Start(async () =>
    {
        var ids = (await UsableAsync()).AcceptMany(requests, _ => (null, null));
        await _acceptPump.RunAsync();
        return (IReadOnlyList<string>)ids;
    });

    /// <summary>Defines the job; <paramref name="applied"/> hears when the definition takes effect in this activation.</summary>
    public Task DefineAsync(JobDefinition definition, Action applied) => Turns.Start(async () =>
    {
        (await UsableAsync()).Define(definition);
        applied();
        await PumpAsync(mustSave: true);
    });

    public Task StartAsync() => Turns.Start(async () =>
    {
        (await UsableAsync()).Start();
        await PumpAsync(mustSave: true);
    });

    public Task StopAsync() => Turns.Start(async () =>
    {
        var cancelled = new List<JobExecution>();
        (await UsableAsync()).Stop(cancelled);
        await PumpAsync(cancelled, mustSave: true);
    });

    public Task<int> CancelAsync(string? executionId) => Turns.Start(async () =>
    {
        var cancelled = new List<JobExecution>();
        var running = (await UsableAsync()).Cancel(executionId, cancelled);
        await PumpAsync(cancelled, mustSave: true);
        return cancelled.Count + running.Count;
    });

    /// <summary>Reports attempts; returns the ones the job took (the others were not in flight under their lease).</summary>
    public Task<IReadOnlyList<ExecutionReport>> ReportAsync(IReadOnlyList<ExecutionReport> reports) => Turns.Start(async () =>
    {
        var scheduler = await UsableAsync();
        var finished = new List<JobExecution>();
        var handedOver = reports.Count(r => r.Next is { } next && scheduler.HandedOver(next.Executor, next, _time.GetUtcNow(), _options.LeaseDuration));
        var taken = reports.Where(r => scheduler.Report(r.Execution, r.Lease, finished)).ToList();
        if (taken.Count > 0 || handedOver > 0)
        {
            // As the grain: the results count now, and are confirmed to the executor once written.
            await PumpAsync(finished);
            _commit.CommitSoon();
        }

        _ = ConfirmWhenDurableAsync(reports, taken);
        return (IReadOnlyList<ExecutionReport>)taken;
    });

    private async Task ConfirmWhenDurableAsync(IReadOnlyList<ExecutionReport> reports, IReadOnlyList<ExecutionReport> taken)
    {
        try
        {
            if (_commit.Busy)
            {
                await _commit.CommitSoonAsync();
            }
        }
        catch (Exception)
        {
            // Not written: the executor reports them again.
            return;
        }

        if (!Dead)
        {
            _confirmed(reports, taken);
        }
    }

    /// <summary>Queued attempts an executor gives back unstarted, as the grain takes them.</summary>
    public Task ReturnAsync(IReadOnlyList<ExecutionLease> runs) => Turns.Start(async () =>
    {
        var scheduler = await UsableAsync();
        var finished = new List<JobExecution>();
        var returned = runs.Count(run => scheduler.Returned(run, finished));
        if (returned > 0)
        {
            await PumpAsync(finished);
            _commit.CommitSoon();
        }
    });

    public Task RenewAsync(IReadOnlyList<ExecutionLease> leases) => Turns.Start(async () =>
    {
        var scheduler = await UsableAsync();
        foreach (var lease in leases)
        {
            scheduler.Renew(lease.ExecutionId, lease.Attempt, lease.Lease, lease.Executor, _time.GetUtcNow(), _options.LeaseDuration);
        }

        Rearm(scheduler);
    });

    /// <summary>What the grain does when its activation goes quietly: writes what is not written yet.</summary>
    public Task FlushAsync() => Turns.Start(() => Scheduler is null || Conflicted || !_commit.Busy ? Task.CompletedTask : _commit.FlushAsync());

    /// <summary>The activation dies: its queued work and timers never run, its storage calls are left to the test.</summary>
    public void Die()
    {
        Dead = true;
        Turns.Abandon();
    }

    // As the grain: calls wait for the activation's load, and fail once another activation wrote.
    private async Task<JobScheduler> UsableAsync()
    {
        await Loading!;
        if (Conflicted)
        {
            throw new InconsistentStateException("Another activation wrote meanwhile.");
        }

        return Scheduler!;
    }

    // The grain's pump, with the hand-over going to the simulated executors.
    private async Task PumpAsync(List<JobExecution>? finished = null, bool mustSave = false)
    {
        var scheduler = Scheduler!;
        var now = _time.GetUtcNow();
        finished ??= [];
        var due = scheduler.TakeDue(now, finished);
        var sent = due.ConvertAll(run => scheduler.Dispatched(run, _random.Next(2) == 0 ? "silo-a" : "silo-b", now, _options.LeaseDuration));
        if (due.Count > 0 && scheduler.SlotsInUse > scheduler.AllowedWorkers(now))
        {
            _violation($"{this} dispatched {due.Count}: {scheduler.SlotsInUse} slots in use, over the {scheduler.AllowedWorkers(now)} allowed");
        }

        foreach (var (run, executor) in scheduler.TakeAhead(now))
        {
            if (_options.RunAhead == 0)
            {
                _violation($"{this} sent {run.ExecutionId} ahead though RunAhead is 0");
            }

            sent.Add(scheduler.Dispatched(run, executor, now, _options.LeaseDuration, queued: true));
        }

        // The scheduler keeps its slot counts as runs come and go: they match a count of what is in flight.
        var held = scheduler.State.InFlight.Values.Where(f => !f.Queued).GroupBy(f => f.Executor).ToDictionary(g => g.Key, g => g.Count());
        var counted = scheduler.InFlightByExecutor();
        if (scheduler.SlotsInUse != held.Values.Sum() || counted.Count != held.Count || counted.Any(c => held.GetValueOrDefault(c.Key) != c.Value))
        {
            _violation($"{this} counts {scheduler.SlotsInUse} slots in use ({string.Join(", ", counted)}), but {held.Values.Sum()} are ({string.Join(", ", held)})");
        }

        // As the grain: the starts of a call go before its queued runs.
        var failed = sent.Where(inFlight => !_dispatched(inFlight, now)).ToList();
        if (failed.Count > 0)
        {
            _ = Turns.Start(() => HandOverFailed(failed));
        }

        Rearm(scheduler);
        if (mustSave)
        {
            await _commit.CommitAsync();
        }
        else if (sent.Count > 0 || finished.Count > 0 || scheduler.UnwrittenReruns > 0)
        {
            _commit.CommitSoon();
        }
    }

    // As the grain does when an executor could not be reached: the runs go back to pending.
    private Task HandOverFailed(List<InFlightRun> runs)
    {
        var scheduler = Scheduler!;
        var finished = new List<JobExecution>();
        foreach (var inFlight in runs)
        {
            scheduler.Undispatched(inFlight.Run, finished);
        }

        _commit.CommitSoon();
        Rearm(scheduler);
        return Task.CompletedTask;
    }

    private void Rearm(JobScheduler scheduler) => _alarm.Arm(scheduler.NextWakeUp(_time.GetUtcNow()), scheduler.NeedsWaking);

    private async Task PumpInBackgroundAsync()
    {
        if (Scheduler is null || Conflicted)
        {
            return;
        }

        try
        {
            await PumpAsync();
        }
        catch (Exception ex)
        {
            _violation($"{this}: a background pump failed: {ex}");
        }
    }

    // As the grain: a write that stored the loss of attempts frees their reruns, which go now.
    private async Task WriteAsync()
    {
        if (await _store.WriteAsync(Scheduler!))
        {
            _ = PumpInBackgroundAsync();
        }
    }

    private bool OnWriteFailed(Exception error)
    {
        if (error is InconsistentStateException)
        {
            Conflicted = true;
            _alarm.Stop();
            return false;
        }

        return true;
    }
}

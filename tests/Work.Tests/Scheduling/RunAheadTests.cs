using Microsoft.Extensions.Time.Testing;
using Work.Grains;
using Work.Scheduling;

namespace Work.Tests.Scheduling;

/// <summary>Runs sent ahead to executors that hold slots, and slots handed over there without a round trip.</summary>
public sealed class RunAheadTests
{
    private static readonly TimeSpan s_lease = TimeSpan.FromSeconds(30);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero));

    private DateTimeOffset Now => _time.GetUtcNow();

    private JobScheduler Create(int maxWorkers, int runAhead, JobState? state = null)
    {
        var scheduler = new JobScheduler("job", state ?? new JobState(), _time, new WorkClusterOptions { RunAhead = runAhead }, () => 0.5);
        scheduler.Define(new JobDefinition(new Job("h")) { MaxWorkers = maxWorkers });
        scheduler.Start();
        return scheduler;
    }

    private static void Accept(JobScheduler scheduler, int count, DateTimeOffset at)
    {
        for (var i = 0; i < count; i++)
        {
            scheduler.Accept(at, null, null, null);
        }
    }

    // What the grain's pump does: starts on the executors given in turn, then the runs sent ahead.
    private (List<InFlightRun> Starts, List<InFlightRun> Queued) Pump(JobScheduler scheduler, params string[] executors)
    {
        var starts = scheduler.TakeDue(Now, []).Select((run, i) => scheduler.Dispatched(run, executors[i % executors.Length], Now, s_lease)).ToList();
        var queued = scheduler.TakeAhead(Now).Select(a => scheduler.Dispatched(a.Run, a.Executor, Now, s_lease, queued: true)).ToList();
        return (starts, queued);
    }

    private JobExecution Result(InFlightRun inFlight) => new()
    {
        ExecutionId = inFlight.Run.ExecutionId,
        Handler = "h",
        Attempt = inFlight.Run.Attempt,
        Status = JobStatus.Success,
        ScheduledAt = inFlight.Run.DueAt,
        StartedAt = Now,
        FinishedAt = Now,
        Worker = inFlight.Executor,
    };

    private static ExecutionLease LeaseOf(InFlightRun inFlight) => new(inFlight.Run.ExecutionId, inFlight.Run.Attempt, inFlight.Lease, inFlight.Executor);

    [Fact]
    public void RunsHandedOverBeforeTheirDueTimeWaitFourTimesAsDeepButRunsDueNowOnlyRunAheadDeep()
    {
        var scheduler = Create(maxWorkers: 2, runAhead: 4);
        var due = Now + TimeSpan.FromSeconds(1);
        Accept(scheduler, 30, due);
        _time.Advance(TimeSpan.FromSeconds(1) - TimeSpan.FromMilliseconds(5));

        // Due in 5 ms: both slots and 4 x 4 runs ahead go out, all before the due time.
        var (starts, queued) = Pump(scheduler, "a");
        Assert.Equal(2, starts.Count);
        Assert.Equal(JobScheduler.EarlyAheadFactor * 4, queued.Count);
        Assert.All(queued, q => Assert.Equal(due, q.Run.DueAt));
        Assert.Equal(30 - 2 - 16, scheduler.PendingCount);
        Assert.True(scheduler.NextWakeUp(Now) > Now, "the alarm does not spin on runs it cannot send");

        // A run due now waits behind RunAhead: the executor already holds more than that, so nothing more goes out, and
        // the runs due later that would fit the deeper limit wait behind it.
        scheduler.Accept(Now, null, null, null);
        var (moreStarts, moreQueued) = Pump(scheduler, "a");
        Assert.Empty(moreStarts);
        Assert.Empty(moreQueued);
        Assert.True(scheduler.NextWakeUp(Now) > Now, "the alarm does not spin on runs it cannot send");
    }

    [Fact]
    public void RunsBeyondTheFreeSlotsWaitOnExecutorsHoldingSlotsUpToRunAheadEach()
    {
        var scheduler = Create(maxWorkers: 3, runAhead: 4);
        Accept(scheduler, 20, Now);

        var (starts, queued) = Pump(scheduler, "a", "b");

        Assert.Equal(3, starts.Count);
        Assert.All(starts, s => Assert.False(s.Queued));

        // a holds 2 slots and b 1: each takes at most 4 queued runs, the fewest per slot first.
        Assert.Equal(8, queued.Count);
        Assert.All(queued, q => Assert.True(q.Queued));
        Assert.Equal(4, queued.Count(q => q.Executor == "a"));
        Assert.Equal(4, queued.Count(q => q.Executor == "b"));
        Assert.Equal(3, scheduler.SlotsInUse);
        Assert.Equal(11, scheduler.InFlightCount);
        Assert.Equal(9, scheduler.PendingCount);

        // Full: nothing more goes out, and nothing more is due for the alarm until a report comes.
        var (moreStarts, moreQueued) = Pump(scheduler, "a");
        Assert.Empty(moreStarts);
        Assert.Empty(moreQueued);
        Assert.True(scheduler.NextWakeUp(Now) > Now, "the alarm does not spin on runs it cannot send");
    }

    [Fact]
    public void RunsAreSentAheadInDueOrderAfterTheStarts()
    {
        var scheduler = Create(maxWorkers: 1, runAhead: 10);
        for (var i = 5; i > 0; i--)
        {
            scheduler.Accept(Now - TimeSpan.FromSeconds(i), null, null, null);
        }

        var (starts, queued) = Pump(scheduler, "a");

        var order = starts.Concat(queued).Select(r => r.Run.DueAt).ToList();
        Assert.Equal(order.Order().ToList(), order);
        Assert.Equal(5, order.Count);
    }

    [Fact]
    public void NothingIsSentAheadWithRunAheadZeroOrToAnExecutorWithoutSlots()
    {
        var none = Create(maxWorkers: 2, runAhead: 0);
        Accept(none, 10, Now);
        var (starts, queued) = Pump(none, "a");
        Assert.Equal(2, starts.Count);
        Assert.Empty(queued);

        // Every slot free: what is due starts; nothing waits.
        var idle = Create(maxWorkers: 5, runAhead: 8);
        Accept(idle, 3, Now);
        (starts, queued) = Pump(idle, "a");
        Assert.Equal(3, starts.Count);
        Assert.Empty(queued);
    }

    [Fact]
    public void AHandedOverSlotStaysCountedAndTheEndedRunFreesNone()
    {
        var scheduler = Create(maxWorkers: 1, runAhead: 2);
        Accept(scheduler, 3, Now);
        var (starts, queued) = Pump(scheduler, "a");
        var first = Assert.Single(starts);
        Assert.Equal(2, queued.Count);

        // The executor ends the first run and starts the first queued one in its slot.
        Assert.True(scheduler.HandedOver("a", LeaseOf(queued[0]), Now, s_lease));
        Assert.True(scheduler.Report(Result(first), first.Lease, []));

        Assert.Equal(1, scheduler.SlotsInUse);
        Assert.Equal(2, scheduler.InFlightCount);
        Assert.False(scheduler.State.InFlight[queued[0].Run.ExecutionId].Queued);
        Assert.Empty(scheduler.TakeDue(Now, []));

        // A report of the same hand-over again changes nothing.
        Assert.False(scheduler.Report(Result(first), first.Lease, []));
        Assert.True(scheduler.HandedOver("a", LeaseOf(queued[0]), Now, s_lease));
        Assert.Equal(1, scheduler.SlotsInUse);

        // A forged hand-over (wrong lease) is refused.
        Assert.False(scheduler.HandedOver("a", LeaseOf(queued[1]) with { Lease = LeaseOf(queued[1]).Lease ^ 1 }, Now, s_lease));
        Assert.True(scheduler.State.InFlight[queued[1].Run.ExecutionId].Queued);
    }

    [Fact]
    public void AReturnedRunWaitsAgainAndItsExecutorGetsNoMoreUntilARunStartsThere()
    {
        var scheduler = Create(maxWorkers: 1, runAhead: 4);
        Accept(scheduler, 6, Now);
        var (starts, queued) = Pump(scheduler, "a");
        var first = Assert.Single(starts);
        Assert.Equal(4, queued.Count);

        // The first run ended before the queued ones came: the executor gives them back.
        Assert.True(scheduler.Report(Result(first), first.Lease, []));
        foreach (var run in queued)
        {
            Assert.True(scheduler.Returned(LeaseOf(run), []));
        }

        Assert.False(scheduler.Returned(LeaseOf(queued[0]), []));
        Assert.Equal(0, scheduler.InFlightCount);
        Assert.Equal(5, scheduler.PendingCount);

        // A start goes out on the free slot, the earliest first; runs are sent ahead again once it is there.
        (starts, queued) = Pump(scheduler, "a");
        Assert.Equal(first.Run.DueAt, Assert.Single(starts).Run.DueAt);
        Assert.Equal(4, queued.Count);
    }

    [Fact]
    public void AnExecutorThatGaveRunsBackGetsNoneAheadWhileTheJobStillCountsASlotThere()
    {
        var scheduler = Create(maxWorkers: 2, runAhead: 4);
        Accept(scheduler, 10, Now);
        var (starts, queued) = Pump(scheduler, "a");
        Assert.Equal(2, starts.Count);

        // The executor lost its runs (its silo died, say) and gives back what comes; their leases have not run out.
        foreach (var run in queued)
        {
            Assert.True(scheduler.Returned(LeaseOf(run), []));
        }

        var (moreStarts, moreQueued) = Pump(scheduler, "a");
        Assert.Empty(moreStarts);
        Assert.Empty(moreQueued);
        Assert.True(scheduler.NextWakeUp(Now) > Now, "the alarm does not spin on runs it cannot send");

        // The leases run out: the slots come back, runs start, and runs are sent ahead to that executor again.
        _time.Advance(s_lease);
        (starts, queued) = Pump(scheduler, "a");
        Assert.Equal(2, starts.Count);
        Assert.Equal(4, queued.Count);
    }

    [Fact]
    public void ARunHandedOverWhoseDispatchWasNeverWrittenIsTakenBackInFlight()
    {
        var state = new JobState();
        var scheduler = Create(maxWorkers: 1, runAhead: 2, state);

        // Timed, so they are in the main state a new activation loads.
        Accept(scheduler, 2, Now + TimeSpan.FromMilliseconds(1));
        _time.Advance(TimeSpan.FromMilliseconds(1));
        var before = state.Snapshot();
        var (starts, queued) = Pump(scheduler, "a");
        var next = Assert.Single(queued);

        // A new activation loads the state from before the dispatches; the executor reports the hand-over to it.
        var reloaded = new JobScheduler("job", before, _time, new WorkClusterOptions { RunAhead = 2 });
        Assert.True(reloaded.HandedOver("a", LeaseOf(next), Now, s_lease));
        Assert.True(reloaded.Report(Result(starts[0]), starts[0].Lease, []));
        Assert.Equal(1, reloaded.SlotsInUse);
        Assert.Equal(0, reloaded.PendingCount);
    }

    [Fact]
    public void QueuedRunsStayQueuedAcrossALoadAndCancellingThemFinishesThemWhenReturned()
    {
        var state = new JobState();
        var scheduler = Create(maxWorkers: 1, runAhead: 3, state);
        Accept(scheduler, 4, Now + TimeSpan.FromMilliseconds(1));
        _time.Advance(TimeSpan.FromMilliseconds(1));
        var (_, queued) = Pump(scheduler, "a");
        Assert.Equal(3, queued.Count);

        var reloaded = new JobScheduler("job", state.Snapshot(), _time, new WorkClusterOptions { RunAhead = 3 });
        Assert.Equal(1, reloaded.SlotsInUse);
        Assert.Equal(4, reloaded.InFlightCount);

        // Cancelled while queued: the executor gives it back unstarted and it finishes as cancelled, not retried.
        var cancelled = new List<JobExecution>();
        var signalled = reloaded.Cancel(queued[0].Run.ExecutionId, cancelled);
        Assert.Single(signalled);
        Assert.Empty(cancelled);
        Assert.True(reloaded.Returned(LeaseOf(queued[0]), cancelled));
        var record = Assert.Single(cancelled);
        Assert.Equal(JobStatus.NoResponse, record.Status);
        Assert.Equal(queued[0].Run.ExecutionId, record.ExecutionId);
        Assert.Equal(1, reloaded.SlotsInUse);
        Assert.Equal(3, reloaded.InFlightCount);
    }

    [Fact]
    public void WhileTheRampHoldsSlotsBackRunsWaitAheadAndTheAlarmWakesForTheNextSlot()
    {
        var scheduler = new JobScheduler("job", new JobState(), _time, new WorkClusterOptions { RunAhead = 2 }, () => 0.5);
        scheduler.Define(new JobDefinition(new Job("h")) { MaxWorkers = 3, StartInterval = TimeSpan.FromSeconds(10) });
        scheduler.Start();
        Accept(scheduler, 10, Now);

        var (starts, queued) = Pump(scheduler, "a");
        Assert.Single(starts);
        Assert.Equal(2, queued.Count);
        Assert.Equal(Now.AddSeconds(10), scheduler.NextWakeUp(Now));

        _time.Advance(TimeSpan.FromSeconds(10));
        (starts, queued) = Pump(scheduler, "b");
        Assert.Single(starts);
        Assert.Equal("b", starts[0].Executor);
        Assert.Equal(2, queued.Count);
        Assert.All(queued, q => Assert.Equal("b", q.Executor));
        Assert.Equal(2, scheduler.SlotsInUse);
    }

    [Fact]
    public void RunningWorkersCountsSlotsNotQueuedRuns()
    {
        var scheduler = Create(maxWorkers: 2, runAhead: 5);
        Accept(scheduler, 7, Now);
        Pump(scheduler, "a");
        Assert.Equal(2, scheduler.Info(Now).RunningWorkers);
        Assert.Equal(7, scheduler.InFlightCount);
    }

    [Fact]
    public void RunAheadIsValidatedAtStartUp()
    {
        Assert.Empty(new WorkClusterOptions { RunAhead = 0 }.Validate());
        Assert.Empty(new WorkClusterOptions { RunAhead = WorkClusterOptions.MaxRunAhead }.Validate());
        Assert.Contains(new WorkClusterOptions { RunAhead = -1 }.Validate(), f => f.Contains("RunAhead must be between 0 and 100000; it is -1", StringComparison.Ordinal));
        Assert.Single(new WorkClusterOptions { RunAhead = WorkClusterOptions.MaxRunAhead + 1 }.Validate());
    }
}

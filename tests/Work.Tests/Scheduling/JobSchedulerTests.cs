using Microsoft.Extensions.Time.Testing;
using Work.Grains;
using Work.Scheduling;

namespace Work.Tests.Scheduling;

public sealed class JobSchedulerTests
{
    private static readonly TimeSpan s_lease = TimeSpan.FromSeconds(30);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero));

    // The lease secret the job sent an attempt with, while it is in flight.
    private static long LeaseOf(JobScheduler scheduler, PendingRun run) =>
        scheduler.State.InFlight.TryGetValue(run.ExecutionId, out var inFlight) ? inFlight.Lease : 0;

    private JobScheduler Create(JobDefinition? definition = null, JobState? state = null)
    {
        // Nothing sent ahead or handed over early here: RunAheadTests and EarlyHandOverTests cover those.
        var scheduler = new JobScheduler("job", state ?? new JobState(), _time, new WorkClusterOptions { RunAhead = 0, EarlyHandOver = TimeSpan.Zero }, random: () => 0.5);
        scheduler.Define(definition ?? new JobDefinition(new Job("h")));
        return scheduler;
    }

    private List<PendingRun> Take(JobScheduler scheduler, List<JobExecution>? finished = null, TimeSpan? lease = null)
    {
        var due = scheduler.TakeDue(_time.GetUtcNow(), finished ?? []);
        foreach (var run in due)
        {
            scheduler.Dispatched(run, "silo-a", _time.GetUtcNow(), lease ?? s_lease);
        }

        return due;
    }

    private JobExecution Result(PendingRun run, JobStatus status = JobStatus.Success) => new()
    {
        ExecutionId = run.ExecutionId,
        Handler = "h",
        Attempt = run.Attempt,
        Status = status,
        ScheduledAt = run.DueAt,
        StartedAt = _time.GetUtcNow(),
        FinishedAt = _time.GetUtcNow(),
        Worker = "silo-a",
    };

    [Fact]
    public void PerformingBeforeStartOrAfterStopIsAnError()
    {
        var scheduler = Create();
        Assert.Throws<InvalidOperationException>(() => scheduler.Accept(_time.GetUtcNow(), null, null, null));
        scheduler.Start();
        scheduler.Accept(_time.GetUtcNow(), null, null, null);
        scheduler.Stop([]);
        var error = Assert.Throws<InvalidOperationException>(() => scheduler.Accept(_time.GetUtcNow(), null, null, null));
        Assert.Contains("not started", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void StartingAnUndefinedJobIsAnError()
    {
        var scheduler = new JobScheduler("undefined", new JobState(), _time);
        var error = Assert.Throws<InvalidOperationException>(scheduler.Start);
        Assert.Contains("'undefined' is not defined", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InvalidDefinitionNamesEveryProblemAndChangesNothing()
    {
        var scheduler = Create(new JobDefinition(new Job("h")) { MaxWorkers = 2 });
        var error = Assert.Throws<ArgumentException>(() => scheduler.Define(new JobDefinition(new Job("h") { Args = JobArgs.From(new { big = new string('x', JobDefinition.MaxArgsBytes) }) })
        {
            MaxWorkers = 0,
            Every = new EverySchedule { Interval = TimeSpan.Zero },
        }));

        Assert.Contains("MaxWorkers", error.Message, StringComparison.Ordinal);
        Assert.Contains("Every.Interval", error.Message, StringComparison.Ordinal);
        Assert.Contains("1 MiB", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, scheduler.Definition.MaxWorkers);
    }

    [Fact]
    public void NeverDispatchesMoreThanMaxWorkers()
    {
        var scheduler = Create(new JobDefinition(new Job("h")) { MaxWorkers = 3 });
        scheduler.Start();
        for (var i = 0; i < 10; i++)
        {
            scheduler.Accept(_time.GetUtcNow(), null, null, null);
        }

        var first = Take(scheduler);
        Assert.Equal(3, first.Count);
        Assert.Empty(Take(scheduler));
        Assert.True(scheduler.Report(Result(first[0]), LeaseOf(scheduler, first[0]), []));
        Assert.Single(Take(scheduler));
        Assert.Equal(3, scheduler.State.InFlight.Count);
        Assert.Equal(6, scheduler.PendingCount);
    }

    [Fact]
    public void ReactivatedStateWithExecutionsInFlightDoesNotOverDispatch()
    {
        var scheduler = Create(new JobDefinition(new Job("h")) { MaxWorkers = 2 });
        scheduler.Start();
        for (var i = 0; i < 5; i++)
        {
            scheduler.Accept(_time.GetUtcNow(), null, null, null);
        }

        Assert.Equal(2, Take(scheduler).Count);

        // A new activation reads the same state.
        var reactivated = new JobScheduler("job", scheduler.State, _time);
        Assert.Empty(reactivated.TakeDue(_time.GetUtcNow(), []));
        Assert.Equal(2, reactivated.State.InFlight.Count);
    }

    [Fact]
    public void ADuplicateReportIsCountedOnce()
    {
        var scheduler = Create();
        scheduler.Start();
        scheduler.Accept(_time.GetUtcNow(), null, null, null);
        var run = Assert.Single(Take(scheduler));
        var lease = LeaseOf(scheduler, run);

        Assert.True(scheduler.Report(Result(run), lease, []));
        Assert.False(scheduler.Report(Result(run), lease, []));
        Assert.False(scheduler.Report(Result(run with { Attempt = 7 }), lease, []));

        Assert.Single(scheduler.History.Records);
        Assert.Equal(1, scheduler.State.Finished);
    }

    [Fact]
    public void RampAllowsOneMoreWorkerEveryStartInterval()
    {
        var scheduler = Create(new JobDefinition(new Job("h")) { MaxWorkers = 3, StartInterval = TimeSpan.FromSeconds(10) });
        scheduler.Start();
        for (var i = 0; i < 10; i++)
        {
            scheduler.Accept(_time.GetUtcNow(), null, null, null);
        }

        Assert.Single(Take(scheduler, lease: TimeSpan.FromDays(1)));
        Assert.Equal(_time.GetUtcNow().AddSeconds(10), scheduler.NextWakeUp(_time.GetUtcNow()));
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.Single(Take(scheduler, lease: TimeSpan.FromDays(1)));
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.Single(Take(scheduler, lease: TimeSpan.FromDays(1)));
        _time.Advance(TimeSpan.FromSeconds(100));
        Assert.Empty(Take(scheduler, lease: TimeSpan.FromDays(1)));
        Assert.Equal(3, scheduler.AllowedWorkers(_time.GetUtcNow()));
    }

    [Fact]
    public void RecurringTicksStayOnTheGrid()
    {
        var scheduler = Create(new JobDefinition(new Job("h")) { Every = new EverySchedule { Interval = TimeSpan.FromMilliseconds(250) }, MaxWorkers = 4 });
        var origin = _time.GetUtcNow();
        scheduler.Start();
        var due = new List<DateTimeOffset>();
        for (var i = 0; i < 40; i++)
        {
            foreach (var run in Take(scheduler))
            {
                due.Add(run.DueAt);
                scheduler.Report(Result(run), LeaseOf(scheduler, run), []);
            }

            // Wake a little late each time: the grid does not move.
            _time.Advance(scheduler.NextWakeUp(_time.GetUtcNow())!.Value - _time.GetUtcNow() + TimeSpan.FromMilliseconds(3));
        }

        Assert.Equal(Enumerable.Range(0, 40).Select(k => origin + TimeSpan.FromMilliseconds(250 * k)), due);
        Assert.Equal(0, scheduler.State.SkippedTicks);
    }

    [Fact]
    public void SyncRecurringSkipsTicksWhileARunIsInFlight()
    {
        var scheduler = Create(new JobDefinition(new Job("h")) { Every = new EverySchedule { Interval = TimeSpan.FromSeconds(1), Sync = true }, MaxWorkers = 4 });
        scheduler.Start();
        var first = Assert.Single(Take(scheduler));

        for (var i = 0; i < 3; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            Assert.Empty(Take(scheduler));
        }

        scheduler.Report(Result(first), LeaseOf(scheduler, first), []);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Single(Take(scheduler));
        Assert.Equal(3, scheduler.State.SkippedTicks);
    }

    [Theory]
    [InlineData(MisfirePolicy.FireOnce, 1, 9)]
    [InlineData(MisfirePolicy.Skip, 0, 10)]
    public void MissedTicksFollowTheMisfirePolicyAndNeverRepeatPerTick(MisfirePolicy policy, int runs, int skipped)
    {
        var state = new JobState();
        var scheduler = Create(new JobDefinition(new Job("h")) { Every = new EverySchedule { Interval = TimeSpan.FromMinutes(1), RunImmediately = false }, Misfire = policy }, state);
        scheduler.Start();

        // The silo was down for 10.5 intervals.
        _time.Advance(TimeSpan.FromMinutes(10.5));
        var reactivated = new JobScheduler("job", state, _time);
        var due = reactivated.TakeDue(_time.GetUtcNow(), []);

        Assert.Equal(runs, due.Count);
        Assert.Equal(skipped, state.SkippedTicks);
        Assert.Equal(_time.GetUtcNow().AddMinutes(0.5), reactivated.NextWakeUp(_time.GetUtcNow()));
    }

    [Fact]
    public void AFirstRunTimeAnchorsTheGridBeforeAndAfterStart()
    {
        var start = _time.GetUtcNow();
        var ahead = Create(new JobDefinition(new Job("h")) { Every = new EverySchedule { Interval = TimeSpan.FromMinutes(1), FirstRun = start.AddSeconds(17) } });
        ahead.Start();
        Assert.Equal(start.AddSeconds(17), ahead.NextWakeUp(start));
        Assert.Empty(ahead.TakeDue(start, []));
        _time.Advance(TimeSpan.FromSeconds(17));
        Assert.Equal(start.AddSeconds(17), Assert.Single(ahead.TakeDue(_time.GetUtcNow(), [])).DueAt);
        Assert.Equal(start.AddSeconds(77), ahead.NextWakeUp(_time.GetUtcNow()));

        // A first run that passed: the next grid point after the start, not a run at once.
        var passed = Create(new JobDefinition(new Job("h")) { Every = new EverySchedule { Interval = TimeSpan.FromMinutes(1), FirstRun = start.AddMinutes(-10).AddSeconds(5) } });
        passed.Start();
        Assert.Empty(passed.TakeDue(_time.GetUtcNow(), []));
        Assert.Equal(start.AddSeconds(65), passed.NextWakeUp(_time.GetUtcNow()));
        Assert.Equal(0, passed.State.SkippedTicks);
    }

    [Fact]
    public void AFirstRunCannotBeCombinedWithRunImmediatelyOff()
    {
        var scheduler = new JobScheduler("job", new JobState(), _time);
        var error = Assert.Throws<ArgumentException>(() => scheduler.Define(new JobDefinition(new Job("h"))
        {
            Every = new EverySchedule { Interval = TimeSpan.FromMinutes(1), FirstRun = _time.GetUtcNow(), RunImmediately = false },
        }));
        Assert.Contains("Every.FirstRun", error.Message, StringComparison.Ordinal);
        Assert.False(scheduler.IsDefined);
    }

    [Fact]
    public void AFirstRunBeyondTheHorizonIsRefused()
    {
        var scheduler = new JobScheduler("job", new JobState(), _time);
        var error = Assert.Throws<ArgumentException>(() => scheduler.Define(new JobDefinition(new Job("h"))
        {
            Every = new EverySchedule { Interval = TimeSpan.FromMinutes(1), FirstRun = _time.GetUtcNow().AddYears(200) },
        }));
        Assert.Contains("Every.FirstRun: The time must be within", error.Message, StringComparison.Ordinal);
        Assert.False(scheduler.IsDefined);
    }

    [Fact]
    public void OneShotDueWhileDownFiresOnceLate()
    {
        var state = new JobState();
        var scheduler = Create(state: state);
        scheduler.Start();
        var run = scheduler.Accept(_time.GetUtcNow().AddMinutes(1), null, null, null);

        _time.Advance(TimeSpan.FromMinutes(30));
        var due = new JobScheduler("job", state, _time).TakeDue(_time.GetUtcNow(), []);

        Assert.Equal(run.ExecutionId, Assert.Single(due).ExecutionId);
    }

    [Fact]
    public void RetriesFollowThePolicyWithBackoff()
    {
        var scheduler = Create(new JobDefinition(new Job("h"))
        {
            Retry = new RetryPolicy { MaxAttempts = 3, InitialDelay = TimeSpan.FromSeconds(2), Multiplier = 3, Jitter = 0 },
        });
        scheduler.Start();
        scheduler.Accept(_time.GetUtcNow(), null, null, null);
        var finished = new List<JobExecution>();

        var first = Assert.Single(Take(scheduler));
        scheduler.Report(Result(first, JobStatus.InternalError), LeaseOf(scheduler, first), finished);
        Assert.Empty(finished);
        Assert.Equal(_time.GetUtcNow().AddSeconds(2), scheduler.NextWakeUp(_time.GetUtcNow()));

        _time.Advance(TimeSpan.FromSeconds(2));
        var second = Assert.Single(Take(scheduler));
        Assert.Equal((first.ExecutionId, 2), (second.ExecutionId, second.Attempt));
        scheduler.Report(Result(second, JobStatus.Timeout), LeaseOf(scheduler, second), finished);
        Assert.Equal(_time.GetUtcNow().AddSeconds(6), scheduler.NextWakeUp(_time.GetUtcNow()));

        _time.Advance(TimeSpan.FromSeconds(6));
        var third = Assert.Single(Take(scheduler));
        scheduler.Report(Result(third, JobStatus.Unavailable), LeaseOf(scheduler, third), finished);

        var final = Assert.Single(finished);
        Assert.Equal(3, final.Attempt);
        Assert.Equal(3, scheduler.History.Count);
        Assert.Empty(scheduler.State.Pending);
    }

    [Fact]
    public void RetryDelayGrowsWithJitterAndIsCapped()
    {
        var policy = new RetryPolicy { MaxAttempts = 10, InitialDelay = TimeSpan.FromSeconds(1), Multiplier = 2, MaxDelay = TimeSpan.FromSeconds(5), Jitter = 0.5 };

        Assert.Equal(TimeSpan.FromSeconds(1), policy.DelayBefore(2, 0.5));
        Assert.Equal(TimeSpan.FromSeconds(2), policy.DelayBefore(3, 0.5));
        Assert.Equal(TimeSpan.FromSeconds(0.5), policy.DelayBefore(2, 0));
        Assert.Equal(TimeSpan.FromSeconds(5), policy.DelayBefore(9, 0.99));
        Assert.False(policy.ShouldRetry(JobStatus.BadRequest, 1));
        Assert.True(policy.ShouldRetry(JobStatus.InternalError, 9));
        Assert.False(policy.ShouldRetry(JobStatus.InternalError, 10));
    }

    [Fact]
    public void ExpiredLeaseIsRecordedAsLostAndRunAgain()
    {
        var scheduler = Create();
        scheduler.Start();
        var run = scheduler.Accept(_time.GetUtcNow(), null, null, null);
        Take(scheduler);

        _time.Advance(s_lease);
        var finished = new List<JobExecution>();
        Assert.Empty(Take(scheduler, finished));

        // The next attempt waits until a write holds the loss: a write taken before the loss frees nothing.
        Assert.Empty(finished);
        Assert.Equal(1, scheduler.UnwrittenReruns);
        Assert.Null(scheduler.NextWakeUp(_time.GetUtcNow()));
        var changes = scheduler.TakeChanges();
        scheduler.NotWritten(changes);
        Assert.Empty(Take(scheduler));
        Assert.True(scheduler.Written(scheduler.TakeChanges()));
        Assert.Equal(0, scheduler.UnwrittenReruns);
        Assert.Equal(_time.GetUtcNow(), scheduler.NextWakeUp(_time.GetUtcNow()));
        var again = Assert.Single(Take(scheduler));
        Assert.Equal((run.ExecutionId, 2), (again.ExecutionId, again.Attempt));
        var lost = Assert.Single(scheduler.History.Records);
        Assert.Equal(JobStatus.Unavailable, lost.Status);
        Assert.Equal(JobScheduler.LeaseExpired, lost.ErrorType);
        Assert.Equal(1, scheduler.State.Lost);
    }

    [Fact]
    public void RenewedLeaseDoesNotExpire()
    {
        var scheduler = Create();
        scheduler.Start();
        scheduler.Accept(_time.GetUtcNow(), null, null, null);
        var run = Assert.Single(Take(scheduler));

        for (var i = 0; i < 10; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(20));
            scheduler.Renew(run.ExecutionId, run.Attempt, LeaseOf(scheduler, run), "silo-a", _time.GetUtcNow(), s_lease);
            Assert.Empty(Take(scheduler));
        }

        Assert.Equal(0, scheduler.State.Lost);
        Assert.True(scheduler.Report(Result(run), LeaseOf(scheduler, run), []));
    }

    [Fact]
    public void ExpiredLeasesAreListedBeforeTheyCountAsLostAndALapsedOneCountsAtOnce()
    {
        var scheduler = Create(new JobDefinition(new Job("h")) { MaxWorkers = 2 });
        scheduler.Start();
        scheduler.Accept(_time.GetUtcNow(), null, null, null);
        var first = Assert.Single(Take(scheduler));
        _time.Advance(TimeSpan.FromSeconds(1));
        scheduler.Accept(_time.GetUtcNow(), null, null, null);
        var second = Assert.Single(Take(scheduler));

        Assert.Empty(scheduler.ExpiredLeases(_time.GetUtcNow()));
        _time.Advance(s_lease - TimeSpan.FromSeconds(1));
        var expired = Assert.Single(scheduler.ExpiredLeases(_time.GetUtcNow()));
        Assert.Equal(first.ExecutionId, expired.Run.ExecutionId);

        // Listing changes nothing; a lapse under a wrong lease or attempt neither.
        var finished = new List<JobExecution>();
        Assert.Equal(2, scheduler.InFlightCount);
        Assert.False(scheduler.LeaseLapsed(second.ExecutionId, second.Attempt, LeaseOf(scheduler, second) ^ 1, _time.GetUtcNow(), finished));
        Assert.False(scheduler.LeaseLapsed(second.ExecutionId, second.Attempt + 1, LeaseOf(scheduler, second), _time.GetUtcNow(), finished));
        Assert.Equal(2, scheduler.InFlightCount);
        Assert.Equal(0, scheduler.State.Lost);

        // A lapse counts the attempt lost at once, and it waits to run again; the expired one is lost at the next take.
        Assert.True(scheduler.LeaseLapsed(second.ExecutionId, second.Attempt, LeaseOf(scheduler, second), _time.GetUtcNow(), finished));
        Assert.Empty(finished);
        Assert.Equal(1, scheduler.State.Lost);
        Assert.Equal(1, scheduler.InFlightCount);
        var lost = Assert.Single(scheduler.History.Records);
        Assert.Equal((second.ExecutionId, JobScheduler.LeaseExpired), (lost.ExecutionId, lost.ErrorType));
        Assert.Empty(Take(scheduler));
        Assert.Equal(2, scheduler.State.Lost);
        Assert.True(scheduler.Written(scheduler.TakeChanges()));
        var again = Take(scheduler);
        Assert.Equal([(first.ExecutionId, 2), (second.ExecutionId, 2)], again.Select(r => (r.ExecutionId, r.Attempt)).OrderBy(r => r.ExecutionId == first.ExecutionId ? 0 : 1));
    }

    [Fact]
    public void CancelOnePendingAndAllInFlight()
    {
        var scheduler = Create(new JobDefinition(new Job("h")) { MaxWorkers = 1, Retry = new RetryPolicy { MaxAttempts = 3 } });
        scheduler.Start();
        var a = scheduler.Accept(_time.GetUtcNow(), null, null, null);
        var b = scheduler.Accept(_time.GetUtcNow(), null, null, null);
        var c = scheduler.Accept(_time.GetUtcNow(), null, null, null);
        Take(scheduler);
        var finished = new List<JobExecution>();

        Assert.Empty(scheduler.Cancel(b.ExecutionId, finished));
        Assert.Equal(b.ExecutionId, Assert.Single(finished).ExecutionId);
        Assert.Equal(JobScheduler.CancelledBeforeRun, finished[0].ErrorType);

        finished.Clear();
        var signalled = scheduler.Cancel(null, finished);
        Assert.Equal(a.ExecutionId, Assert.Single(signalled).Run.ExecutionId);
        Assert.Equal(c.ExecutionId, Assert.Single(finished).ExecutionId);

        // The cancelled attempt reports 503 and is not retried.
        finished.Clear();
        scheduler.Report(Result(a, JobStatus.Unavailable), LeaseOf(scheduler, a), finished);
        Assert.Equal(a.ExecutionId, Assert.Single(finished).ExecutionId);
        Assert.Empty(scheduler.State.Pending);
    }

    [Fact]
    public void HistoryKeepsTheLimit()
    {
        var scheduler = Create(new JobDefinition(new Job("h")) { HistoryLimit = 5, MaxWorkers = 100 });
        scheduler.Start();
        for (var i = 0; i < 12; i++)
        {
            scheduler.Accept(_time.GetUtcNow(), null, null, null);
        }

        foreach (var run in Take(scheduler))
        {
            scheduler.Report(Result(run), LeaseOf(scheduler, run), []);
        }

        Assert.Equal(5, scheduler.History.Count);
        Assert.Equal(12, scheduler.State.Finished);
    }

    [Fact]
    public void AReportUnderAnotherLeaseIsRefusedAndChangesNothing()
    {
        var scheduler = Create();
        scheduler.Start();
        scheduler.Accept(_time.GetUtcNow(), null, null, null);
        var run = Assert.Single(Take(scheduler));

        Assert.False(scheduler.Report(Result(run), LeaseOf(scheduler, run) + 1, []));
        Assert.False(scheduler.Renew(run.ExecutionId, run.Attempt, LeaseOf(scheduler, run) + 1, "forger", _time.GetUtcNow(), s_lease));
        Assert.Equal(1, scheduler.InFlightCount);
        Assert.Equal(0, scheduler.History.Count);
        Assert.True(scheduler.Report(Result(run), LeaseOf(scheduler, run), []));
    }

    [Fact]
    public void AtThePendingLimitPerformsAreRefusedAndNothingIsDropped()
    {
        var scheduler = new JobScheduler("job", new JobState(), _time, new Work.Grains.WorkClusterOptions { MaxPendingPerJob = 3 });
        scheduler.Define(new JobDefinition(new Job("h")));
        scheduler.Start();
        var ids = Enumerable.Range(0, 3).Select(_ => scheduler.Accept(_time.GetUtcNow() + TimeSpan.FromMinutes(1), null, null, null).ExecutionId).ToList();

        var error = Assert.Throws<InvalidOperationException>(() => scheduler.Accept(_time.GetUtcNow(), null, null, null));
        var batch = Assert.Throws<InvalidOperationException>(() => scheduler.EnsureCanAccept(2));

        Assert.Contains("takes at most 3 (Work:Cluster:MaxPendingPerJob)", error.Message, StringComparison.Ordinal);
        Assert.Contains("2 more were not accepted", batch.Message, StringComparison.Ordinal);
        Assert.Equal(3, scheduler.PendingCount);
        Assert.All(ids, id => Assert.True(scheduler.IsActive(id)));
    }

    [Fact]
    public void AHandOverThatFailedPutsTheRunBackUnlessItWasCancelledOrMovedOn()
    {
        var scheduler = Create(new JobDefinition(new Job("h")) { MaxWorkers = 3 });
        scheduler.Start();
        for (var i = 0; i < 3; i++)
        {
            scheduler.Accept(_time.GetUtcNow(), null, null, null);
        }

        var runs = Take(scheduler);
        var finished = new List<JobExecution>();
        scheduler.Cancel(runs[1].ExecutionId, finished);
        Assert.Empty(finished);

        scheduler.Undispatched(runs[0], finished);
        scheduler.Undispatched(runs[1], finished);
        scheduler.Undispatched(runs[2] with { Attempt = 2 }, finished);

        Assert.True(scheduler.IsActive(runs[0].ExecutionId));
        Assert.False(scheduler.State.InFlight.ContainsKey(runs[0].ExecutionId));
        Assert.Equal(JobScheduler.CancelledBeforeRun, Assert.Single(finished).ErrorType);
        Assert.Equal(runs[1].ExecutionId, finished[0].ExecutionId);
        Assert.True(scheduler.State.InFlight.ContainsKey(runs[2].ExecutionId));
    }

    [Fact]
    public void DeleteForgetsEverythingAndCancelsWhatWaits()
    {
        var scheduler = Create(new JobDefinition(new Job("h")) { MaxWorkers = 1, Every = new EverySchedule { Interval = TimeSpan.FromSeconds(1) } });
        scheduler.Start();
        var waiting = scheduler.Accept(_time.GetUtcNow() + TimeSpan.FromHours(1), null, null, null);
        Take(scheduler);
        var cancelled = new List<JobExecution>();

        var running = scheduler.Delete(cancelled);

        Assert.Single(running);
        Assert.Equal(waiting.ExecutionId, Assert.Single(cancelled).ExecutionId);
        Assert.False(scheduler.IsDefined);
        Assert.False(scheduler.NeedsWaking);
        Assert.Equal(0, scheduler.History.Count);
        Assert.Null(scheduler.NextWakeUp(_time.GetUtcNow()));
        Assert.Throws<InvalidOperationException>(scheduler.Start);
    }

    [Fact]
    public void AStoredDefinitionTodaysLimitsRefuseIsAProblemUntilDefinedAgain()
    {
        var every = new EverySchedule { Interval = TimeSpan.FromTicks(1) };
        var state = new JobState
        {
            Definition = new JobDefinition(new Job("h")) { Every = every },
            Started = true,
            Recurring = new RecurringRun { Schedule = every, Origin = _time.GetUtcNow() },
        };
        var scheduler = new JobScheduler("job", state, _time);

        Assert.Contains("MinInterval", scheduler.Problem, StringComparison.Ordinal);
        Assert.Empty(scheduler.TakeDue(_time.GetUtcNow() + TimeSpan.FromSeconds(1), []));
        Assert.Null(scheduler.NextWakeUp(_time.GetUtcNow()));
        Assert.Throws<InvalidOperationException>(() => scheduler.EnsureCanAccept(1));

        scheduler.Define(new JobDefinition(new Job("h")));
        Assert.Null(scheduler.Problem);
        scheduler.EnsureCanAccept(1);
    }

    [Fact]
    public void AnAttemptSentWhoseHandOverSeemedToFailIsFinishedByItsReportNotSentAgain()
    {
        var scheduler = Create();
        scheduler.Start();
        scheduler.Accept(_time.GetUtcNow(), null, null, null);
        var run = Assert.Single(Take(scheduler));
        var lease = LeaseOf(scheduler, run);

        // The hand-over call failed on the job's side, but the executor got the order and ran it.
        scheduler.Undispatched(run, []);
        Assert.False(scheduler.Report(Result(run), lease + 1, []));
        Assert.True(scheduler.Report(Result(run), lease, []));

        Assert.False(scheduler.IsActive(run.ExecutionId));
        Assert.Single(scheduler.History.Records);
        Assert.Empty(scheduler.TakeDue(_time.GetUtcNow(), []));
    }

    [Fact]
    public void ARenewalOfAnAttemptHeldAsWaitingTakesItBackInFlight()
    {
        // What a new activation loads when the dispatch was not written before the job's silo died.
        var state = new JobState();
        var first = Create(state: state);
        first.Start();
        first.Accept(_time.GetUtcNow(), null, null, null);
        var run = Assert.Single(Take(first));
        var lease = LeaseOf(first, run);
        state.InFlight.Clear();
        state.Pending.Add(run);
        var reloaded = new JobScheduler("job", state, _time);

        Assert.False(reloaded.Renew(run.ExecutionId, run.Attempt, lease ^ 1, "silo-a", _time.GetUtcNow(), s_lease));
        Assert.True(reloaded.Renew(run.ExecutionId, run.Attempt, lease, "silo-a", _time.GetUtcNow(), s_lease));

        Assert.Equal("silo-a", reloaded.State.InFlight[run.ExecutionId].Executor);
        Assert.Empty(reloaded.TakeDue(_time.GetUtcNow(), []));
        Assert.True(reloaded.Report(Result(run), lease, []));
    }
}

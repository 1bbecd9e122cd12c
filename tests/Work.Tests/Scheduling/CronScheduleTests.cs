using Microsoft.Extensions.Time.Testing;
using Work.Grains;
using Work.Scheduling;

namespace Work.Tests.Scheduling;

/// <summary>
/// Cron schedules on a fake clock: the times in a time zone, across daylight-saving changes (Europe/Berlin, 2026:
/// clocks go from 02:00 to 03:00 on 29 March and from 03:00 back to 02:00 on 25 October), the misfire policy, the
/// next due times, and the expressions and zones refused.
/// </summary>
public sealed class CronScheduleTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 27, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public void WeekdayMorningsInBerlinStartOnTheNextWeekday()
    {
        // Friday 27 March 2026, 10:00 in Berlin (CET, UTC+1).
        _time.SetUtcNow(new DateTimeOffset(2026, 3, 27, 9, 0, 0, TimeSpan.Zero));
        var scheduler = Create(EverySchedule.CronAt("0 0 9 * * MON-FRI", "Europe/Berlin"));

        // Monday 30 March 09:00 in Berlin is CEST (UTC+2) after the change: 07:00 UTC.
        var next = new DateTimeOffset(2026, 3, 30, 7, 0, 0, TimeSpan.Zero);
        Assert.Equal(next, scheduler.NextWakeUp(_time.GetUtcNow()));
        var info = scheduler.Info(_time.GetUtcNow());
        Assert.Equal(Enumerable.Range(0, 5).Select(d => next.AddDays(d)), info.NextDueTimes);

        _time.SetUtcNow(next);
        var run = Assert.Single(Take(scheduler));
        Assert.Equal(next, run.DueAt);
        Assert.True(scheduler.Report(Result(run), scheduler.State.InFlight[run.ExecutionId].Lease, []));
        Assert.Equal(next.AddDays(1), scheduler.NextWakeUp(_time.GetUtcNow()));
    }

    [Fact]
    public void ATimeInTheSkippedHourRunsOnceWhenTheClocksJump()
    {
        _time.SetUtcNow(new DateTimeOffset(2026, 3, 28, 0, 0, 0, TimeSpan.Zero));
        var due = RunDays(EverySchedule.CronAt("0 30 2 * * *", "Europe/Berlin"), days: 3);

        Assert.Equal(
        [
            new DateTimeOffset(2026, 3, 28, 1, 30, 0, TimeSpan.Zero), // 02:30 CET
            new DateTimeOffset(2026, 3, 29, 1, 0, 0, TimeSpan.Zero), // 02:30 does not exist: at 03:00 CEST, when the clocks jump
            new DateTimeOffset(2026, 3, 30, 0, 30, 0, TimeSpan.Zero), // 02:30 CEST
        ], due);
    }

    [Fact]
    public void ATimeInTheRepeatedHourRunsOnceInItsFirstPass()
    {
        _time.SetUtcNow(new DateTimeOffset(2026, 10, 24, 0, 0, 0, TimeSpan.Zero));
        var due = RunDays(EverySchedule.CronAt("0 30 2 * * *", "Europe/Berlin"), days: 3);

        Assert.Equal(
        [
            new DateTimeOffset(2026, 10, 24, 0, 30, 0, TimeSpan.Zero), // 02:30 CEST
            new DateTimeOffset(2026, 10, 25, 0, 30, 0, TimeSpan.Zero), // the first 02:30 (CEST); not again at 02:30 CET
            new DateTimeOffset(2026, 10, 26, 1, 30, 0, TimeSpan.Zero), // 02:30 CET
        ], due);
    }

    [Fact]
    public void AnExpressionThatStepsThroughTheRepeatedHourRunsInBothPasses()
    {
        _time.SetUtcNow(new DateTimeOffset(2026, 10, 24, 22, 0, 0, TimeSpan.Zero));
        var due = RunDays(EverySchedule.CronAt("0 */30 2 * * *", "Europe/Berlin"), days: 1);

        Assert.Equal(
        [
            new DateTimeOffset(2026, 10, 25, 0, 0, 0, TimeSpan.Zero),
            new DateTimeOffset(2026, 10, 25, 0, 30, 0, TimeSpan.Zero),
            new DateTimeOffset(2026, 10, 25, 1, 0, 0, TimeSpan.Zero),
            new DateTimeOffset(2026, 10, 25, 1, 30, 0, TimeSpan.Zero),
        ], due);
    }

    [Theory]
    [InlineData(MisfirePolicy.FireOnce, 1, 9)]
    [InlineData(MisfirePolicy.Skip, 0, 10)]
    public void MissedTimesFollowTheMisfirePolicy(MisfirePolicy policy, int runs, int skipped)
    {
        var state = new JobState();
        var scheduler = Create(EverySchedule.CronAt("* * * * *"), state, policy);

        // The silo was down for 10.5 minutes: ten whole minutes went by.
        _time.Advance(TimeSpan.FromMinutes(10.5));
        var reactivated = new JobScheduler("job", state, _time);
        var due = reactivated.TakeDue(_time.GetUtcNow(), []);

        Assert.Equal(runs, due.Count);
        Assert.All(due, run => Assert.Equal(_time.GetUtcNow().AddMinutes(-0.5), run.DueAt));
        Assert.Equal(skipped, state.SkippedTicks);
        Assert.Equal(_time.GetUtcNow().AddMinutes(0.5), reactivated.NextWakeUp(_time.GetUtcNow()));
    }

    [Fact]
    public void AScheduleFarBehindFindsItsLatestTimeWithoutWalkingEveryOne()
    {
        var state = new JobState();
        var scheduler = Create(EverySchedule.CronAt("* * * * * *"), state);

        // 30 days of per-second times went by.
        _time.Advance(TimeSpan.FromDays(30));
        var due = Assert.Single(new JobScheduler("job", state, _time).TakeDue(_time.GetUtcNow(), []));

        Assert.Equal(_time.GetUtcNow(), due.DueAt);
        Assert.True(state.SkippedTicks >= 99_999, $"skipped {state.SkippedTicks}");
    }

    [Theory]
    [InlineData("0 9 * *", null, "must have 5 fields")]
    [InlineData("0 0 0 9 * * * MON", null, "must have 5 fields")]
    [InlineData("0 61 * * *", null, "is not a valid cron expression")]
    [InlineData("0 9 * * MON", "Mars/Olympus", "the time zone 'Mars/Olympus' is not known here")]
    [InlineData("0 0 30 2 *", null, "names no time from now on")]
    public void BadExpressionsAndZonesAreRefusedNamingThem(string cron, string? zone, string problem)
    {
        var scheduler = Create(null);
        var before = scheduler.Definition;

        var error = Assert.ThrowsAny<ArgumentException>(() => scheduler.SetEvery(EverySchedule.CronAt(cron, zone)));

        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
        Assert.Equal(before, scheduler.Definition);
    }

    [Fact]
    public void ACronCannotBeCombinedWithAnIntervalOrAFirstRun()
    {
        var failures = new JobDefinition(new Job("h")) { Every = new EverySchedule { Cron = "0 9 * * *", Interval = TimeSpan.FromMinutes(1) } }.Validate();
        Assert.Contains(failures, f => f.Contains("Every.Cron gives the times itself", StringComparison.Ordinal));
        var zoneAlone = new JobDefinition(new Job("h")) { Every = new EverySchedule { Interval = TimeSpan.FromMinutes(1), TimeZone = "UTC" } }.Validate();
        Assert.Contains(zoneAlone, f => f.Contains("Every.TimeZone is for Every.Cron", StringComparison.Ordinal));
    }

    // Runs the schedule for whole days from now, reporting each run at once; the due times of the runs.
    private List<DateTimeOffset> RunDays(EverySchedule every, int days)
    {
        var scheduler = Create(every);
        var end = _time.GetUtcNow().AddDays(days);
        var due = new List<DateTimeOffset>();
        while (scheduler.NextWakeUp(_time.GetUtcNow()) is { } next && next < end)
        {
            _time.SetUtcNow(next);
            foreach (var run in Take(scheduler))
            {
                due.Add(run.DueAt);
                Assert.True(scheduler.Report(Result(run), scheduler.State.InFlight[run.ExecutionId].Lease, []));
            }
        }

        return due;
    }

    private JobScheduler Create(EverySchedule? every, JobState? state = null, MisfirePolicy misfire = MisfirePolicy.FireOnce)
    {
        var scheduler = new JobScheduler("job", state ?? new JobState(), _time, new WorkClusterOptions { RunAhead = 0, EarlyHandOver = TimeSpan.Zero }, random: () => 0.5);
        scheduler.Define(new JobDefinition(new Job("h")) { Every = every, Misfire = misfire, MaxWorkers = 4 });
        scheduler.Start();
        return scheduler;
    }

    private List<PendingRun> Take(JobScheduler scheduler)
    {
        var due = scheduler.TakeDue(_time.GetUtcNow(), []);
        foreach (var run in due)
        {
            scheduler.Dispatched(run, "silo-a", _time.GetUtcNow(), TimeSpan.FromMinutes(5));
        }

        return due;
    }

    private JobExecution Result(PendingRun run) => new()
    {
        ExecutionId = run.ExecutionId,
        Handler = "h",
        Attempt = run.Attempt,
        Status = JobStatus.Success,
        ScheduledAt = run.DueAt,
        StartedAt = _time.GetUtcNow(),
        FinishedAt = _time.GetUtcNow(),
        Worker = "silo-a",
    };
}

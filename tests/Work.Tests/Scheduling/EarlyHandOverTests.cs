using Microsoft.Extensions.Time.Testing;
using Work.Grains;
using Work.Scheduling;

namespace Work.Tests.Scheduling;

/// <summary>Timed runs handed to executors a little before their due time (WorkClusterOptions.EarlyHandOver).</summary>
public sealed class EarlyHandOverTests
{
    private static readonly TimeSpan s_early = TimeSpan.FromMilliseconds(10);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero));

    private DateTimeOffset Now => _time.GetUtcNow();

    private JobScheduler Create(TimeSpan early, int maxWorkers = 4)
    {
        var scheduler = new JobScheduler("job", new JobState(), _time, new WorkClusterOptions { EarlyHandOver = early, RunAhead = 0 }, () => 0.5);
        scheduler.Define(new JobDefinition(new Job("h")) { MaxWorkers = maxWorkers });
        scheduler.Start();
        return scheduler;
    }

    [Fact]
    public void ATimedRunIsTakenEarlyHandOverBeforeItsDueTimeAndNotSooner()
    {
        var scheduler = Create(s_early);
        var due = Now + TimeSpan.FromSeconds(1);
        scheduler.Accept(due, null, null, null);

        // The alarm wakes half of it before the due time; a pump may take it from the full early hand-over on.
        Assert.Equal(due - (s_early / 2), scheduler.NextWakeUp(Now));
        _time.Advance(TimeSpan.FromSeconds(1) - s_early - TimeSpan.FromTicks(1));
        Assert.Empty(scheduler.TakeDue(Now, []));

        _time.Advance(TimeSpan.FromTicks(1));
        var run = Assert.Single(scheduler.TakeDue(Now, []));
        Assert.Equal(due, run.DueAt);
    }

    [Fact]
    public void WithZeroATimedRunIsTakenOnlyOnceDue()
    {
        var scheduler = Create(TimeSpan.Zero);
        var due = Now + TimeSpan.FromSeconds(1);
        scheduler.Accept(due, null, null, null);

        Assert.Equal(due, scheduler.NextWakeUp(Now));
        _time.Advance(TimeSpan.FromSeconds(1) - TimeSpan.FromTicks(1));
        Assert.Empty(scheduler.TakeDue(Now, []));
        _time.Advance(TimeSpan.FromTicks(1));
        Assert.Single(scheduler.TakeDue(Now, []));
    }

    [Fact]
    public void RunsHandedOverEarlyHoldTheirSlotsAndKeepDueOrder()
    {
        var scheduler = Create(s_early, maxWorkers: 2);
        scheduler.Accept(Now + TimeSpan.FromMilliseconds(8), null, null, null);
        scheduler.Accept(Now + TimeSpan.FromMilliseconds(3), null, null, null);
        scheduler.Accept(Now + TimeSpan.FromMilliseconds(5), null, null, null);

        var due = scheduler.TakeDue(Now, []);
        foreach (var run in due)
        {
            scheduler.Dispatched(run, "a", Now, TimeSpan.FromSeconds(30));
        }

        Assert.Equal([Now + TimeSpan.FromMilliseconds(3), Now + TimeSpan.FromMilliseconds(5)], due.Select(r => r.DueAt));
        Assert.Equal(2, scheduler.SlotsInUse);
        Assert.Equal(1, scheduler.PendingCount);
    }

    [Fact]
    public void EarlyHandOverIsValidatedAtStartUp()
    {
        Assert.Empty(new WorkClusterOptions { EarlyHandOver = TimeSpan.Zero }.Validate());
        Assert.Empty(new WorkClusterOptions { EarlyHandOver = TimeSpan.FromSeconds(1) }.Validate());
        Assert.Contains(
            new WorkClusterOptions { EarlyHandOver = TimeSpan.FromMilliseconds(-1) }.Validate(),
            f => f.Contains("EarlyHandOver must be between zero and one second", StringComparison.Ordinal));
        Assert.Single(new WorkClusterOptions { EarlyHandOver = TimeSpan.FromSeconds(2) }.Validate());
    }
}

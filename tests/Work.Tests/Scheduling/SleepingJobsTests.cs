using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Work.Scheduling;

namespace Work.Tests.Scheduling;

public sealed class SleepingJobsTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly List<(string Job, DateTimeOffset At)> _woken = [];

    private SleepingJobs Create() => new(_time, job =>
    {
        _woken.Add((job, _time.GetUtcNow()));
        return Task.CompletedTask;
    }, NullLogger.Instance);

    [Fact]
    public void EachJobIsWokenOnceTheLeadBeforeItsLatestDueTime()
    {
        using var sleepers = Create();
        var start = _time.GetUtcNow();
        sleepers.Add("a", start.AddSeconds(30));
        sleepers.Add("b", start.AddSeconds(10));
        sleepers.Add("a", start.AddSeconds(20));
        Assert.Equal(2, sleepers.Count);

        var lead = SleepingJobs.WakeLead;
        _time.Advance(TimeSpan.FromSeconds(10) - lead - TimeSpan.FromMilliseconds(1));
        Assert.Empty(_woken);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal([("b", start.AddSeconds(10) - lead)], _woken);

        // "a" was replaced: woken for its later entry only, the lead before 20 s.
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal([("b", start.AddSeconds(10) - lead), ("a", start.AddSeconds(20) - lead)], _woken);
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(2, _woken.Count);
        Assert.Equal(0, sleepers.Count);
        Assert.Null(sleepers.WakeUpOf("a"));
    }

    [Fact]
    public void AFailedWakeUpIsTriedAgainUntilItSucceedsAndOthersGoOn()
    {
        var woken = new List<(string Job, DateTimeOffset At)>();
        var failures = 2;
        using var sleepers = new SleepingJobs(_time, job =>
        {
            woken.Add((job, _time.GetUtcNow()));
            return job == "bad" && failures-- > 0 ? Task.FromException(new InvalidOperationException("gone")) : Task.CompletedTask;
        }, NullLogger.Instance);
        var first = _time.GetUtcNow().AddSeconds(5) - SleepingJobs.WakeLead;
        sleepers.Add("bad", _time.GetUtcNow().AddSeconds(5));
        sleepers.Add("good", _time.GetUtcNow().AddSeconds(5));
        _time.Advance(first - _time.GetUtcNow());
        Assert.Equal(["bad", "good"], woken.Select(w => w.Job).Order(StringComparer.Ordinal));
        Assert.Equal(first + SleepingJobs.RetryDelay, sleepers.WakeUpOf("bad"));
        Assert.Null(sleepers.WakeUpOf("good"));

        _time.Advance(SleepingJobs.RetryDelay);
        _time.Advance(SleepingJobs.RetryDelay);
        Assert.Equal(
            [("bad", first), ("bad", first + SleepingJobs.RetryDelay), ("bad", first + (2 * SleepingJobs.RetryDelay))],
            woken.Where(w => w.Job == "bad"));
        Assert.Equal(0, sleepers.Count);
        _time.Advance(SleepingJobs.RetryDelay);
        Assert.Equal(4, woken.Count);
    }

    [Fact]
    public void AWakeUpSoonDoesNotPutOffAnEarlierOneAndIsReplacedByALaterDueTime()
    {
        using var sleepers = Create();
        var start = _time.GetUtcNow();
        sleepers.Add("a", start.AddSeconds(3));
        sleepers.WakeIn("a", TimeSpan.FromSeconds(10));
        Assert.Equal(start.AddSeconds(3) - SleepingJobs.WakeLead, sleepers.WakeUpOf("a"));
        sleepers.WakeIn("b", TimeSpan.FromSeconds(1));
        Assert.Equal(start.AddSeconds(1), sleepers.WakeUpOf("b"));

        // A job that slept again with a due time sleeps until then.
        sleepers.Add("b", start.AddSeconds(30));
        _time.Advance(TimeSpan.FromSeconds(3) - SleepingJobs.WakeLead);
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal([("a", start.AddSeconds(3) - SleepingJobs.WakeLead)], _woken);
        Assert.Equal(start.AddSeconds(30) - SleepingJobs.WakeLead, sleepers.WakeUpOf("b"));
    }
}

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
    public void AFailedWakeUpIsLoggedAndOthersGoOn()
    {
        var woken = new List<string>();
        using var sleepers = new SleepingJobs(_time, job =>
        {
            woken.Add(job);
            return job == "bad" ? Task.FromException(new InvalidOperationException("gone")) : Task.CompletedTask;
        }, NullLogger.Instance);
        sleepers.Add("bad", _time.GetUtcNow().AddSeconds(5));
        sleepers.Add("good", _time.GetUtcNow().AddSeconds(5));
        _time.Advance(TimeSpan.FromSeconds(5) - SleepingJobs.WakeLead);
        Assert.Equal(["bad", "good"], woken.Order(StringComparer.Ordinal));
        Assert.Equal(0, sleepers.Count);
    }
}

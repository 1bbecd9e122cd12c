using Microsoft.Extensions.Time.Testing;
using Work.Scheduling;
using Work.Tests.Simulation;

namespace Work.Tests.Scheduling;

public sealed class WakeUpAlarmTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly DeterministicTaskScheduler _turns = new();
    private readonly List<DateTimeOffset> _wakes = [];
    private readonly FakeJobTimers _timers;
    private readonly WakeUpAlarm _alarm;
    private DateTimeOffset? _due;

    public WakeUpAlarmTests()
    {
        _timers = new FakeJobTimers(_time, _turns);

        // As a job does: it wakes, finds its due time has not come yet, and arms again for it.
        _alarm = new WakeUpAlarm(_timers, new PreciseWakeUps(_time), _time, () =>
        {
            _wakes.Add(_time.GetUtcNow());
            if (_due is { } due && _time.GetUtcNow() < due)
            {
                _alarm!.Arm(due, keepAlive: true);
            }

            return Task.CompletedTask;
        });
    }

    private void Arm(DateTimeOffset? due)
    {
        _due = due;
        _turns.Start(() =>
        {
            _alarm.Arm(due, keepAlive: true);
            return Task.CompletedTask;
        });
        _turns.RunUntilIdle(_ => 0);
    }

    // Advances the clock in steps of a millisecond, running what wakes.
    private void Pass(TimeSpan span)
    {
        for (var passed = TimeSpan.Zero; passed < span; passed += TimeSpan.FromMilliseconds(1))
        {
            _time.Advance(TimeSpan.FromMilliseconds(1));
            _turns.RunUntilIdle(_ => 0);
        }
    }

    [Fact]
    public void WakesAtTheDueTimeAndNeverBefore()
    {
        var due = _time.GetUtcNow() + TimeSpan.FromSeconds(1);
        Arm(due);

        Pass(TimeSpan.FromMilliseconds(999));
        Assert.DoesNotContain(_wakes, w => w >= due);
        Pass(TimeSpan.FromMilliseconds(1));

        Assert.Equal(due, _wakes[^1]);

        // The timer covered the long wait and handed the last stretch over: it fired once, early.
        Assert.Equal(1, _timers.Made.Single().Timer.Fired);
        Pass(TimeSpan.FromSeconds(5));
        Assert.Equal(due, _wakes[^1]);
    }

    [Fact]
    public void ADueTimeBeyondWhatATimerTakesIsReachedInSteps()
    {
        var due = _time.GetUtcNow() + TimeSpan.FromDays(60);
        Arm(due);

        for (var day = 0; day < 59; day++)
        {
            _time.Advance(TimeSpan.FromDays(1));
            _turns.RunUntilIdle(_ => 0);
        }

        Assert.Equal(59, _wakes.Count);
        Assert.All(_wakes, w => Assert.True(w < due));
        _time.Advance(TimeSpan.FromDays(1) - TimeSpan.FromMilliseconds(50));
        _turns.RunUntilIdle(_ => 0);
        Pass(TimeSpan.FromMilliseconds(50));

        Assert.Equal(due, _wakes[^1]);
    }

    [Fact]
    public void ArmedWithNothingItNeverWakes()
    {
        Arm(_time.GetUtcNow() + TimeSpan.FromSeconds(1));
        Arm(null);

        _time.Advance(TimeSpan.FromDays(400));
        _turns.RunUntilIdle(_ => 0);

        Assert.Empty(_wakes);
    }

    [Fact]
    public void ArmingAgainReplacesTheEarlierWakeUp()
    {
        var start = _time.GetUtcNow();
        Arm(start + TimeSpan.FromMilliseconds(15));
        Arm(start + TimeSpan.FromMilliseconds(40));

        Pass(TimeSpan.FromMilliseconds(100));

        // The earlier precise wake-up is void; the timer may wake the job early for the later one, which then waits.
        Assert.DoesNotContain(start + TimeSpan.FromMilliseconds(15), _wakes);
        Assert.Equal(start + TimeSpan.FromMilliseconds(40), _wakes[^1]);
        Assert.Single(_wakes, w => w >= start + TimeSpan.FromMilliseconds(40));
    }

    [Fact]
    public void ATimePassedWakesAtOnce()
    {
        Arm(_time.GetUtcNow() - TimeSpan.FromMinutes(5));

        Assert.Equal([_time.GetUtcNow()], _wakes);
    }

    [Fact]
    public void KeepsTheActivationAliveOnlyWhileAskedTo()
    {
        _turns.Start(() =>
        {
            _alarm.Arm(null, keepAlive: false);
            _alarm.Arm(null, keepAlive: false);
            _alarm.Arm(_time.GetUtcNow() + TimeSpan.FromHours(1), keepAlive: true);
            return Task.CompletedTask;
        });
        _turns.RunUntilIdle(_ => 0);

        Assert.Equal([false, true], _timers.Made.Select(m => m.KeepAlive));
        Assert.True(_timers.Made[0].Timer.Disposed);
    }
}

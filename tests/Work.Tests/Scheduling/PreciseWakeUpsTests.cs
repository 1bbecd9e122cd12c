using Microsoft.Extensions.Time.Testing;
using Work.Scheduling;

namespace Work.Tests.Scheduling;

public sealed class PreciseWakeUpsTests
{
    private static readonly TimeSpan s_safetyBound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task OnTheSystemClockEveryWaitEndsAtOrAfterItsDueTime()
    {
        using var wakeUps = new PreciseWakeUps(TimeProvider.System);
        var start = TimeProvider.System.GetUtcNow();
        var dues = new[] { 37.3, 5.1, 19.9, 0.4, 12.6 }.Select(ms => start.AddMilliseconds(ms)).ToList();

        var ended = await Task.WhenAll(dues.Select(async due =>
        {
            await wakeUps.WaitUntilAsync(due).WaitAsync(s_safetyBound);
            return TimeProvider.System.GetUtcNow();
        }));

        for (var i = 0; i < dues.Count; i++)
        {
            Assert.True(ended[i] >= dues[i], $"woke {(dues[i] - ended[i]).TotalMilliseconds:0.000} ms early");
        }
    }

    [Fact]
    public async Task ADueTimeThatPassedEndsAtOnce()
    {
        using var wakeUps = new PreciseWakeUps(TimeProvider.System);

        var wait = wakeUps.WaitUntilAsync(TimeProvider.System.GetUtcNow().AddSeconds(-1));

        Assert.True(wait.IsCompletedSuccessfully);
        await wait;
    }

    [Fact]
    public async Task OnAnotherClockAWaitEndsWhenThatClockGetsThere()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch.AddDays(1));
        using var wakeUps = new PreciseWakeUps(time);

        var wait = wakeUps.WaitUntilAsync(time.GetUtcNow().AddMilliseconds(250));
        time.Advance(TimeSpan.FromMilliseconds(249));
        var early = wait.IsCompleted;
        time.Advance(TimeSpan.FromMilliseconds(1));
        await wait.WaitAsync(s_safetyBound);

        Assert.False(early);
    }

    [Fact]
    public async Task AfterDisposalItRefusesNewWaits()
    {
        var wakeUps = new PreciseWakeUps(TimeProvider.System);
        await wakeUps.WaitUntilAsync(TimeProvider.System.GetUtcNow().AddMilliseconds(1)).WaitAsync(s_safetyBound);

        wakeUps.Dispose();

        Assert.Throws<ObjectDisposedException>(() => { _ = wakeUps.WaitUntilAsync(TimeProvider.System.GetUtcNow().AddSeconds(1)); });
    }
}

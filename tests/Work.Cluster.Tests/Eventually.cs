namespace Work.Cluster.Tests;

/// <summary>Waits for a condition that another process makes true, checking it every 100 ms, within a bound.</summary>
internal static class Eventually
{
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, TimeSpan? bound = null)
    {
        var deadline = DateTimeOffset.UtcNow + (bound ?? ClusterFixture.SafetyBound);
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        while (!await condition())
        {
            if (DateTimeOffset.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out waiting until {what}.");
            }

            await timer.WaitForNextTickAsync();
        }
    }

    /// <summary>Waits until <paramref name="attempt"/> gives a value, checking every 100 ms within the bound.</summary>
    public static async Task<T> ValueAsync<T>(Func<Task<T?>> attempt, string what = "a value came", TimeSpan? bound = null)
        where T : class
    {
        T? value = null;
        await WaitUntilAsync(async () => (value = await attempt()) is not null, what, bound);
        return value!;
    }
}

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

    /// <summary>What a call meets while a cluster gets over a killed silo or a restart (see WorkClient.IsTransient).</summary>
    public static bool IsUnreachable(Exception ex) => Work.Client.WorkClient.IsTransient(ex);

    /// <summary>Calls again, every 100 ms within the bound, while the cluster is unreachable.</summary>
    public static async Task<T> RetryAsync<T>(Func<Task<T>> call)
    {
        var deadline = DateTimeOffset.UtcNow + ClusterFixture.SafetyBound;
        using var pace = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        while (true)
        {
            try
            {
                return await call();
            }
            catch (Exception ex) when (IsUnreachable(ex) && DateTimeOffset.UtcNow < deadline)
            {
                await pace.WaitForNextTickAsync();
            }
        }
    }
}

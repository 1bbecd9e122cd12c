


namespace Work.Cluster.Tests;

internal static class JobGrainExtensions
{
    /// <summary>
    /// Waits for an execution's final record, asking the grain in bounded waits. A question lost with a silo that was
    /// killed (it hosted the job's activation when it was asked) is asked again, as any client would: only the
    /// execution's record counts, not the call that asked for it.
    /// </summary>
    public static async Task<JobExecution> WaitFinishedAsync(this IConcurrentJobGrain job, string executionId)
    {
        var deadline = DateTimeOffset.UtcNow + ClusterFixture.SafetyBound;
        while (DateTimeOffset.UtcNow < deadline)
        {
            try
            {
                if (await job.WaitAsync(executionId, TimeSpan.FromSeconds(5)) is { } done)
                {
                    return done;
                }
            }
            catch (Exception ex) when (ex is TimeoutException or SiloUnavailableException && DateTimeOffset.UtcNow < deadline)
            {
                // Asked of an activation on a silo that died: asked again, of its next activation.
            }
        }

        throw new TimeoutException($"Execution {executionId} did not finish.");
    }

    public static Task DefineProbeAsync(this IConcurrentJobGrain job, Probe.Board board, int maxWorkers = 1, int ms = 0, RetryPolicy? retry = null, EverySchedule? every = null, TimeSpan? timeout = null, MisfirePolicy misfire = MisfirePolicy.FireOnce, int historyLimit = 100) =>
        job.DefineAsync(new JobDefinition(new Job(Probe.Handler) { Args = Probe.Args(board, ms), Timeout = timeout })
        {
            MaxWorkers = maxWorkers,
            Retry = retry ?? RetryPolicy.None,
            Every = every,
            Misfire = misfire,
            HistoryLimit = historyLimit,
        });
}




namespace Work.Cluster.Tests;

internal static class JobGrainExtensions
{
    /// <summary>Waits for an execution's final record, asking the grain in bounded waits.</summary>
    public static async Task<JobExecution> WaitFinishedAsync(this IConcurrentJobGrain job, string executionId)
    {
        var deadline = DateTimeOffset.UtcNow + ClusterFixture.SafetyBound;
        while (DateTimeOffset.UtcNow < deadline)
        {
            if (await job.WaitAsync(executionId, TimeSpan.FromSeconds(5)) is { } done)
            {
                return done;
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

namespace Work.Cluster.Tests;

/// <summary>
/// A job whose executor's renewals do not reach it asks the executor before it counts an attempt lost: one still
/// running there keeps its lease and is not run again.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class LostRenewalTests(ClusterFixture fixture)
{
    [Fact]
    public async Task AnAttemptStillRunningOnALiveSiloIsNotRunAgainWhenItsRenewalsAreLost()
    {
        var board = Probe.NewBoard();
        var job = fixture.Job(ClusterFixture.NewJobName(LostRenewals.Prefix + "running"));

        // Longer than the fixture's 6 s lease: without renewals the lease runs out while the run is still going.
        await job.DefineProbeAsync(board, ms: 9_000);
        await job.StartAsync();
        var id = await job.EnqueueAsync();

        var result = await job.WaitFinishedAsync(id);

        Assert.Equal(JobStatus.Success, result.Status);
        Assert.Equal(1, result.Attempt);
        Assert.Single(board.Started);
        var info = await job.GetInfoAsync();
        Assert.Equal(0, info.Lost);
        Assert.Equal(0, info.RunningWorkers);
    }
}

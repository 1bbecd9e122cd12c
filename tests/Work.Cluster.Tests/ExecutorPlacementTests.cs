using Work.Grains;

namespace Work.Cluster.Tests;

/// <summary>
/// An executor is keyed by its silo's address; one asked for a silo the caller's silo does not know is placed on a
/// live silo instead, and says which silo it runs on, so a job does not take that silo's queues for the asked one's.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ExecutorPlacementTests(ClusterFixture fixture)
{
    [Fact]
    public async Task AnExecutorForAnUnknownSiloAnswersWithTheSiloItRunsOn()
    {
        const string unknown = "127.0.0.1:1@1";
        var answer = await fixture.Grains.GetGrain<IJobExecutorGrain>(unknown).QueuesAsync();

        Assert.NotEqual(unknown, answer.Silo);
        var silos = await fixture.Grains.GetGrain<IManagementGrain>(0).GetHosts(true);
        Assert.Contains(answer.Silo, silos.Keys.Select(s => s.ToParsableString()));
        Assert.Equal([WorkClusterOptions.AnyQueue], answer.Queues);
    }
}

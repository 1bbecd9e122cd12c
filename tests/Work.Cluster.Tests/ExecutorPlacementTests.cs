using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using Work.Grains;

namespace Work.Cluster.Tests;

/// <summary>
/// An executor is keyed by its silo's address; one asked for a silo the caller's silo does not know is placed on a
/// live silo instead, and says which silo it runs on, so a job does not take that silo's queues for the asked one's.
/// One asked for a silo that has just joined runs there, or is not placed yet; never elsewhere, where later calls
/// would keep finding it.
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

    [Fact]
    public async Task AJoiningSilosExecutorIsNeverPlacedOnAnotherSilo()
    {
        await using var cluster = await FailoverCluster.StartAsync(silos: 2, knownGrainsOnly: true);
        var first = (InProcessSiloHandle)cluster.Cluster.Primary!;
        var membership = first.SiloHost!.Services.GetRequiredService<IClusterMembershipService>();
        var grains = first.SiloHost!.Services.GetRequiredService<IGrainFactory>();
        var before = membership.CurrentSnapshot.Members.Keys.ToHashSet();

        // Asks from the first silo as soon as its membership shows the new silo active, until it answers from there.
        var answers = new List<string>();
        using var stop = new CancellationTokenSource(ClusterFixture.SafetyBound);
        var asking = Task.Run(async () =>
        {
            await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(stop.Token))
            {
                if (snapshot.Members.Values.FirstOrDefault(m => !before.Contains(m.SiloAddress) && m.Status == SiloStatus.Active) is not { } joined)
                {
                    continue;
                }

                var silo = joined.SiloAddress.ToParsableString();
                while (true)
                {
                    stop.Token.ThrowIfCancellationRequested();
                    try
                    {
                        var answer = await grains.GetGrain<IJobExecutorGrain>(silo).QueuesAsync();
                        answers.Add(answer.Silo);
                        if (answer.Silo == silo)
                        {
                            return silo;
                        }
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        // Not placed yet (SiloUnavailableException from the placement, however the call wraps it).
                        answers.Add("failed: " + ex.GetType().Name);
                    }

                    await Task.Yield();
                }
            }

            throw new InvalidOperationException("Membership updates ended before the new silo joined.");
        });

        await cluster.Cluster.StartAdditionalSiloAsync();
        var joinedSilo = await asking;

        Assert.All(answers, a => Assert.True(a == joinedSilo || a.StartsWith("failed: ", StringComparison.Ordinal), $"answered from {a}"));
        Assert.Equal(joinedSilo, answers[^1]);
    }
}

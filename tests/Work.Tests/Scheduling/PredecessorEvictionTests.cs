using System.Collections.Immutable;
using System.Net;
using Work.Hosting;

namespace Work.Tests.Scheduling;

public sealed class PredecessorEvictionTests
{
    private static readonly IPEndPoint s_here = new(IPAddress.Loopback, 11111);

    private static ClusterMembershipSnapshot Snapshot(params (SiloAddress Address, SiloStatus Status)[] members) =>
        new(members.ToImmutableDictionary(m => m.Address, m => new ClusterMember(m.Address, m.Status, m.Address.ToString())), new MembershipVersion(7));

    [Fact]
    public void OnlyOlderIncarnationsOfTheSameEndpointThatAreNotDeadArePredecessors()
    {
        var local = SiloAddress.New(s_here, 300);
        var crashed = SiloAddress.New(s_here, 200);
        var buried = SiloAddress.New(s_here, 100);
        var newer = SiloAddress.New(s_here, 400);
        var other = SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11112), 50);

        var predecessors = PredecessorEviction.Predecessors(
            Snapshot((local, SiloStatus.Active), (crashed, SiloStatus.Active), (buried, SiloStatus.Dead), (newer, SiloStatus.Joining), (other, SiloStatus.Active)),
            local);

        Assert.Equal([crashed], predecessors);
    }

    [Fact]
    public void APredecessorStillShuttingDownOrJoiningIsOneToo()
    {
        var local = SiloAddress.New(s_here, 300);
        var stopping = SiloAddress.New(s_here, 200);
        var joining = SiloAddress.New(s_here, 250);

        var predecessors = PredecessorEviction.Predecessors(Snapshot((local, SiloStatus.Active), (stopping, SiloStatus.ShuttingDown), (joining, SiloStatus.Joining)), local);

        Assert.Equal(2, predecessors.Count);
        Assert.Contains(stopping, predecessors);
        Assert.Contains(joining, predecessors);
        Assert.Empty(PredecessorEviction.Predecessors(Snapshot((local, SiloStatus.Active)), local));
    }
}

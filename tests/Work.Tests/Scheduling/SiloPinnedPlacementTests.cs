using System.Net;
using Orleans.Runtime.Placement;
using Work.Placement;

namespace Work.Tests.Scheduling;

/// <summary>
/// Where a silo's executor is placed: on that silo when it can host it; on this silo when that silo is gone; and
/// nowhere while that silo is active but not yet known to host it, since a placement elsewhere would stick.
/// </summary>
public sealed class SiloPinnedPlacementTests
{
    private static readonly SiloAddress s_local = SiloAddress.New(IPAddress.Loopback, 11111, 1);
    private static readonly SiloAddress s_other = SiloAddress.New(IPAddress.Loopback, 11112, 1);
    private static readonly SiloAddress s_joined = SiloAddress.New(IPAddress.Loopback, 11113, 1);
    private static readonly SiloAddress s_dead = SiloAddress.New(IPAddress.Loopback, 11114, 1);

    private readonly Membership _membership = new(Memberships.Snapshot(
        4, (s_local, SiloStatus.Active), (s_other, SiloStatus.Active), (s_joined, SiloStatus.Active), (s_dead, SiloStatus.Dead)));

    // The silos whose grains this silo knows: the one that joined last is not among them yet.
    private readonly Context _context = new([s_local, s_other]);

    [Fact]
    public async Task TheExecutorOfAKnownSiloGoesThere()
    {
        var director = new SiloPinnedPlacementDirector(_membership);

        Assert.Equal(s_other, await director.OnAddActivation(SiloPinnedPlacementStrategy.Instance, Target(s_other), _context));
        Assert.Equal(s_local, await director.OnAddActivation(SiloPinnedPlacementStrategy.Instance, Target(s_local), _context));
    }

    [Fact]
    public async Task TheExecutorOfAGoneSiloRunsHere()
    {
        var director = new SiloPinnedPlacementDirector(_membership);

        Assert.Equal(s_local, await director.OnAddActivation(SiloPinnedPlacementStrategy.Instance, Target(s_dead), _context));
        var never = SiloAddress.New(IPAddress.Loopback, 11115, 1);
        Assert.Equal(s_local, await director.OnAddActivation(SiloPinnedPlacementStrategy.Instance, Target(never), _context));
    }

    [Fact]
    public async Task TheExecutorOfAnActiveSiloNotYetKnownToHostItIsNotPlacedElsewhere()
    {
        var director = new SiloPinnedPlacementDirector(_membership);

        var error = await Assert.ThrowsAsync<SiloUnavailableException>(() => director.OnAddActivation(SiloPinnedPlacementStrategy.Instance, Target(s_joined), _context));
        Assert.Contains(s_joined.ToParsableString(), error.Message, StringComparison.Ordinal);

        // Once this silo knows what the new one hosts, it goes there.
        var knowing = new Context([s_local, s_other, s_joined]);
        Assert.Equal(s_joined, await director.OnAddActivation(SiloPinnedPlacementStrategy.Instance, Target(s_joined), knowing));
    }

    private static PlacementTarget Target(SiloAddress silo) =>
        new(GrainId.Create("executor", silo.ToParsableString()), [], default, 0);

    private sealed class Membership(ClusterMembershipSnapshot snapshot) : IClusterMembershipService
    {
        public ClusterMembershipSnapshot CurrentSnapshot => snapshot;

        public IAsyncEnumerable<ClusterMembershipSnapshot> MembershipUpdates => throw new NotSupportedException();

        public ValueTask Refresh(MembershipVersion minimumVersion = default, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public Task<bool> TryKill(SiloAddress siloAddress) => throw new NotSupportedException();
    }

    private sealed class Context(SiloAddress[] compatible) : IPlacementContext
    {
        public SiloAddress LocalSilo => s_local;

        public SiloStatus LocalSiloStatus => SiloStatus.Active;

        public SiloAddress[] GetCompatibleSilos(PlacementTarget target) => compatible;

        public IReadOnlyDictionary<ushort, SiloAddress[]> GetCompatibleSilosWithVersions(PlacementTarget target) => throw new NotSupportedException();
    }
}

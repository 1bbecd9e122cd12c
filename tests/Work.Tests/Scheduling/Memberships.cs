using System.Collections.Immutable;

namespace Work.Tests.Scheduling;

/// <summary>Cluster membership views for tests of what reads them.</summary>
internal static class Memberships
{
    /// <summary>A view at <paramref name="version"/> holding <paramref name="members"/>.</summary>
    public static ClusterMembershipSnapshot Snapshot(long version, params (SiloAddress Silo, SiloStatus Status)[] members) => new(
        members.ToImmutableDictionary(m => m.Silo, m => new ClusterMember(m.Silo, m.Status, m.Silo.ToString())),
        new MembershipVersion(version));
}

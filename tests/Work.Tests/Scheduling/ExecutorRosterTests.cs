using System.Net;
using Work.Scheduling;

namespace Work.Tests.Scheduling;

public sealed class ExecutorRosterTests
{
    private static readonly SiloAddress s_a = SiloAddress.New(IPAddress.Loopback, 11111, 1);
    private static readonly SiloAddress s_b = SiloAddress.New(IPAddress.Loopback, 11112, 1);
    private static readonly SiloAddress s_c = SiloAddress.New(IPAddress.Loopback, 11113, 1);

    private ClusterMembershipSnapshot _membership = Memberships.Snapshot(1, (s_a, SiloStatus.Active), (s_b, SiloStatus.Active), (s_c, SiloStatus.Dead));
    private readonly List<string> _made = [];

    private ExecutorRoster<string> Create() => new(() => _membership, "local", silo =>
    {
        _made.Add(silo);
        return $"executor on {silo}";
    });

    [Fact]
    public void RunsGoToTheLeastLoadedLiveSiloAndTiesTakeTurns()
    {
        var roster = Create();
        var load = new Dictionary<string, int>(StringComparer.Ordinal) { [s_a.ToParsableString()] = 2 };

        var batches = roster.Assign(Enumerable.Range(0, 6), load);

        // b first (it had none), then a and b in turn: 4 of 6 each in the end.
        Assert.Equal([0, 1, 3, 5], batches[s_b.ToParsableString()]);
        Assert.Equal([2, 4], batches[s_a.ToParsableString()]);
        Assert.Equal(4, load[s_a.ToParsableString()]);
        Assert.Equal(4, load[s_b.ToParsableString()]);
        Assert.DoesNotContain(s_c.ToParsableString(), batches.Keys);
    }

    [Fact]
    public void WithNoActiveSiloKnownRunsStayOnThisSilo()
    {
        _membership = Memberships.Snapshot(1, (s_a, SiloStatus.Joining));
        var roster = Create();

        Assert.Equal(["local"], roster.ActiveSilos());
        Assert.Equal([1, 2], roster.Assign([1, 2], []).Single(b => b.Key == "local").Value);
    }

    [Fact]
    public void ReferencesAreMadeOncePerSiloAndForgottenWhenItLeaves()
    {
        var roster = Create();
        roster.ActiveSilos();
        var a = s_a.ToParsableString();

        Assert.Equal($"executor on {a}", roster.Executor(a));
        Assert.Equal($"executor on {a}", roster.Executor(a));
        Assert.Single(_made);

        _membership = Memberships.Snapshot(2, (s_a, SiloStatus.Dead), (s_b, SiloStatus.Active));
        Assert.Equal([s_b.ToParsableString()], roster.ActiveSilos());
        roster.Executor(a);
        Assert.Equal(2, _made.Count);
    }
}

using System.Net;
using Work.Scheduling;

namespace Work.Tests.Scheduling;

public sealed class DeadSilosTests
{
    private static SiloAddress Silo(int port, int generation) => SiloAddress.New(IPAddress.Loopback, port, generation);

    [Fact]
    public void BeforeTheFirstWakeUpAnyDeadSiloIsNewAndNoneIsNothing()
    {
        var dead = new DeadSilos();
        Assert.False(dead.AnyNew([]));
        Assert.True(dead.AnyNew([Silo(11111, 1)]));
    }

    [Fact]
    public void OnlyASiloThatDiedAfterTheLastWakeUpIsNew()
    {
        var dead = new DeadSilos();
        dead.Handled([Silo(11111, 1)]);
        Assert.False(dead.AnyNew([Silo(11111, 1)]));

        // The same address started again and died: another incarnation, whose jobs nobody woke.
        Assert.True(dead.AnyNew([Silo(11111, 1), Silo(11111, 2)]));

        // The membership forgot the first one (its defunct entry expired): nothing new.
        dead.Handled([Silo(11111, 1), Silo(11111, 2)]);
        Assert.False(dead.AnyNew([Silo(11111, 2)]));
        dead.Handled([Silo(11111, 2)]);
        Assert.True(dead.AnyNew([Silo(11111, 1)]));
    }
}

using Work.Scheduling;

namespace Work.Tests.Scheduling;

/// <summary>Which silos serve a job's queue, as the job learns it: asked once per silo, unknown silos serving nothing.</summary>
public sealed class SiloQueuesTests
{
    [Fact]
    public void ASiloServesItsQueuesOrEveryQueueWithAStarAndIsAskedOnce()
    {
        var queues = new SiloQueues("local", ["default"]);
        string[] live = ["local", "a", "b"];
        var now = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);

        // Nobody known but this silo: the others are asked, and dispatch holds a second for their answers.
        var (serving, toAsk, hold) = queues.Serving(live, "gpu", now);
        Assert.Empty(serving);
        Assert.Equal(["a", "b"], toAsk);
        Assert.Equal(now + SiloQueues.HoldFor, hold);

        // Asked already: not asked again while the answers are on their way, and no hold past the second.
        Assert.Empty(queues.Serving(live, "gpu", now.AddMilliseconds(500)).ToAsk);
        Assert.Null(queues.Serving(live, "gpu", now + SiloQueues.HoldFor).HoldUntil);

        queues.Learned("a", ["gpu", "video"]);
        queues.Learned("b", null);
        (serving, toAsk, hold) = queues.Serving(live, "gpu", now.AddSeconds(2));
        Assert.Equal(["a"], serving);
        Assert.Equal(["b"], toAsk);
        Assert.Equal(now.AddSeconds(2) + SiloQueues.HoldFor, hold);

        queues.Learned("b", ["*"]);
        Assert.Equal(["local", "b"], queues.Serving(live, "default", now).Serving);
        Assert.Equal(["a", "b"], queues.Serving(live, "gpu", now).Serving);
        Assert.Null(queues.Serving(live, "gpu", now).HoldUntil);
        Assert.Equal(["b"], queues.Serving(["b"], "anything", now).Serving);
    }
}

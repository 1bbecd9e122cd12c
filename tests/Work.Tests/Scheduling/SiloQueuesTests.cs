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

        var (serving, toAsk) = queues.Serving(live, "gpu");
        Assert.Empty(serving);
        Assert.Equal(["a", "b"], toAsk);

        // Asked already: not asked again while the answers are on their way.
        Assert.Empty(queues.Serving(live, "gpu").ToAsk);

        queues.Learned("a", ["gpu", "video"]);
        queues.Learned("b", null);
        (serving, toAsk) = queues.Serving(live, "gpu");
        Assert.Equal(["a"], serving);
        Assert.Equal(["b"], toAsk);

        queues.Learned("b", ["*"]);
        Assert.Equal(["local", "b"], queues.Serving(live, "default").Serving);
        Assert.Equal(["a", "b"], queues.Serving(live, "gpu").Serving);
        Assert.Equal(["b"], queues.Serving(["b", "gone"], "anything").Serving);
    }
}

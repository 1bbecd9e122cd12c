using Work.Scheduling;

namespace Work.Tests.Scheduling;

/// <summary>Which silos serve a job's queue, as the job learns it: asked once per silo, unknown silos serving nothing,
/// a silo's first answer awaited for a second at most.</summary>
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

        queues.Learned("a", ["gpu", "video"], now.AddSeconds(2));
        queues.Learned("b", null, now.AddSeconds(2));
        (serving, toAsk, hold) = queues.Serving(live, "gpu", now.AddSeconds(2));
        Assert.Equal(["a"], serving);

        // A silo that could not answer is asked again a while later, and never holds the dispatch again.
        Assert.Empty(toAsk);
        Assert.Null(hold);
        (_, toAsk, hold) = queues.Serving(live, "gpu", now.AddSeconds(2) + SiloQueues.HoldFor);
        Assert.Equal(["b"], toAsk);
        Assert.Null(hold);

        queues.Learned("b", ["*"], now.AddSeconds(4));
        Assert.Equal(["local", "b"], queues.Serving(live, "default", now).Serving);
        Assert.Equal(["a", "b"], queues.Serving(live, "gpu", now).Serving);
        Assert.Null(queues.Serving(live, "gpu", now).HoldUntil);
        Assert.Equal(["b"], queues.Serving(["b"], "anything", now).Serving);
    }

    [Fact]
    public void ASiloThatNeverAnswersHoldsTheDispatchOnlyForItsFirstSecond()
    {
        var queues = new SiloQueues("local", ["gpu"]);
        string[] live = ["local", "mute"];
        var now = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);
        Assert.Equal(now + SiloQueues.HoldFor, queues.Serving(live, "gpu", now).HoldUntil);

        // Each time it is asked it fails to answer; the runs go to the silos known after the first second, every time.
        for (var second = 1; second <= 10; second++)
        {
            var at = now.AddSeconds(second);
            queues.Learned("mute", null, at);
            var (serving, _, hold) = queues.Serving(live, "gpu", at + SiloQueues.HoldFor);
            Assert.Equal(["local"], serving);
            Assert.Null(hold);
        }
    }

    [Fact]
    public void ASiloThatIsStoppingServesNothingFromThenOnWhateverItAnsweredBefore()
    {
        var queues = new SiloQueues("local", ["*"]);
        string[] live = ["local", "a", "b"];
        var now = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);
        queues.Serving(live, "default", now);
        queues.Learned("a", ["*"], now);

        // "b" refuses runs while its question is on its way; its answer, given before it began to stop, comes after.
        queues.Stopping("b");
        queues.Learned("b", ["*"], now);
        queues.Stopping("local");

        var (serving, toAsk, hold) = queues.Serving(live, "default", now.AddSeconds(5));
        Assert.Equal(["a"], serving);
        Assert.Empty(toAsk);
        Assert.Null(hold);
    }
}

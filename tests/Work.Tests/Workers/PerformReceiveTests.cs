using System.Collections.Concurrent;
using System.Threading.Channels;
using Work.Workers;

namespace Work.Tests.Workers;

public sealed class PerformReceiveTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task EachItemIsHandedToAHandler(bool sync)
    {
        var items = new ConcurrentQueue<string>();
        await using var workers = new TestWorkers(w => w.AddHandler("take", ctx =>
        {
            items.Enqueue(ctx.GetItem<string>());
            return Task.CompletedTask;
        }));
        var worker = await workers.StartAsync();
        var source = Channel.CreateUnbounded<string>();

        var loop = worker.PerformReceive(new Job("take"), source.Reader, new ReceiveOptions { Sync = sync });
        foreach (var item in new[] { "a", "b", "c", "d", "e" })
        {
            await source.Writer.WriteAsync(item);
        }

        source.Writer.Complete();
        await loop.Completion.Bounded();

        Assert.Equal(5, loop.Runs);
        Assert.Equal(["a", "b", "c", "d", "e"], sync ? items : items.Order());
    }

    [Fact]
    public async Task LoopEndsWhenTheSourceCompletesAfterItsExecutionsFinish()
    {
        var started = Signal.New();
        var release = Signal.New();
        await using var workers = new TestWorkers(w => w.AddHandler("slow", async _ =>
        {
            started.TrySetResult();
            await release.Task;
        }));
        var worker = await workers.StartAsync();
        var source = Channel.CreateUnbounded<int>();

        var loop = worker.PerformReceive(new Job("slow"), source.Reader);
        await source.Writer.WriteAsync(1);
        source.Writer.Complete();
        await started.WaitAsync();
        Assert.False(loop.Completion.IsCompleted);
        release.TrySetResult();

        await loop.Completion.Bounded();
        Assert.Equal(1, loop.Runs);
    }

    [Fact]
    public async Task TenThousandItemsThroughFiftyCompetingWorkersAreEachHandledExactlyOnce()
    {
        const int Items = 10_000;
        var handled = new ConcurrentDictionary<int, int>();
        await using var workers = new TestWorkers(w => w.AddHandler("count", async ctx =>
        {
            handled.AddOrUpdate(ctx.GetItem<int>(), 1, (_, n) => n + 1);
            await Task.Yield();
        }));
        var source = Channel.CreateBounded<int>(100);
        var loops = new List<JobLoop>();
        for (var i = 0; i < 50; i++)
        {
            var worker = await workers.StartAsync($"w{i}");
            loops.Add(worker.PerformReceive(new Job("count"), source.Reader, new ReceiveOptions { Sync = i % 2 == 0 }));
        }

        for (var i = 0; i < Items; i++)
        {
            await source.Writer.WriteAsync(i);
        }

        source.Writer.Complete();
        await Task.WhenAll(loops.Select(l => l.Completion)).Bounded();

        Assert.Equal(Items, handled.Count);
        Assert.All(handled.Values, n => Assert.Equal(1, n));
        Assert.Equal(Items, loops.Sum(l => l.Runs));
        Assert.True(loops.Count(l => l.Runs > 0) > 1, "more than one worker took items");
    }

    [Fact]
    public async Task AsyncSequenceSharedByCompetingLoopsIsReadExactlyOnce()
    {
        var handled = new ConcurrentDictionary<int, int>();
        await using var workers = new TestWorkers(w => w.AddHandler("count", ctx =>
        {
            handled.AddOrUpdate(ctx.GetItem<int>(), 1, (_, n) => n + 1);
            return Task.CompletedTask;
        }));
        var worker = await workers.StartAsync();
        var source = JobSource.From(Numbers(1_000));

        var loops = Enumerable.Range(0, 8).Select(_ => ((CommonWorker)worker).PerformReceive(new Job("count"), source)).ToList();
        await Task.WhenAll(loops.Select(l => l.Completion)).Bounded();

        Assert.Equal(1_000, handled.Count);
        Assert.All(handled.Values, n => Assert.Equal(1, n));
    }

    [Fact]
    public async Task StopEndsAReceiveLoopWaitingForItems()
    {
        await using var workers = new TestWorkers(w => w.AddHandler("x", _ => Task.CompletedTask));
        var worker = await workers.StartAsync();
        var source = Channel.CreateUnbounded<int>();

        var loop = worker.PerformReceive(new Job("x"), source.Reader);
        await worker.StopAsync().Bounded();

        Assert.True(loop.Completion.IsCompleted);
        Assert.Equal(0, loop.Runs);
    }

    [Fact]
    public async Task GetItemNamesWhatWasWrong()
    {
        var error = Signal.New<string>();
        await using var workers = new TestWorkers(w => w.AddHandler("typed", ctx =>
        {
            try
            {
                ctx.GetItem<string>();
            }
            catch (InvalidOperationException ex)
            {
                error.TrySetResult(ex.Message);
            }

            return Task.CompletedTask;
        }));
        var worker = await workers.StartAsync();
        var source = Channel.CreateUnbounded<int>();

        worker.PerformReceive(new Job("typed"), source.Reader);
        await source.Writer.WriteAsync(7);

        var message = await error.WaitAsync();
        Assert.Contains("Int32", message, StringComparison.Ordinal);
        Assert.Contains("String", message, StringComparison.Ordinal);
    }

    private static async IAsyncEnumerable<int> Numbers(int count)
    {
        for (var i = 0; i < count; i++)
        {
            if (i % 100 == 0)
            {
                await Task.Yield();
            }

            yield return i;
        }
    }
}

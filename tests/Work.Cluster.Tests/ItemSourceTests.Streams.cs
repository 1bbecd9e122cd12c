using Orleans.Streams;

namespace Work.Cluster.Tests;

/// <summary>
/// Jobs bound to their Orleans stream (ReceiveBinding.FromStream): in memory on SQLite, durable on PostgreSQL. Every
/// item runs once under the job's cap, the stream is read no faster than the job frees slots, items published before
/// the job can take them wait for it, and a stopped job takes no more while the items it took still run.
/// </summary>
public abstract partial class ItemSourceTests
{
    [Fact]
    public async Task EveryStreamItemRunsExactlyOnceUnderTheCap()
    {
        var board = ItemBoard.New();
        var count = fixture.StreamItemCount;
        var (job, stream) = await StreamJobAsync(maxWorkers: 8, historyLimit: JobDefinition.MaxHistoryLimit);
        for (var sent = 0; sent < count; sent += 50)
        {
            await stream.OnNextBatchAsync(Enumerable.Range(sent, Math.Min(50, count - sent)).Select(i => new ItemRequest { Args = board.Args(i) }).ToList());
        }

        await Eventually.WaitUntilAsync(async () => (await job.GetInfoAsync()).Succeeded == count, $"{count} stream items run", TimeSpan.FromMinutes(3));
        Assert.Equal(Enumerable.Range(0, count), board.ByNumber.Keys.Order());
        Assert.All(board.ByNumber.Values, run => Assert.Equal(1, run.Count));
        Assert.All(board.ByNumber.Values, run => Assert.Equal(WorkStreams.ProviderName, run.Item.Source));
        Assert.InRange(board.MaxConcurrent, 1, 8);
        var info = await job.GetInfoAsync();
        Assert.Equal((0, (long)count, 0L), (info.HeldItems, info.Finished, info.Lost));

        // Each record names the item it handled: its position in the stream (sequence number and index in its batch).
        var history = await job.GetHistoryAsync(0, count);
        Assert.Equal(count, history.Count);
        Assert.All(history, e => Assert.NotNull(e.ItemId));
        Assert.Equal(count, board.ByNumber.Values.Select(r => (r.Item.Id, r.Item.Index)).Distinct().Count());
        if (SiloCount > 1)
        {
            Assert.Equal(SiloCount, history.Select(e => e.Worker).Distinct().Count());
        }
    }

    [Fact]
    public async Task AStreamIsReadNoFasterThanSlotsFreeAndAStoppedJobTakesNoMore()
    {
        var board = ItemBoard.New();
        var (job, stream) = await StreamJobAsync(maxWorkers: 2);
        for (var i = 0; i < 20; i++)
        {
            await stream.OnNextAsync(new ItemRequest { Args = board.Args(i, block: true) });
        }

        // Two run and stay blocked: the job takes the next two, no more, and the rest wait in the stream.
        await board.RunningAsync(2);
        await Eventually.WaitUntilAsync(async () => (await job.GetInfoAsync()).HeldItems == 4, "the job holds 4 stream items");

        // Stopped: the two running are cancelled as any running execution is; the two it took and had not started
        // still run (a stream cannot take an item back), and nothing more is taken.
        await job.StopAsync();
        board.Release();
        await Eventually.WaitUntilAsync(async () => (await job.GetInfoAsync()).HeldItems == 0, "the job holds nothing");
        var stopped = await job.GetInfoAsync();
        Assert.Equal(4, board.ByNumber.Count);
        Assert.Equal(4, stopped.Finished);
        Assert.InRange(stopped.Succeeded, 2, 4);

        // Started again, it takes the other 16.
        await job.StartAsync();
        await Eventually.WaitUntilAsync(async () => board.ByNumber.Count == 20 && (await job.GetInfoAsync()).HeldItems == 0, "all 20 taken and run");
        Assert.All(board.ByNumber.Values, run => Assert.Equal(1, run.Count));
        Assert.InRange(board.MaxConcurrent, 1, 2);
    }

    [Fact]
    public async Task StreamItemsPublishedBeforeTheJobExistsWaitForItAndAKeyIsNotTakenTwice()
    {
        var board = ItemBoard.New();
        var name = ClusterFixture.NewJobName("stream-early");
        var stream = _cluster.Client.GetStreamProvider(WorkStreams.ProviderName).JobStream(name);
        for (var i = 0; i < 5; i++)
        {
            await stream.OnNextAsync(new ItemRequest { Args = board.Args(i), IdempotencyKey = $"order-{i}" });
        }

        var job = _cluster.Client.GetGrain<IConcurrentJobGrain>(name);
        await job.DefineAsync(new JobDefinition(new Job(ItemBoard.Handler)) { MaxWorkers = 2, Receive = ReceiveBinding.FromStream() });
        await job.StartAsync();
        await Eventually.WaitUntilAsync(async () => (await job.GetInfoAsync()).Succeeded == 5, "the 5 early items run");
        Assert.Equal([0, 1, 2, 3, 4], board.ByNumber.Keys.Order());
        Assert.Equal("order-3", board.ByNumber[3].Item.IdempotencyKey);
    }

    [Fact]
    public async Task BadStreamBindingsAreRefusedWithTheirReasons()
    {
        var job = _cluster.Client.GetGrain<IConcurrentJobGrain>(ClusterFixture.NewJobName("stream-bad"));
        var missing = new JobDefinition(new Job(ItemBoard.Handler)) { Receive = ReceiveBinding.FromStream("no-such-provider") };
        var error = await Assert.ThrowsAsync<ArgumentException>(() => job.DefineAsync(missing));
        Assert.Contains("the silo has no stream provider of that name", error.Message, StringComparison.Ordinal);
        Assert.Contains("'no-such-provider'", error.Message, StringComparison.Ordinal);

        var kind = new JobDefinition(new Job(ItemBoard.Handler)) { Receive = ReceiveBinding.FromStream() with { Kind = (SourceKind)7 } };
        error = await Assert.ThrowsAsync<ArgumentException>(() => job.DefineAsync(kind));
        Assert.Contains("Receive.Kind must be Table or Stream; it is 7.", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => _cluster.Client.GetStreamProvider(WorkStreams.ProviderName).JobStream(" "));
    }

    private async Task<(IConcurrentJobGrain Job, IAsyncStream<ItemRequest> Stream)> StreamJobAsync(int maxWorkers, int historyLimit = 100)
    {
        var name = ClusterFixture.NewJobName("stream");
        var job = _cluster.Client.GetGrain<IConcurrentJobGrain>(name);
        await job.DefineAsync(new JobDefinition(new Job(ItemBoard.Handler))
        {
            MaxWorkers = maxWorkers,
            HistoryLimit = historyLimit,
            Receive = ReceiveBinding.FromStream(),
        });
        await job.StartAsync();
        return (job, _cluster.Client.GetStreamProvider(WorkStreams.ProviderName).JobStream(name));
    }
}

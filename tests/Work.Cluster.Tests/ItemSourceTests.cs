using System.Collections.Concurrent;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using Work.Client;
using Work.Grains;
using Work.Hosting;
using Work.Pipeline;
using Work.Silo.Handlers;

namespace Work.Cluster.Tests;

/// <summary>
/// Jobs bound to an item source (the table queue in the silos' database), on each backend: every item runs once
/// under the job's cap, duplicates are refused by key, failures past the retry policy end in the dead letter table,
/// the source is read no faster than the job frees slots, and a stopped job gives its items back.
/// </summary>
public abstract partial class ItemSourceTests(ItemCluster fixture)
{
    private readonly TestCluster _cluster = fixture.Cluster;

    /// <summary>How many silos the cluster has.</summary>
    private short SiloCount => fixture.SiloCount;

    /// <summary>How many items the exactly-once test sends through.</summary>
    private int ItemCount => fixture.ItemCount;

    internal static void ConfigureWork(ISiloBuilder silo)
    {
        silo.Services.Configure<WorkClusterOptions>(o =>
        {
            o.LeaseDuration = TimeSpan.FromSeconds(6);
            o.LeaseRenewPeriod = TimeSpan.FromSeconds(1);
        });
        silo.AddWork(work => work.AddSampleHandlers().AddHandler(ItemBoard.Handler, ItemBoard.HandleAsync));
    }

    [Fact]
    public async Task EveryItemRunsExactlyOnceUnderTheCapAndIsAcknowledged()
    {
        var board = ItemBoard.New();
        var (job, source) = await BoundJobAsync(maxWorkers: 8, historyLimit: JobDefinition.MaxHistoryLimit);
        for (var sent = 0; sent < ItemCount; sent += IItemSourceGrain.MaxPerCall / 4)
        {
            var batch = Enumerable.Range(sent, Math.Min(IItemSourceGrain.MaxPerCall / 4, ItemCount - sent)).Select(i => new ItemRequest { Args = board.Args(i) }).ToList();
            var enqueued = await source.EnqueueAsync(batch);
            Assert.All(enqueued, e => Assert.False(e.Duplicate));
        }

        await Eventually.WaitUntilAsync(async () => (await source.GetInfoAsync()).Acknowledged == ItemCount, $"{ItemCount} items acknowledged", TimeSpan.FromMinutes(4));
        var info = await source.GetInfoAsync();
        Assert.Equal((0L, 0L, 0L), (info.Ready, info.Claimed, info.Dead));

        // Each item ran once, none twice, never more than 8 at once; the job's records say which item each handled.
        Assert.Equal(ItemCount, board.Runs.Count);
        Assert.All(board.Runs, run => Assert.Equal(1, run.Value.Count));
        Assert.Equal(Enumerable.Range(0, ItemCount), board.Runs.Values.Select(r => r.Number).Order());
        Assert.InRange(board.MaxConcurrent, 1, 8);
        var jobInfo = await job.GetInfoAsync();
        Assert.Equal(ItemCount, jobInfo.Succeeded);
        Assert.Equal(0, jobInfo.HeldItems);
        var history = await job.GetHistoryAsync(0, ItemCount);
        Assert.Equal(board.Runs.Keys.Order(), history.Select(e => e.ItemId!.Value).Order());
        if (SiloCount > 1)
        {
            Assert.Equal(SiloCount, history.Select(e => e.Worker).Distinct().Count());
        }
    }

    [Fact]
    public async Task AnItemHandsItsArgsAndItselfToTheHandlerAndAKeyRefusesDuplicates()
    {
        var board = ItemBoard.New();
        var (_, source) = await BoundJobAsync(maxWorkers: 2);
        var first = await source.EnqueueAsync([new ItemRequest { Args = board.Args(7), IdempotencyKey = "order-7" }]);
        var again = await source.EnqueueAsync([
            new ItemRequest { Args = board.Args(8), IdempotencyKey = "order-7" },
            new ItemRequest { Args = board.Args(9), IdempotencyKey = "order-9" },
            new ItemRequest { Args = board.Args(10), IdempotencyKey = "order-9" },
        ]);
        Assert.Equal([(first[0].Id, true), (again[1].Id, false), (again[1].Id, true)], again.Select(e => (e.Id, e.Duplicate)));

        await Eventually.WaitUntilAsync(async () => (await source.GetInfoAsync()).Acknowledged == 2, "two items acknowledged");
        Assert.Equal([7, 9], board.Runs.Values.Select(r => r.Number).Order());
        var seen = board.Runs[first[0].Id];
        Assert.Equal((source.GetPrimaryKeyString(), first[0].Id, 1, "order-7"), (seen.Item.Source, seen.Item.Id, seen.Item.Deliveries, seen.Item.IdempotencyKey));

        // Acknowledged items keep their keys.
        Assert.True((await source.EnqueueAsync([new ItemRequest { Args = board.Args(11), IdempotencyKey = "order-7" }]))[0].Duplicate);
    }

    [Fact]
    public async Task ItemsFailingPastTheRetryPolicyEndInTheDeadLetterTable()
    {
        var board = ItemBoard.New();
        var retry = new RetryPolicy { MaxAttempts = 2, InitialDelay = TimeSpan.FromMilliseconds(10), Jitter = 0 };
        var (job, source) = await BoundJobAsync(maxWorkers: 4, retry: retry);
        var items = Enumerable.Range(0, 20).Select(i => new ItemRequest { Args = board.Args(i, fail: i % 5 == 0) }).ToList();
        var enqueued = await source.EnqueueAsync(items);

        await Eventually.WaitUntilAsync(async () => await source.GetInfoAsync() is { Acknowledged: 16, Dead: 4 }, "16 acknowledged and 4 dead");
        var dead = await source.GetDeadAsync(10);
        Assert.Equal([0, 5, 10, 15], dead.Select(d => d.Args!.Get<int>("n")).Order());
        Assert.All(dead, d =>
        {
            Assert.Equal(JobStatus.InternalError, d.Status);
            Assert.Equal(job.GetPrimaryKeyString(), d.Job);
            Assert.Contains("failed on purpose", d.Error, StringComparison.Ordinal);
            Assert.Contains(d.Item.Id, enqueued.Select(e => e.Id));
        });

        // Each poison item ran twice (its retry), as one item.
        Assert.All(dead, d => Assert.Equal(2, board.Runs[d.Item.Id].Count));
    }

    [Fact]
    public async Task TheSourceIsReadNoFasterThanSlotsFreeAndAStoppedJobGivesItsItemsBack()
    {
        var board = ItemBoard.New();
        var (job, source) = await BoundJobAsync(maxWorkers: 2);
        await source.EnqueueAsync(Enumerable.Range(0, 50).Select(i => new ItemRequest { Args = board.Args(i, block: true) }).ToList());

        // Two run and stay blocked: the job holds them and the next two, no more.
        await board.RunningAsync(2);
        await Eventually.WaitUntilAsync(async () => (await job.GetInfoAsync()).HeldItems == 4, "the job holds 4 items");
        Assert.Equal(4, (await source.GetInfoAsync()).Claimed);

        // Stopped: what it holds goes back to the source, and nothing is acknowledged.
        await job.StopAsync();
        board.Release();
        await Eventually.WaitUntilAsync(async () => (await job.GetInfoAsync()).HeldItems == 0, "the job holds nothing");
        var info = await source.GetInfoAsync();
        Assert.Equal((50L, 0L, 0L, 0L), (info.Ready, info.Claimed, info.Acknowledged, info.Dead));

        // Started again, it takes them all.
        await job.StartAsync();
        await Eventually.WaitUntilAsync(async () => (await source.GetInfoAsync()).Acknowledged == 50, "all 50 acknowledged");
        Assert.InRange(board.MaxConcurrent, 1, 2);
    }

    [Fact]
    public async Task BadBindingsAndItemsAreRefusedWithTheirReasons()
    {
        var job = _cluster.Client.GetGrain<IConcurrentJobGrain>(ClusterFixture.NewJobName("items-bad"));
        var bad = new JobDefinition(new Job(ItemBoard.Handler)) { Receive = new ReceiveBinding(" ") { Visibility = TimeSpan.Zero, MaxDeliveries = 0 } };
        var error = await Assert.ThrowsAsync<ArgumentException>(() => job.DefineAsync(bad));
        Assert.Contains("Receive.Source must not be empty", error.Message, StringComparison.Ordinal);
        Assert.Contains("Receive.Visibility must be between 1 second and 1 day", error.Message, StringComparison.Ordinal);
        Assert.Contains("Receive.MaxDeliveries must be between 1 and 1000", error.Message, StringComparison.Ordinal);

        var source = _cluster.Client.GetGrain<IItemSourceGrain>(ClusterFixture.NewJobName("src-bad"));
        var tooLong = new string('k', ItemRequest.MaxKeyLength + 1);
        var itemError = await Assert.ThrowsAsync<ArgumentException>(() => source.EnqueueAsync([new ItemRequest(), new ItemRequest { IdempotencyKey = tooLong }]));
        Assert.Contains("Item 1: An idempotency key must have 1 to 200 characters", itemError.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => source.EnqueueAsync([]));
        Assert.Equal(0, (await source.GetInfoAsync()).Ready);
    }

    [Fact]
    public async Task TheCliBindsAJobEnqueuesAndShowsTheSource()
    {
        var board = ItemBoard.New();
        var name = ClusterFixture.NewJobName("cli-items");
        var source = name + "-src";
        var define = await RunCliAsync("define", name, "--handler", ItemBoard.Handler, "--receive", source, "--max-workers", "2");
        Assert.True(define.Exit == 0, define.Error);
        await RunCliAsync("start", name);

        var args = board.Args(1).ToJson();
        var first = await RunCliAsync("enqueue", source, "--args", args, "--key", "k-1");
        var again = await RunCliAsync("enqueue", source, "--args", args, "--key", "k-1");
        Assert.Matches("^enqueued item [0-9]+$", first.Output.Trim());
        Assert.Equal($"duplicate of item {first.Output.Trim()["enqueued item ".Length..]}", again.Output.Trim());

        await Eventually.WaitUntilAsync(async () => (await _cluster.Client.GetGrain<IItemSourceGrain>(source).GetInfoAsync()).Acknowledged == 1, "the item acknowledged");
        var shown = await RunCliAsync("source", source, "--dead", "5");
        Assert.Matches(@"acknowledged\s+1", shown.Output);
        var status = await RunCliAsync("status", name);
        Assert.Contains($"source '{source}', 0 items held", status.Output, StringComparison.Ordinal);
        var bad = await RunCliAsync("enqueue", source, "--key", new string('k', 201));
        Assert.Equal(1, bad.Exit);
        Assert.Contains("An idempotency key must have 1 to 200 characters", bad.Error, StringComparison.Ordinal);
    }

    private async Task<(int Exit, string Output, string Error)> RunCliAsync(params string[] args)
    {
        var cli = new Work.Cli.WorkCli((_, _) => Task.FromResult(new Work.Client.WorkClient(_cluster.Client)));
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await cli.RunAsync(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }

    private async Task<(IConcurrentJobGrain Job, IItemSourceGrain Source)> BoundJobAsync(int maxWorkers, int historyLimit = 100, RetryPolicy? retry = null)
    {
        var name = ClusterFixture.NewJobName("items");
        var job = _cluster.Client.GetGrain<IConcurrentJobGrain>(name);
        var sourceName = name + "-src";
        await job.DefineAsync(new JobDefinition(new Job(ItemBoard.Handler))
        {
            MaxWorkers = maxWorkers,
            HistoryLimit = historyLimit,
            Retry = retry ?? RetryPolicy.None,
            Receive = new ReceiveBinding(sourceName) { PollInterval = TimeSpan.FromMilliseconds(50) },
        });
        await job.StartAsync();
        return (job, _cluster.Client.GetGrain<IItemSourceGrain>(sourceName));
    }
}

/// <summary>The test handler "item": records which items ran, how often and how many at once; may fail or block.</summary>
internal sealed class ItemBoard
{
    public const string Handler = "item";

    private static readonly ConcurrentDictionary<string, ItemBoard> s_boards = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _running;
    private int _max;

    private ItemBoard(string id) => Id = id;

    public string Id { get; }

    public ConcurrentDictionary<long, ItemRun> Runs { get; } = new();

    /// <summary>The runs by the number in their args (a stream item's id is its position in the stream).</summary>
    public ConcurrentDictionary<int, ItemRun> ByNumber { get; } = new();

    public int MaxConcurrent => Volatile.Read(ref _max);

    public static ItemBoard New() => s_boards.GetOrAdd(Guid.NewGuid().ToString("N"), id => new ItemBoard(id));

    public JobArgs Args(int n, bool fail = false, bool block = false) => JobArgs.From(new { run = Id, n, fail, block });

    public void Release() => _release.TrySetResult();

    public Task RunningAsync(int count) => Eventually.WaitUntilAsync(() => Task.FromResult(Volatile.Read(ref _running) >= count), $"{count} items running");

    public static async Task HandleAsync(JobContext context)
    {
        var board = s_boards[context.Args.Get<string>("run")];
        var item = (WorkItem)context.Item!;
        board.Runs.AddOrUpdate(item.Id, _ => new ItemRun(item, context.Args.Get<int>("n"), 1), (_, run) => run with { Count = run.Count + 1 });
        board.ByNumber.AddOrUpdate(context.Args.Get<int>("n"), n => new ItemRun(item, n, 1), (_, run) => run with { Count = run.Count + 1 });
        var now = Interlocked.Increment(ref board._running);
        var seen = Volatile.Read(ref board._max);
        while (now > seen && Interlocked.CompareExchange(ref board._max, now, seen) != seen)
        {
            seen = Volatile.Read(ref board._max);
        }

        try
        {
            if (context.Args.GetOrDefault("block", false))
            {
                await board._release.Task.WaitAsync(context.CancellationToken);
            }

            if (context.Args.GetOrDefault("fail", false))
            {
                throw new InvalidOperationException($"item {item.Id} failed on purpose");
            }
        }
        finally
        {
            Interlocked.Decrement(ref board._running);
        }
    }
}

/// <summary>An item as the handler saw it, with how many times it ran.</summary>
internal sealed record ItemRun(WorkItem Item, int Number, int Count);

/// <summary>
/// One cluster for all of a backend's item source tests. They run in the process collection, alone: the 10,000-item
/// test keeps both cores busy, and other tests' timings should not share them.
/// </summary>
public abstract class ItemCluster : IAsyncLifetime
{
    public TestCluster Cluster { get; private set; } = null!;

    public abstract short SiloCount { get; }

    public abstract int ItemCount { get; }

    public abstract int StreamItemCount { get; }

    protected abstract void Configure(TestClusterBuilder builder);

    public async Task InitializeAsync()
    {
        var builder = new TestClusterBuilder(SiloCount);
        builder.Options.ServiceId = "work-items-" + Guid.NewGuid().ToString("N")[..8];
        builder.Options.ConfigureFileLogging = false;
        Configure(builder);
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public virtual async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }
}

public sealed class SqliteItemCluster : ItemCluster
{
    private readonly string _folder = Directory.CreateTempSubdirectory("work-items-").FullName;

    public override short SiloCount => 1;

    public override int ItemCount => 2_000;

    public override int StreamItemCount => 2_000;

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    protected override void Configure(TestClusterBuilder builder)
    {
        builder.Properties["DatabasePath"] = Path.Combine(_folder, "work.db");
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        builder.AddClientBuilderConfigurator<ClientConfigurator>();
    }

    internal sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder silo)
        {
            silo.UseWorkSqlite(silo.Configuration["DatabasePath"]!).AddWorkMemoryStreams();
            ItemSourceTests.ConfigureWork(silo);
        }
    }

    internal sealed class ClientConfigurator : IClientBuilderConfigurator
    {
        public void Configure(IConfiguration configuration, IClientBuilder client) => client.AddWorkMemoryStreams();
    }
}

public sealed class PostgresItemCluster : ItemCluster
{
    public override short SiloCount => 3;

    public override int ItemCount => 10_000;

    public override int StreamItemCount => 10_000;

    protected override void Configure(TestClusterBuilder builder)
    {
        builder.Options.UseTestClusterMembership = false;
        builder.Options.ClusterId = "items-" + Guid.NewGuid().ToString("N")[..8];
        builder.Properties["ConnectionString"] = PostgresServer.Shared.CreateDatabase("items");
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        builder.AddClientBuilderConfigurator<ClientConfigurator>();
    }

    internal sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder silo)
        {
            var connectionString = silo.Configuration["ConnectionString"]!;
            silo.UseWorkPostgresClustering(connectionString).UseWorkPostgres(connectionString).AddWorkPostgresStreams(connectionString);
            ItemSourceTests.ConfigureWork(silo);
        }
    }

    internal sealed class ClientConfigurator : IClientBuilderConfigurator
    {
        public void Configure(IConfiguration configuration, IClientBuilder client) =>
            client.UseAdoNetClustering(o =>
            {
                o.Invariant = WorkPostgresSiloBuilderExtensions.PostgresInvariant;
                o.ConnectionString = configuration["ConnectionString"];
            }).AddWorkPostgresStreams(configuration["ConnectionString"]!);
    }
}

[Collection(ProcessCollection.Name)]
public sealed class SqliteItemSourceTests(SqliteItemCluster fixture) : ItemSourceTests(fixture), IClassFixture<SqliteItemCluster>;

[Collection(ProcessCollection.Name)]
public sealed class PostgresItemSourceTests(PostgresItemCluster fixture) : ItemSourceTests(fixture), IClassFixture<PostgresItemCluster>;

using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Work.Cluster;
using Work.Grains;
using Work.Hosting;
using Work.Scheduling;

namespace Work.Benchmarks.EndToEnd;

/// <summary>
/// Items per second from a source to a no-op handler and back, on one in-process silo: a job bound to the source with
/// MaxWorkers 8, against a plain consumer loop over the same table queue in the same run (claim 16, run them, acknowledge
/// them; the most a job of 8 workers holds at once). Both start with the items already enqueued.
/// </summary>
internal static class ItemThroughput
{
    private const int MaxWorkers = 8;

    public static async Task<int> RunAsync(string[] args)
    {
        var postgres = args.SkipWhile(a => a != "--postgres").Skip(1).FirstOrDefault();
        var folder = postgres is null ? Directory.CreateTempSubdirectory("work-bench-items-") : null;
        var items = args.Contains("--quick") ? 2_000 : 10_000;
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.UseOrleans(silo => (postgres is not null ? silo.UseWorkPostgres(postgres) : silo.UseWorkSqlite(Path.Combine(folder!.FullName, "work.db")))
            .UseLocalhostClustering(siloPort: 21112, gatewayPort: 40001)
            .AddWork(work => work.AddHandler(BenchHandlers.Noop, BenchHandlers.NoopAsync)));
        using var host = builder.Build();
        await host.StartAsync();
        var grains = host.Services.GetRequiredService<IGrainFactory>();
        var store = host.Services.GetRequiredKeyedService<ItemStore>(WorkClusterOptions.StorageName);
        var time = TimeProvider.System;
        Console.WriteLine($"Work.Orleans items, one in-process silo, {Environment.ProcessorCount} cores, {(postgres is not null ? "PostgreSQL" : "SQLite")}, {items:N0} items");

        // Unmeasured rounds first, so the JIT and the first activations are not in the figures. Sources of their own
        // each run: a database used before holds the items of earlier runs.
        var run = Guid.NewGuid().ToString("N")[..8];
        await PlainLoopAsync(grains, store, time, $"warm-plain-{run}", items / 10);
        await JobAsync(grains, $"warm-job-{run}", items / 10);
        var plain = await PlainLoopAsync(grains, store, time, $"plain-{run}", items);
        var job = await JobAsync(grains, $"job-{run}", items);
        Report("plain consumer loop (claim 16, run, ack)", $"{plain:N0} items/s", "baseline, same table queue");
        Report($"job bound to the source, MaxWorkers {MaxWorkers}", $"{job:N0} items/s", $"{job / plain:P1} of the plain loop");
        await host.StopAsync();
        folder?.Delete(recursive: true);
        return 0;
    }

    private static async Task EnqueueAsync(IGrainFactory grains, string source, int count)
    {
        var grain = grains.GetGrain<IItemSourceGrain>(source);
        for (var sent = 0; sent < count; sent += 1_000)
        {
            await grain.EnqueueAsync(Enumerable.Range(sent, Math.Min(1_000, count - sent)).Select(i => new ItemRequest { Args = JobArgs.From(new { n = i }) }).ToList());
        }
    }

    private static async Task<double> PlainLoopAsync(IGrainFactory grains, ItemStore store, TimeProvider time, string source, int count)
    {
        await EnqueueAsync(grains, source, count);
        var clock = Stopwatch.StartNew();
        var done = 0;
        while (done < count)
        {
            var now = time.GetUtcNow();
            var claimed = await store.ClaimAsync(source, 2 * MaxWorkers, 5, now, now + TimeSpan.FromMinutes(5));
            await Task.WhenAll(claimed.Select(_ => BenchHandlers.NoopAsync(null!)));
            await store.SettleAsync(source, "plain", claimed.ConvertAll(c => new HeldItem { Item = c.Item, Settlement = ItemSettlement.Acknowledge }), time.GetUtcNow());
            done += claimed.Count;
        }

        return count / clock.Elapsed.TotalSeconds;
    }

    private static async Task<double> JobAsync(IGrainFactory grains, string name, int count)
    {
        var source = name + "-src";
        var job = grains.GetGrain<IConcurrentJobGrain>(name);
        await job.DefineAsync(new JobDefinition(new Job(BenchHandlers.Noop)) { MaxWorkers = MaxWorkers, Receive = new ReceiveBinding(source) { PollInterval = TimeSpan.FromMilliseconds(10) } });
        await EnqueueAsync(grains, source, count);
        var items = grains.GetGrain<IItemSourceGrain>(source);
        // Timed from the start until every item ran (the handler's signal) and was acknowledged (asked again at once
        // until the job's last settle, a few milliseconds, has landed).
        var ran = BenchHandlers.WhenNoopsAsync(count);
        var clock = Stopwatch.StartNew();
        await job.StartAsync();
        await ran;
        while ((await items.GetInfoAsync()).Acknowledged < count)
        {
        }

        var rate = count / clock.Elapsed.TotalSeconds;
        await job.StopAsync();
        return rate;
    }

    private static void Report(string what, string figure, string note) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{what,-48} {figure,-24} {note}"));
}

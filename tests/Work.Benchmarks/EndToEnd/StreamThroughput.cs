using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Streams;
using Orleans.Streams.Core;
using Work.Cluster;
using Work.Hosting;

namespace Work.Benchmarks.EndToEnd;

/// <summary>
/// Items per second from an Orleans stream to a no-op handler, on one in-process silo: a job bound to its stream with
/// MaxWorkers 8, against a plain implicit-subscription consumer of the same provider in the same run (runs the
/// handler in its delivery call). Memory streams on SQLite; Orleans' ADO.NET streams with <c>--postgres CS</c>.
/// Timed from the first publish until the last item ran; items are published in batches of 50, as fast as the
/// provider takes them.
/// </summary>
internal static class StreamThroughput
{
    private const int MaxWorkers = 8;

    public static async Task<int> RunAsync(string[] args)
    {
        var postgres = args.SkipWhile(a => a != "--postgres").Skip(1).FirstOrDefault();
        var folder = postgres is null ? Directory.CreateTempSubdirectory("work-bench-streams-") : null;
        var items = args.Contains("--quick") ? 2_000 : 10_000;
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.UseOrleans(silo =>
        {
            if (postgres is not null)
            {
                silo.UseWorkPostgres(postgres).AddWorkPostgresStreams(postgres);
            }
            else
            {
                silo.UseWorkSqlite(Path.Combine(folder!.FullName, "work.db")).AddWorkMemoryStreams();
            }

            silo.UseLocalhostClustering(siloPort: 21113, gatewayPort: 40002)
                .AddWork(work => work.AddHandler(BenchHandlers.Noop, BenchHandlers.NoopAsync));
        });
        using var host = builder.Build();
        await host.StartAsync();
        var client = host.Services.GetRequiredService<IClusterClient>();
        var provider = client.GetStreamProvider(WorkStreams.ProviderName);
        Console.WriteLine($"Work.Orleans stream items, one in-process silo, {Environment.ProcessorCount} cores, {(postgres is not null ? "PostgreSQL (ADO.NET streams)" : "memory streams")}, {items:N0} items");

        var run = Guid.NewGuid().ToString("N")[..8];
        await PlainAsync(provider, $"warm-plain-{run}", items / 10);
        await JobAsync(client, provider, $"warm-job-{run}", items / 10);
        var plain = await PlainAsync(provider, $"plain-{run}", items);
        var job = await JobAsync(client, provider, $"job-{run}", items);
        Report("plain implicit consumer (runs in its delivery)", $"{plain:N0} items/s", "baseline, same provider");
        Report($"job bound to its stream, MaxWorkers {MaxWorkers}", $"{job:N0} items/s", $"{job / plain:P1} of the plain consumer");
        await host.StopAsync();
        folder?.Delete(recursive: true);
        return 0;
    }

    private static async Task PublishAsync(IAsyncStream<ItemRequest> stream, int count)
    {
        for (var sent = 0; sent < count; sent += 50)
        {
            await stream.OnNextBatchAsync(Enumerable.Range(sent, Math.Min(50, count - sent)).Select(i => new ItemRequest { Args = JobArgs.From(new { n = i }) }).ToList());
        }
    }

    private static async Task<double> PlainAsync(IStreamProvider provider, string key, int count)
    {
        var ran = BenchHandlers.WhenNoopsAsync(count);
        var clock = Stopwatch.StartNew();
        await PublishAsync(provider.GetStream<ItemRequest>(StreamId.Create(PlainStreamConsumer.Namespace, key)), count);
        await ran;
        return count / clock.Elapsed.TotalSeconds;
    }

    private static async Task<double> JobAsync(IClusterClient client, IStreamProvider provider, string name, int count)
    {
        var job = client.GetGrain<IConcurrentJobGrain>(name);
        await job.DefineAsync(new JobDefinition(new Job(BenchHandlers.Noop)) { MaxWorkers = MaxWorkers, Receive = ReceiveBinding.FromStream() });
        await job.StartAsync();
        var ran = BenchHandlers.WhenNoopsAsync(count);
        var clock = Stopwatch.StartNew();
        await PublishAsync(provider.JobStream(name), count);
        await ran;
        var rate = count / clock.Elapsed.TotalSeconds;
        await job.StopAsync();
        return rate;
    }

    private static void Report(string what, string figure, string note) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{what,-48} {figure,-24} {note}"));
}

/// <summary>The baseline consumer: an implicit subscription that runs the no-op handler in each delivery.</summary>
public interface IPlainStreamConsumer : IGrainWithStringKey;

[ImplicitStreamSubscription(Namespace)]
internal sealed class PlainStreamConsumer : Grain, IPlainStreamConsumer, IStreamSubscriptionObserver
{
    public const string Namespace = "bench.plain";

    public Task OnSubscribed(IStreamSubscriptionHandleFactory handleFactory) =>
        handleFactory.Create<ItemRequest>().ResumeAsync((_, _) => BenchHandlers.NoopAsync(null!));
}

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Work.Client;
using Work.Hosting;
using Work.Pipeline;

namespace Work.Benchmarks.EndToEnd;

/// <summary>
/// Many recurring jobs on one silo: N jobs every minute, their first runs spread over the minute, defined through
/// <see cref="WorkClient"/> with 256 calls in flight. Measures the define rate, tick lateness over one whole interval,
/// memory per job against the silo before any job was defined, and (on durable storage) how soon every job ticks again
/// after the silo restarts.
/// </summary>
internal static class RecurringScale
{
    private const string Tick = "bench-tick";
    private const int InFlight = 256;
    private static readonly TimeSpan s_interval = TimeSpan.FromMinutes(1);

    // Each job's ticks, and the lateness of every tick since the window opened.
    private static readonly ConcurrentDictionary<string, int> s_ticks = new(StringComparer.Ordinal);
    private static readonly ConcurrentQueue<double> s_lateness = new();
    private static volatile bool s_recording;
    private static int s_target = int.MaxValue;
    private static TaskCompletionSource s_allTicked = new();

    public static async Task<int> RunAsync(string[] args)
    {
        var count = int.Parse(args.SkipWhile(a => a != "--recurring").Skip(1).First(), CultureInfo.InvariantCulture);
        var storage = args.SkipWhile(a => a != "--storage").Skip(1).FirstOrDefault() ?? "memory";
        var postgres = args.SkipWhile(a => a != "--postgres").Skip(1).FirstOrDefault();
        if (storage == "postgres" && postgres is null)
        {
            Console.Error.WriteLine("--storage postgres needs --postgres CONNECTION-STRING");
            return 2;
        }

        var folder = Directory.CreateTempSubdirectory("work-bench-recurring-");
        try
        {
            var sqlitePath = Path.Combine(folder.FullName, "work.db");
            Console.WriteLine($"Work.Orleans {count:N0} recurring jobs (every {s_interval.TotalMinutes:0} min, spread over it), one silo, {storage} storage, {Environment.ProcessorCount} cores");
            var baseline = Memory();
            var host = await StartAsync(storage, sqlitePath, postgres);
            var grains = host.Services.GetRequiredService<IGrainFactory>();
            var client = new WorkClient(grains);
            var started = Memory();

            // Define and start every job, 256 calls in flight; first runs spread over one interval from 10 s on.
            var origin = DateTimeOffset.UtcNow.AddSeconds(10);
            var watch = Stopwatch.StartNew();
            var next = -1;
            var rates = new List<(int Done, double Seconds)>();
            async Task Lane()
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < count)
                {
                    var name = Name(i);
                    await client.DefineAsync(name, new JobDefinition(new Job(Tick))
                    {
                        Every = new EverySchedule { Interval = s_interval, FirstRun = origin + (s_interval * i / count) },
                        HistoryLimit = 1,
                    });
                    await client.StartAsync(name);
                    if ((i + 1) % (count / 10) == 0)
                    {
                        lock (rates)
                        {
                            rates.Add((i + 1, watch.Elapsed.TotalSeconds));
                        }
                    }
                }
            }

            using var progress = Environment.GetEnvironmentVariable("WORK_BENCH_DEBUG") is null ? null : Progress(() => Math.Min(count, Volatile.Read(ref next)));
            await Task.WhenAll(Enumerable.Range(0, InFlight).Select(_ => Task.Run(Lane)));
            var defined = watch.Elapsed;
            var tenth = rates.OrderBy(r => r.Done).ToList();
            var lastTenth = tenth.Count >= 2 ? (tenth[^1].Done - tenth[^2].Done) / (tenth[^1].Seconds - tenth[^2].Seconds) : 0;
            Report("define + start", $"{count:N0} in {defined.TotalSeconds:0.0} s, {count / defined.TotalSeconds:N0}/s", $"first tenth {tenth[0].Done / tenth[0].Seconds:N0}/s, last tenth {lastTenth:N0}/s (target: all in < 60 s)");

            // Every job ticks once, then one whole interval is measured.
            await WaitAllTickedAsync(count, TimeSpan.FromMinutes(3), "every job ticked once");
            s_lateness.Clear();
            var before = s_ticks.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
            s_recording = true;
            var process = Process.GetCurrentProcess();
            var cpu = process.TotalProcessorTime;
            await Task.Delay(s_interval);
            s_recording = false;
            var cpuPerTick = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds / Math.Max(1, s_lateness.Count);
            var missed = before.Count(p => s_ticks[p.Key] == p.Value);
            var lateness = s_lateness.ToList();
            lateness.Sort();
            double At(double q) => lateness.Count == 0 ? double.NaN : lateness[Math.Min(lateness.Count - 1, (int)Math.Ceiling(q * lateness.Count) - 1)];
            Report("tick lateness over one interval", $"p50 {At(0.5):0.0} ms, p99 {At(0.99):0.0} ms, max {lateness.LastOrDefault():0.0} ms", $"{lateness.Count:N0} ticks, {missed:N0} jobs without a tick, early {lateness.Count(l => l < 0)}, {cpuPerTick:0.00} ms CPU/tick (target p99 <= 100 ms)");

            var idle = Memory();
            var activations = (await grains.GetGrain<IManagementGrain>(0).GetSimpleGrainStatistics())
                .Where(s => s.GrainType.Contains("ConcurrentJobGrain", StringComparison.Ordinal)).Sum(s => s.ActivationCount);
            Report(
                "memory per job (idle between ticks)",
                $"{(idle.Heap - started.Heap) / (double)count:N0} B heap, {(idle.Process - started.Process) / (double)count:N0} B process",
                $"against the started silo ({started.Heap / 1e6:0} MB heap, {started.Process / 1e6:0} MB process; {baseline.Process / 1e6:0} MB before it); {activations:N0} job activations, {host.Services.GetRequiredService<Scheduling.SleepingJobs>().Count:N0} asleep (target <= 2 KB)");

            if (Environment.GetEnvironmentVariable("WORK_BENCH_DEBUG") is not null)
            {
                var detailed = await grains.GetGrain<IManagementGrain>(0).GetDetailedGrainStatistics();
                var sleepers = host.Services.GetRequiredService<Scheduling.SleepingJobs>();
                foreach (var grain in detailed.Where(d => d.GrainType.Contains("ConcurrentJobGrain", StringComparison.Ordinal)).Take(8))
                {
                    var name = grain.GrainId.Key.ToString()!;
                    var info = await client.GetInfoAsync(name);
                    Console.WriteLine($"{name}: asleep until {sleepers.WakeUpOf(name):O}, now {DateTimeOffset.UtcNow:O}, next due {string.Join(",", info.NextDueTimes.Take(2).Select(t => t.ToString("O", CultureInfo.InvariantCulture)))}, in flight {info.RunningWorkers}, pending {info.Pending}");
                }
            }

            await host.StopAsync();
            host.Dispose();
            if (storage == "memory")
            {
                return 0;
            }

            // The silo starts again on the same storage; nothing calls the jobs.
            s_ticks.Clear();
            watch.Restart();
            host = await StartAsync(storage, sqlitePath, postgres);
            await WaitAllTickedAsync(count, TimeSpan.FromMinutes(3), "every job ticked after the restart");
            Report("after a restart, every job ticked again", $"in {watch.Elapsed.TotalSeconds:0.0} s", "target <= one interval (60 s)");
            await host.StopAsync();
            host.Dispose();
            return 0;
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            folder.Delete(recursive: true);
        }
    }

    private static string Name(int i) => "bench-recurring-" + i.ToString("D6", CultureInfo.InvariantCulture);

    private static async Task<IHost> StartAsync(string storage, string sqlitePath, string? postgres)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddConsole().SetMinimumLevel(LogLevel.Warning);
        builder.UseOrleans(silo => (storage switch
            {
                "sqlite" => silo.UseWorkSqlite(sqlitePath),
                "postgres" => silo.UseWorkPostgres(postgres!),
                _ => silo.UseWorkMemoryStorage(),
            })
            .UseLocalhostClustering(siloPort: 21112, gatewayPort: 40001)
            .AddWork(work => work.AddHandler(Tick, TickAsync)));
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    private static Task TickAsync(JobContext context)
    {
        if (s_ticks.AddOrUpdate(context.JobName ?? "", 1, static (_, n) => n + 1) == 1 && s_ticks.Count >= Volatile.Read(ref s_target))
        {
            Volatile.Read(ref s_allTicked).TrySetResult();
        }

        if (s_recording)
        {
            s_lateness.Enqueue((DateTimeOffset.UtcNow - context.ScheduledAt).TotalMilliseconds);
        }

        return Task.CompletedTask;
    }

    // Completes when the tick handler has seen every job once since s_ticks was cleared.
    private static async Task WaitAllTickedAsync(int count, TimeSpan bound, string what)
    {
        var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref s_allTicked, all);
        Volatile.Write(ref s_target, count);
        if (s_ticks.Count >= count)
        {
            all.TrySetResult();
        }

        try
        {
            await all.Task.WaitAsync(bound);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"Not within {bound}: {what} ({s_ticks.Count:N0} jobs ticked).");
        }
    }

    // Every 5 s while defining: jobs taken, this process's CPU, and the thread pool's threads and queue.
    private static Timer Progress(Func<int> taken)
    {
        var last = (Taken: 0, Cpu: TimeSpan.Zero, At: Stopwatch.GetTimestamp());
        return new Timer(_ =>
        {
            using var process = Process.GetCurrentProcess();
            var now = (Taken: taken(), Cpu: process.TotalProcessorTime, At: Stopwatch.GetTimestamp());
            var seconds = Stopwatch.GetElapsedTime(last.At, now.At).TotalSeconds;
            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"  {now.Taken,7:N0} taken, {(now.Taken - last.Taken) / seconds,6:N0}/s, CPU {(now.Cpu - last.Cpu).TotalSeconds / seconds:0.00} cores, pool {ThreadPool.ThreadCount} threads, {ThreadPool.PendingWorkItemCount} queued, gen2 {GC.CollectionCount(2)}"));
            last = now;
        }, null, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(5));
    }

    private static (long Heap, long Process) Memory()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        using var process = Process.GetCurrentProcess();
        return (GC.GetTotalMemory(forceFullCollection: true), process.WorkingSet64);
    }

    private static void Report(string what, string figure, string note) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{what,-40} {figure,-52} {note}"));
}

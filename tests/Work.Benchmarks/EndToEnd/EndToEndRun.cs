using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Work.Client;
using Work.Cluster;
using Work.Hosting;

namespace Work.Benchmarks.EndToEnd;

/// <summary>
/// The end-to-end measurements on one in-process silo, all in one run so the ratios compare like with like:
/// raw grain calls, performs through the job grain, PerformIn lateness, PerformEvery jitter and drift, and the
/// MaxWorkers cap with its wall time against the ideal.
/// </summary>
internal static partial class EndToEndRun
{
    private const int Calls = 100_000;
    private const int Outstanding = 1_000;
    private const int WarmUpRounds = 4;
    private const int DueWarmUpRounds = 6;
    private const int MeasuredRounds = 5;
    private const string ThroughputJob = "bench-throughput";

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Contains("--recurring"))
        {
            return await RecurringScale.RunAsync(args);
        }

        if (args.Contains("--items") && args.Contains("--stream"))
        {
            return await StreamThroughput.RunAsync(args);
        }

        if (args.Contains("--items"))
        {
            return await ItemThroughput.RunAsync(args);
        }

        if (args.Contains("--silos"))
        {
            return await MultiSiloCap.RunAsync();
        }

        var quick = args.Contains("--quick");
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        // --postgres CS keeps job state and reminders in PostgreSQL (durable figures); memory storage otherwise.
        var postgres = args.SkipWhile(a => a != "--postgres").Skip(1).FirstOrDefault();

        // --sqlite keeps them in a SQLite file in a fresh temporary folder (the embedded default's storage).
        var sqliteFolder = args.Contains("--sqlite") ? Directory.CreateTempSubdirectory("work-bench-") : null;
        builder.UseOrleans(silo => (postgres is not null ? silo.UseWorkPostgres(postgres)
                : sqliteFolder is not null ? silo.UseWorkSqlite(Path.Combine(sqliteFolder.FullName, "work.db"))
                : silo.UseWorkMemoryStorage())
            .UseLocalhostClustering(siloPort: 21111, gatewayPort: 40000)
            .AddWork(work => work.AddHandler(BenchHandlers.Noop, BenchHandlers.NoopAsync).AddHandler(BenchHandlers.Sleep, BenchHandlers.SleepAsync)));
        using var host = builder.Build();
        await host.StartAsync();
        var grains = host.Services.GetRequiredService<IGrainFactory>();

        Console.WriteLine($"Work.Orleans end-to-end, one in-process silo, {Environment.ProcessorCount} cores, {(quick ? "quick" : "full")} run, {(postgres is not null ? "PostgreSQL" : sqliteFolder is not null ? "SQLite" : "memory")} storage");
        var calls = quick ? Calls / 10 : Calls;

        if (args.Contains("--durable"))
        {
            if (postgres is null && sqliteFolder is null)
            {
                Console.Error.WriteLine("--durable needs --postgres CONNECTION-STRING (a server with fsync on) or --sqlite");
                return 2;
            }

            await DurableOneAtATimeAsync(grains, postgres is not null ? new PostgresInserts(postgres) : new SqliteInserts(Path.Combine(sqliteFolder!.FullName, "baseline.db")));
            await host.StopAsync();
            return 0;
        }

        if (args.Contains("--lateness"))
        {
            await LatenessAsync(grains, 100);
            var only = await LatenessAsync(grains, 1_000);
            Report("3. PerformIn(2 s) lateness", $"p50 {only.P50:0.00} ms, p99 {only.P99:0.00} ms, max {only.Max:0.00} ms", $"early: {only.Early} (target p99 <= 10 ms, never early)");
            await host.StopAsync();
            return 0;
        }

        if (args.Contains("--cap"))
        {
            // The first rounds in the process are reported apart (cold: the JIT compiles and then recompiles the hot
            // paths with what it learned over the first several rounds); then DueWarmUpRounds in all of each
            // width; then --rounds N measures each width N times, taking turns, and gives the medians.
            var rounds = int.Parse(args.SkipWhile(a => a != "--rounds").Skip(1).FirstOrDefault() ?? "1", CultureInfo.InvariantCulture);
            var cold = (Narrow: await DueAtOnceAsync(grains, 16, report: false), Wide: await DueAtOnceAsync(grains, 1_000, report: false));
            Report("6. cold: first round, MaxWorkers 16", $"p99 {cold.Narrow.P99:0.00} ms, first {cold.Narrow.First:0.00} ms", $"SemaphoreSlim(16) p99 {cold.Narrow.BaselineP99:0.00} ms");
            Report("   cold: first round, MaxWorkers 1000", $"p99 {cold.Wide.P99:0.00} ms, first {cold.Wide.First:0.00} ms", $"SemaphoreSlim(1000) p99 {cold.Wide.BaselineP99:0.00} ms");
            for (var round = 1; round < DueWarmUpRounds; round++)
            {
                await DueAtOnceAsync(grains, 16, report: false);
                await DueAtOnceAsync(grains, 1_000, report: false);
            }

            var narrow = new List<DueAtOnce>();
            var wide = new List<DueAtOnce>();
            for (var round = 0; round < rounds; round++)
            {
                narrow.Add(await DueAtOnceAsync(grains, 16, report: rounds == 1));
                wide.Add(await DueAtOnceAsync(grains, 1_000, report: rounds == 1));
            }

            if (rounds > 1)
            {
                ReportMedian(16, narrow);
                ReportMedian(1_000, wide);
            }

            await host.StopAsync();
            return 0;
        }

        // Raw calls and performs take turns, first unmeasured while the JIT settles, then measured: each figure is the
        // median of its rounds, so the ratio compares the two paths in the same state of the process.
        var client = new WorkClient(grains);
        var direct = grains.GetGrain<IConcurrentJobGrain>(ThroughputJob);
        await DefineAsync(direct, BenchHandlers.Noop, 64);
        var raw = new List<Rate>();
        var performs = new List<Rate>();
        var oneByOne = new List<Rate>();
        var noop = grains.GetGrain<INoopGrain>(0);
        for (var round = -WarmUpRounds; round < MeasuredRounds; round++)
        {
            var rates = (
                Raw: await MeasureAsync(calls, _ => noop.NoopAsync()),
                Performs: await PerformsAsync(calls, _ => client.EnqueueAsync(ThroughputJob)),
                OneByOne: await PerformsAsync(calls, _ => direct.EnqueueAsync()));
            if (round >= 0)
            {
                raw.Add(rates.Raw);
                performs.Add(rates.Performs);
                oneByOne.Add(rates.OneByOne);
            }
        }

        var baseline = Rate.Median(raw);
        var accepted = Rate.Median(performs);
        var single = Rate.Median(oneByOne);
        Report("1. raw [StatelessWorker] no-op calls", $"{baseline.PerSecond:N0}/s, {baseline.BytesPerCall:N0} B/call", $"baseline, median of {MeasuredRounds} rounds");
        Report("2. async performs accepted (WorkClient)", $"{accepted.PerSecond:N0}/s, {accepted.BytesPerCall:N0} B/perform", $"{accepted.PerSecond / baseline.PerSecond:P1} of raw (target >= 60%)");
        Report("   ...and executed", $"{accepted.ExecutedPerSecond:N0}/s", $"{accepted.ExecutedPerSecond / baseline.PerSecond:P1} of raw");
        Report("   one EnqueueAsync call per perform", $"{single.PerSecond:N0}/s, {single.BytesPerCall:N0} B/perform", $"{single.PerSecond / baseline.PerSecond:P1} of raw, executed {single.ExecutedPerSecond:N0}/s");
        if (args.Contains("--throughput"))
        {
            await host.StopAsync();
            return 0;
        }

        var lateness = await LatenessAsync(grains, quick ? 200 : 1_000);
        Report("3. PerformIn(2 s) lateness", $"p50 {lateness.P50:0.00} ms, p99 {lateness.P99:0.00} ms, max {lateness.Max:0.00} ms", $"early: {lateness.Early} (target p99 <= 10 ms, never early)");

        var jitter = await JitterAsync(grains, quick ? 5 : 30);
        Report("4. PerformEvery(1 s) jitter", $"p50 {jitter.P50:0.00} ms, p99 {jitter.P99:0.00} ms, max {jitter.Max:0.00} ms", $"drift {jitter.DriftMs:0.000} ms over {jitter.Runs} runs (target p99 <= 6 ms, no drift)");

        var cap = await CapAsync(grains, quick ? 200 : 1_000);
        Report("5. 50 ms jobs, MaxWorkers 8", $"max observed {cap.Max}", $"wall/ideal {cap.Ratio:0.000} (target exactly 8, <= 1.06)");

        await DueAtOnceAsync(grains, 16);
        await DueAtOnceAsync(grains, 1_000);

        await host.StopAsync();
        return 0;
    }

    private static void Report(string what, string figure, string note) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{what,-40} {figure,-44} {note}"));

    private static Task DefineAsync(IConcurrentJobGrain job, string handler, int maxWorkers, int historyLimit = 100) =>
        job.DefineAsync(new JobDefinition(new Job(handler)) { MaxWorkers = maxWorkers, HistoryLimit = historyLimit })
            .ContinueWith(_ => job.StartAsync(), TaskScheduler.Default).Unwrap();

    private static async Task<Rate> MeasureAsync(int count, Func<int, Task> call)
    {
        var allocated = GC.GetTotalAllocatedBytes();
        var watch = Stopwatch.StartNew();
        await ForEachOutstandingAsync(count, call);
        var elapsed = watch.Elapsed;
        return new Rate(count / elapsed.TotalSeconds, (GC.GetTotalAllocatedBytes() - allocated) / count, 0);
    }

    // Accepted: until the last perform returned its id. Executed: until the last of them ran.
    private static async Task<Rate> PerformsAsync(int count, Func<int, Task> perform)
    {
        var executed = BenchHandlers.WhenNoopsAsync(count);
        var allocated = GC.GetTotalAllocatedBytes();
        var watch = Stopwatch.StartNew();
        await ForEachOutstandingAsync(count, perform);
        var accepted = watch.Elapsed;
        await executed;
        return new Rate(count / accepted.TotalSeconds, (GC.GetTotalAllocatedBytes() - allocated) / count, count / watch.Elapsed.TotalSeconds);
    }

    private static async Task ForEachOutstandingAsync(int count, Func<int, Task> call)
    {
        var next = -1;
        async Task Lane()
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                await call(i);
            }
        }

        await Task.WhenAll(Enumerable.Range(0, Outstanding).Select(_ => Task.Run(Lane)));
    }

    private static async Task<Percentiles> LatenessAsync(IGrainFactory grains, int count)
    {
        // Every run has a worker (MaxWorkers = count): this measures the scheduler's lateness, not queueing behind a cap.
        var job = grains.GetGrain<IConcurrentJobGrain>("bench-lateness");
        await DefineAsync(job, BenchHandlers.Noop, count);
        var ids = await Task.WhenAll(Enumerable.Range(0, count).Select(_ => job.PerformInAsync(TimeSpan.FromSeconds(2))));
        var done = await Task.WhenAll(ids.Select(id => WaitAsync(job, id)));
        if (Environment.GetEnvironmentVariable("WORK_BENCH_DEBUG") is not null)
        {
            var first = done.Min(e => e.ScheduledAt);
            Console.WriteLine($"due spread {(done.Max(e => e.ScheduledAt) - first).TotalMilliseconds} ms, started {(done.Min(e => e.StartedAt) - first).TotalMilliseconds}..{(done.Max(e => e.StartedAt) - first).TotalMilliseconds} ms");
        }

        return Percentiles.Of(done.Select(e => (e.StartedAt - e.ScheduledAt).TotalMilliseconds).ToList());
    }

    // Waits while the execution is pending, so the result comes from the waiter, not from a long history.
    private static async Task<JobExecution> WaitAsync(IConcurrentJobGrain job, string id)
    {
        JobExecution? execution;
        while ((execution = await job.WaitAsync(id, TimeSpan.FromSeconds(10))) is null)
        {
        }

        return execution;
    }

    private static async Task<Percentiles> JitterAsync(IGrainFactory grains, int seconds)
    {
        var job = grains.GetGrain<IConcurrentJobGrain>("bench-jitter");
        await DefineAsync(job, BenchHandlers.Noop, 1, historyLimit: 1_000);
        // One run at start and one a second for the window: wait for the runs themselves, not for the clock.
        var ran = BenchHandlers.WhenNoopsAsync(seconds + 1);
        await job.PerformEveryAsync(TimeSpan.FromSeconds(1), sync: true);
        await ran;
        await job.StopAsync();
        var runs = (await job.GetHistoryAsync(1_000)).Reverse().ToList();
        var result = Percentiles.Of(runs.Select(e => (e.StartedAt - e.ScheduledAt).TotalMilliseconds).ToList());
        var span = runs[^1].ScheduledAt - runs[0].ScheduledAt;
        return result with { DriftMs = (span - TimeSpan.FromSeconds(runs.Count - 1)).TotalMilliseconds, Runs = runs.Count };
    }

    private static async Task<(int Max, double Ratio)> CapAsync(IGrainFactory grains, int count)
    {
        var job = grains.GetGrain<IConcurrentJobGrain>("bench-cap");
        await DefineAsync(job, BenchHandlers.Sleep, 8);
        BenchHandlers.Reset();
        var args = JobArgs.From(new { ms = 50 });
        var watch = Stopwatch.StartNew();
        var ids = await Task.WhenAll(Enumerable.Range(0, count).Select(_ => job.EnqueueAsync(args)));
        await Task.WhenAll(ids.Select(id => WaitAsync(job, id)));

        var ideal = TimeSpan.FromMilliseconds(50.0 * count / 8);
        return (BenchHandlers.MaxRunning, watch.Elapsed / ideal);
    }

    // 1,000 no-op runs due at the same moment under a cap, against a SemaphoreSlim of the same width over Task.Run
    // released at the same moment in this process: lateness is each start minus the due time.
    private static async Task<DueAtOnce> DueAtOnceAsync(IGrainFactory grains, int maxWorkers, bool report = true)
    {
        const int Count = 1_000;
        var job = grains.GetGrain<IConcurrentJobGrain>($"bench-due-{maxWorkers}");
        await DefineAsync(job, BenchHandlers.Noop, maxWorkers, historyLimit: JobDefinition.MaxHistoryLimit);
        var due = DateTimeOffset.UtcNow.AddSeconds(1);
        var ran = BenchHandlers.WhenNoopsAsync(Count);
        var ids = await job.PerformManyAsync(Enumerable.Range(0, Count).Select(_ => PerformRequest.AtTime(due)).ToList());
        await ran;
        var done = await Task.WhenAll(ids.Select(id => WaitAsync(job, id)));
        var lateness = Percentiles.Of(done.Select(e => (e.StartedAt - e.ScheduledAt).TotalMilliseconds).ToList());
        if (Environment.GetEnvironmentVariable("WORK_BENCH_DEBUG") is not null)
        {
            var sorted = done.Select(e => (e.StartedAt - e.ScheduledAt).TotalMilliseconds).Order().ToList();
            var gaps = sorted.Zip(sorted.Skip(1), (a, b) => b - a).Select((g, i) => (g, i)).OrderByDescending(x => x.g).Take(3);
            Console.WriteLine($"MW{maxWorkers}: " + string.Join(" ", new[] { 0, 100, 250, 500, 750, 900, 990, 999 }.Select(i => sorted[i].ToString("0.00", CultureInfo.InvariantCulture))) + " gaps " + string.Join(" ", gaps.Select(x => $"{x.g:0.00}@{x.i}")) + " workers " + string.Join(",", done.GroupBy(e => e.Worker).Select(g => g.Count())));
        }

        var baseline = await SemaphoreBaselineAsync(Count, maxWorkers);
        var result = new DueAtOnce(lateness.P99, done.Min(e => (e.StartedAt - e.ScheduledAt).TotalMilliseconds), baseline.P99, lateness.Early);
        if (report)
        {
            Report(
                $"6. {Count:N0} due at once, MaxWorkers {maxWorkers}",
                $"p99 {result.P99:0.00} ms, first {result.First:0.00} ms",
                $"SemaphoreSlim({maxWorkers}) p99 {result.BaselineP99:0.00} ms, ratio {result.P99 / Math.Max(result.BaselineP99, 0.001):0.0}, early {result.Early}");
        }

        return result;
    }

    private static void ReportMedian(int maxWorkers, List<DueAtOnce> rounds)
    {
        static double Median(IEnumerable<double> values) => values.Order().ElementAt(values.Count() / 2);
        var p99 = Median(rounds.Select(r => r.P99));
        var baseline = Median(rounds.Select(r => r.BaselineP99));
        Report(
            $"6. 1,000 due at once, MaxWorkers {maxWorkers}",
            $"p99 {p99:0.00} ms, first {Median(rounds.Select(r => r.First)):0.00} ms (worst {rounds.Max(r => r.First):0.00})",
            $"SemaphoreSlim({maxWorkers}) p99 {baseline:0.00} ms, ratio {p99 / Math.Max(baseline, 0.001):0.0}, early {rounds.Sum(r => r.Early)}; medians of {rounds.Count}");
    }

    /// <summary>One round of runs due at once: lateness p99 and first start, the baseline's p99, and runs started early.</summary>
    private sealed record DueAtOnce(double P99, double First, double BaselineP99, int Early);

    private static async Task<Percentiles> SemaphoreBaselineAsync(int count, int width)
    {
        using var slots = new SemaphoreSlim(width);
        var due = Stopwatch.GetTimestamp() + Stopwatch.Frequency;
        while (Stopwatch.GetTimestamp() < due)
        {
            await Task.Delay(1);
        }

        var released = Stopwatch.GetTimestamp();
        var starts = await Task.WhenAll(Enumerable.Range(0, count).Select(_ => Task.Run(async () =>
        {
            await slots.WaitAsync();
            try
            {
                var started = Stopwatch.GetElapsedTime(released).TotalMilliseconds;
                await BenchHandlers.NoopAsync(null!);
                return started;
            }
            finally
            {
                slots.Release();
            }
        })));
        return Percentiles.Of([.. starts]);
    }

    /// <summary>A throughput, the bytes allocated per call while it ran, and for performs how fast they were executed.</summary>
    private sealed record Rate(double PerSecond, long BytesPerCall, double ExecutedPerSecond)
    {
        public static Rate Median(List<Rate> rates) => new(
            MedianOf(rates.Select(r => r.PerSecond)), (long)MedianOf(rates.Select(r => (double)r.BytesPerCall)), MedianOf(rates.Select(r => r.ExecutedPerSecond)));

        private static double MedianOf(IEnumerable<double> values) => values.Order().ElementAt(values.Count() / 2);
    }

    private sealed record Percentiles(double P50, double P99, double Max, int Early)
    {
        public double DriftMs { get; init; }

        public int Runs { get; init; }

        public static Percentiles Of(List<double> values)
        {
            values.Sort();
            double At(double q) => values[Math.Min(values.Count - 1, (int)Math.Ceiling(q * values.Count) - 1)];
            return new Percentiles(At(0.50), At(0.99), values[^1], values.Count(v => v < 0));
        }
    }
}

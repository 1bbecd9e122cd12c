using System.Diagnostics;
using System.Globalization;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Work.Cluster;
using Work.Hosting;

namespace Work.Benchmarks.EndToEnd;

/// <summary>
/// 200 runs of 20 ms under MaxWorkers 4 on three silos in this process (loopback, memory storage): wall time from the
/// first perform to the last run's end against the ideal (200 × 20 ms / 4), the most runs seen at once across the
/// silos, and how many silos ran them. One unmeasured round, then the median of three.
/// </summary>
internal static class MultiSiloCap
{
    private const int Silos = 3;
    private const int Runs = 200;
    private const int RunMs = 20;
    private const int MaxWorkers = 4;

    public static async Task<int> RunAsync()
    {
        var hosts = new List<IHost>();
        try
        {
            for (var i = 0; i < Silos; i++)
            {
                var builder = Host.CreateApplicationBuilder();
                builder.Logging.ClearProviders();
                var port = 22111 + i;
                builder.UseOrleans(silo => silo.UseWorkMemoryStorage()
                    .UseLocalhostClustering(siloPort: port, gatewayPort: 41000 + i, primarySiloEndpoint: new IPEndPoint(IPAddress.Loopback, 22111))
                    .AddWork(work => work.AddHandler(BenchHandlers.Sleep, BenchHandlers.SleepAsync)));
                var host = builder.Build();
                await host.StartAsync();
                hosts.Add(host);
            }

            var membership = hosts[0].Services.GetRequiredService<IClusterMembershipService>();
            while (membership.CurrentSnapshot.Members.Values.Count(m => m.Status == SiloStatus.Active) < Silos)
            {
                await membership.MembershipUpdates.GetAsyncEnumerator().MoveNextAsync();
            }

            var grains = hosts[0].Services.GetRequiredService<IGrainFactory>();
            Console.WriteLine($"Work.Orleans, {Silos} in-process silos, {Environment.ProcessorCount} cores, memory storage");
            var rounds = new List<(double Ratio, int Max, int Silos)>();
            for (var round = -1; round < 3; round++)
            {
                var result = await RoundAsync(grains, $"bench-silos-{round + 1}");
                if (round >= 0)
                {
                    rounds.Add(result);
                }
            }

            var median = rounds.OrderBy(r => r.Ratio).ElementAt(1);
            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"{$"7. {Runs} x {RunMs} ms, MaxWorkers {MaxWorkers}, {Silos} silos",-40} {$"wall/ideal {median.Ratio:0.000} (rounds {string.Join(", ", rounds.Select(r => r.Ratio.ToString("0.000", CultureInfo.InvariantCulture)))})",-44} max observed {median.Max}, ran on {median.Silos} silos (target <= 1.10, exactly {MaxWorkers})"));
            return 0;
        }
        finally
        {
            foreach (var host in Enumerable.Reverse(hosts))
            {
                await host.StopAsync();
                host.Dispose();
            }
        }
    }

    private static async Task<(double Ratio, int Max, int Silos)> RoundAsync(IGrainFactory grains, string name)
    {
        var job = grains.GetGrain<IConcurrentJobGrain>(name);
        await job.DefineAsync(new JobDefinition(new Job(BenchHandlers.Sleep) { Args = JobArgs.From(new { ms = RunMs }) }) { MaxWorkers = MaxWorkers, HistoryLimit = 1_000 });
        await job.StartAsync();
        BenchHandlers.Reset();
        var watch = Stopwatch.StartNew();
        var ids = await job.PerformManyAsync(Enumerable.Range(0, Runs).Select(_ => PerformRequest.Now()).ToList());
        var done = await Task.WhenAll(ids.Select(async id =>
        {
            JobExecution? execution;
            while ((execution = await job.WaitAsync(id, TimeSpan.FromSeconds(10))) is null)
            {
            }

            return execution;
        }));
        var wall = done.Max(e => e.FinishedAt) - (DateTimeOffset.UtcNow - watch.Elapsed);
        var ideal = TimeSpan.FromMilliseconds((double)Runs * RunMs / MaxWorkers);
        return (wall / ideal, BenchHandlers.MaxRunning, done.Select(e => e.Worker).Distinct().Count());
    }
}

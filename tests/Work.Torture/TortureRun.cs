using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Work.Client;

namespace Work.Torture;

/// <summary>The torture run: the cluster, the load, the killer, and the count.</summary>
internal sealed class TortureRun(TimeSpan duration, TimeSpan killEvery, string? postgres) : IAsyncDisposable
{
    private const int Silos = 3;
    private const int RecurringJobs = 20;
    private static readonly string[] s_nowJobs = ["now-0", "now-1", "now-2", "now-3"];
    private static readonly string[] s_laterJobs = ["later-0", "later-1"];

    private readonly string _root = RepositoryRoot();
    private readonly string _clusterId = "torture-" + Guid.NewGuid().ToString("N")[..8];
    private readonly Random _random = new();
    private readonly ConcurrentDictionary<string, string> _acknowledged = new(StringComparer.Ordinal);
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<SiloRun> _silos = [];
    private string? _pgDir;
    private IHost? _client;
    private int _refused;
    private int _kills;

    public async Task<TortureReport> RunAsync()
    {
        var connectionString = postgres ?? StartPostgres();
        var ports = FreePorts(2 * Silos);
        for (var i = 0; i < Silos; i++)
        {
            _silos.Add(SiloRun.Start(_root, connectionString, _clusterId, ports[2 * i], ports[(2 * i) + 1]));
        }

        var client = await ConnectAsync(ports.Where((_, i) => i % 2 == 1).ToArray());
        Log("cluster up");
        await DefineAsync(client);
        Log("jobs defined");

        using var stop = new CancellationTokenSource(duration);
        var load = Task.WhenAll(
            LoadAsync(client, later: false, stop.Token),
            LoadAsync(client, later: false, stop.Token),
            LoadAsync(client, later: true, stop.Token));
        await KillAsync(stop.Token);
        await load;
        Log($"load stopped: {_acknowledged.Count} executions acknowledged, {_refused} performs refused, {_kills} silos killed");

        // Every acknowledged execution finishes; then the histories and the silos' logs are counted by id.
        var waits = _acknowledged.Select(async pair =>
        {
            using var bound = new CancellationTokenSource(TimeSpan.FromMinutes(5));
            try
            {
                return (pair.Key, (await client.WaitAsync(pair.Value, pair.Key, bound.Token)).Status);
            }
            catch (Exception ex) when (ex is KeyNotFoundException or OperationCanceledException)
            {
                return (pair.Key, (JobStatus?)null);
            }
        });
        var outcomes = await Task.WhenAll(waits);
        Log("every acknowledged execution answered");
        var histories = new List<JobExecution>();
        foreach (var job in s_nowJobs.Concat(s_laterJobs))
        {
            histories.AddRange(await client.GetHistoryAsync(job, JobDefinition.MaxHistoryLimit));
        }

        var successes = histories.Where(e => e.Status == JobStatus.Success).GroupBy(e => e.ExecutionId).ToDictionary(g => g.Key, g => g.Count());
        var runs = _silos.SelectMany(s => s.Executions).Where(e => !e.Job.StartsWith("tick-", StringComparison.Ordinal)).GroupBy(e => e.ExecutionId).ToDictionary(g => g.Key, g => g.Count());
        return new TortureReport(
            Duration: duration,
            Kills: _kills,
            Acknowledged: _acknowledged.Count,
            Refused: _refused,
            Lost: outcomes.Count(o => o.Item2 is null || !successes.ContainsKey(o.Key)),
            DuplicateSuccesses: successes.Count(s => s.Value > 1),
            RunMoreThanOnce: _acknowledged.Keys.Count(id => runs.GetValueOrDefault(id) > 1),
            NeverRanPerLogs: _acknowledged.Keys.Count(id => !runs.ContainsKey(id)));
    }

    public async ValueTask DisposeAsync()
    {
        _client?.Dispose();
        foreach (var silo in _silos)
        {
            silo.Kill();
        }

        if (_pgDir is not null)
        {
            Bash($"deploy/postgres/throwaway.sh stop '{_pgDir}/pg' >/dev/null 2>&1; rm -rf '{_pgDir}'");
        }

        await Task.CompletedTask;
    }

    private void Log(string what) => Console.WriteLine($"{_clock.Elapsed.TotalSeconds,7:0.0} s  {what}");

    private static async Task DefineAsync(WorkClient client)
    {
        foreach (var job in s_nowJobs)
        {
            await client.DefineAsync(job, new JobDefinition(new Job("sleep") { Args = JobArgs.Empty.With("ms", 20) }) { MaxWorkers = 8, HistoryLimit = JobDefinition.MaxHistoryLimit });
            await client.StartAsync(job);
        }

        foreach (var job in s_laterJobs)
        {
            await client.DefineAsync(job, new JobDefinition(new Job("echo")) { MaxWorkers = 16, HistoryLimit = JobDefinition.MaxHistoryLimit });
            await client.StartAsync(job);
        }

        for (var i = 0; i < RecurringJobs; i++)
        {
            var name = $"tick-{i:D2}";
            await client.DefineAsync(name, new JobDefinition(new Job("echo")) { Every = new EverySchedule { Interval = TimeSpan.FromSeconds(1), Sync = true } });
            await client.StartAsync(name);
        }
    }

    // Performs in small batches, a few per second per loop; a perform the cluster refuses (a silo dying) is not counted.
    private async Task LoadAsync(WorkClient client, bool later, CancellationToken stop)
    {
        var jobs = later ? s_laterJobs : s_nowJobs;
        while (!stop.IsCancellationRequested)
        {
            var job = jobs[_random.Next(jobs.Length)];
            try
            {
                var ids = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => later
                    ? client.PerformInAsync(job, TimeSpan.FromMilliseconds(_random.Next(500, 8_000)))
                    : client.EnqueueAsync(job)));
                foreach (var id in ids)
                {
                    _acknowledged[id] = job;
                }
            }
            catch (Exception ex) when (WorkClient.IsTransient(ex) || ex is JobStorageException)
            {
                Interlocked.Add(ref _refused, 10);
            }

            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200), stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    // SIGKILLs a random silo every few seconds and starts it again on the same ports a moment later.
    private async Task KillAsync(CancellationToken stop)
    {
        try
        {
            while (true)
            {
                await Task.Delay(killEvery, stop);
                var index = _random.Next(_silos.Count);
                var victim = _silos[index];
                victim.Kill();
                _kills++;
                Log($"killed silo {index} ({victim.SiloPort})");
                await Task.Delay(TimeSpan.FromMilliseconds(_random.Next(500, 2_000)), stop);
                _silos[index] = victim.Restart();
                Log($"started silo {index} again");
            }
        }
        catch (OperationCanceledException)
        {
            // The run is over: every silo is up again.
            for (var i = 0; i < _silos.Count; i++)
            {
                if (_silos[i].HasExited)
                {
                    _silos[i] = _silos[i].Restart();
                }
            }
        }
    }

    private async Task<WorkClient> ConnectAsync(int[] gateways)
    {
        for (var attempt = 0; ; attempt++)
        {
            var builder = Host.CreateApplicationBuilder();
            builder.Logging.ClearProviders();
            builder.UseOrleansClient(client => client
                .UseStaticClustering(gateways.Select(p => new IPEndPoint(IPAddress.Loopback, p)).ToArray())
                .Configure<ClusterOptions>(o =>
                {
                    o.ClusterId = _clusterId;
                    o.ServiceId = _clusterId;
                }));
            var host = builder.Build();
            try
            {
                await host.StartAsync();
                _client = host;
                return new WorkClient(host.Services.GetRequiredService<IClusterClient>());
            }
            catch (Exception) when (attempt < 60)
            {
                host.Dispose();
                await Task.Delay(TimeSpan.FromSeconds(1));
            }
        }
    }

    private string StartPostgres()
    {
        _pgDir = Directory.CreateTempSubdirectory("work-torture-pg.").FullName;
        Bash($"chmod 755 '{_pgDir}'");
        var port = FreePorts(1)[0];
        return Bash($"deploy/postgres/throwaway.sh start '{_pgDir}/pg' {port.ToString(CultureInfo.InvariantCulture)}").Trim();
    }

    private string Bash(string command)
    {
        var info = new ProcessStartInfo("bash", ["-c", command]) { WorkingDirectory = _root, RedirectStandardOutput = true, UseShellExecute = false };
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0 ? output : throw new InvalidOperationException($"'{command}' failed with exit code {process.ExitCode}: {output}");
    }

    private static int[] FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0)).ToList();
        listeners.ForEach(l => l.Start());
        var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        listeners.ForEach(l => l.Dispose());
        return ports;
    }

    private static string RepositoryRoot()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Work.Orleans.sln")))
        {
            root = root.Parent;
        }

        return root?.FullName ?? throw new InvalidOperationException("Work.Orleans.sln not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>What a torture run found.</summary>
internal sealed record TortureReport(TimeSpan Duration, int Kills, int Acknowledged, int Refused, int Lost, int DuplicateSuccesses, int RunMoreThanOnce, int NeverRanPerLogs)
{
    public override string ToString() =>
        $"{Duration.TotalMinutes:0.#} min, {Kills} silos SIGKILLed: {Acknowledged} executions acknowledged ({Refused} performs refused while silos died), " +
        $"lost {Lost}, recorded as succeeded more than once {DuplicateSuccesses}, run more than once by id (silos' logs) {RunMoreThanOnce}, " +
        $"not in any surviving log {NeverRanPerLogs} (ran on a silo whose log died with it)";
}

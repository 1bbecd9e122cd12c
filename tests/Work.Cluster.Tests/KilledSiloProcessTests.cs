using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Work.Client;
using Xunit.Abstractions;

namespace Work.Cluster.Tests;

/// <summary>
/// Silos as people run them, real processes, all killed with SIGKILL and started again: one subclass per backend.
/// </summary>
public abstract class KilledSiloProcessTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    private void Mark(string what) => output.WriteLine($"{_clock.Elapsed.TotalSeconds,7:0.0} s  {what}");

    /// <summary>Starts the silo processes (again, on the same storage) and connects a client.</summary>
    protected abstract Task<(IHost Host, WorkClient Client)> StartAsync();

    /// <summary>SIGKILLs every silo process.</summary>
    protected abstract Task KillAllAsync();

    /// <summary>The last lines every silo process wrote, for a failure's message.</summary>
    protected abstract string SiloLogs();

    // An exception filter: writes the silos' last lines, and lets the exception go on unchanged.
    private bool Dump()
    {
        output.WriteLine(SiloLogs());
        return false;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public abstract Task DisposeAsync();

    [Fact]
    public async Task SchedulesSurviveSigkilledSiloProcesses()
    {
        try
        {
            await RunAsync();
        }
        catch (Exception) when (Dump())
        {
            throw;
        }
    }

    private async Task RunAsync()
    {
        var (firstHost, first) = await StartAsync();
        Mark("started");
        string missedId;
        string laterId;
        long finishedBefore;
        using (firstHost)
        {
            await first.DefineAsync("tick", new JobDefinition(new Job("echo"))
            {
                Every = new EverySchedule { Interval = TimeSpan.FromMilliseconds(500), Sync = true },
            });
            await first.StartAsync("tick");
            await first.DefineAsync("once", new JobDefinition(new Job("echo")) { HistoryLimit = 1_000 });
            await first.StartAsync("once");
            await Eventually.WaitUntilAsync(async () => (await first.GetInfoAsync("tick")).Finished >= 2, "the recurring job ran twice");
            finishedBefore = (await first.GetInfoAsync("tick")).Finished;

            // Both are still waiting when the silos die (nothing of them is running): one falls due while the cluster
            // is down or starting, one after it is back.
            missedId = await first.PerformInAsync("once", TimeSpan.FromSeconds(1));
            laterId = await first.PerformAtAsync("once", DateTimeOffset.UtcNow.AddSeconds(10));

            Mark("scheduled");
            await KillAllAsync();
            Mark("killed");
            await firstHost.StopAsync().ContinueWith(_ => { }, TaskScheduler.Default);
        }

        var (secondHost, second) = await StartAsync();
        Mark("started again");
        using (secondHost)
        {
            // The first calls may meet the cluster still replacing the killed incarnations: WorkClient repeats them.
            var missed = await second.WaitAsync("once", missedId);
            Mark("the missed one-shot ran");
            var later = await second.WaitAsync("once", laterId);
            Mark("the later one-shot ran");
            Assert.Equal(JobStatus.Success, missed.Status);
            Assert.Equal(JobStatus.Success, later.Status);
            Assert.True(later.StartedAt >= later.ScheduledAt);

            // Each ran once: one record per execution id, first attempt.
            var history = await second.GetHistoryAsync("once", 1_000);
            output.WriteLine(string.Join(Environment.NewLine, history.Select(e => $"{e.ExecutionId} attempt {e.Attempt}: {(int)e.Status} {e.ErrorType} on {e.Worker}")));
            Assert.Equal(1, history.Count(e => e.ExecutionId == missedId));
            Assert.Equal(1, history.Count(e => e.ExecutionId == laterId));
            Assert.All(history, e => Assert.Equal(1, e.Attempt));

            // The recurring job goes on by itself after the restart.
            await Eventually.WaitUntilAsync(
                async () => (await second.GetInfoAsync("tick")).Finished >= finishedBefore + 3, "the recurring job resumed");
            Assert.True((await second.GetInfoAsync("tick")).Started);
            Mark("the recurring job resumed");
        }
    }
}

/// <summary>The embedded default: the Work.Silo process on its SQLite file.</summary>
public sealed class SqliteKilledSiloProcessTests(ITestOutputHelper output) : KilledSiloProcessTests(output)
{
    private readonly string _folder = Directory.CreateTempSubdirectory("work-crash-").FullName;
    private readonly int[] _ports = SiloProcess.FreePorts(2);
    private readonly List<SiloProcess> _silos = [];

    protected override async Task<(IHost Host, WorkClient Client)> StartAsync()
    {
        var silo = SiloProcess.Start(Path.Combine(_folder, "work.db"), _ports[0], _ports[1]);
        _silos.Add(silo);
        return await silo.ConnectAsync();
    }

    protected override Task KillAllAsync() => _silos[^1].KillAsync();

    protected override string SiloLogs() => string.Join(Environment.NewLine, _silos.Select(s => $"--- silo {s.SiloPort}:{Environment.NewLine}{s.Output}"));

    public override async Task DisposeAsync()
    {
        foreach (var silo in _silos)
        {
            await silo.DisposeAsync();
        }

        Directory.Delete(_folder, recursive: true);
    }
}

/// <summary>The cluster backend: two Work.Silo processes on PostgreSQL, both killed.</summary>
[Collection(ProcessCollection.Name)]
public sealed class PostgresKilledSiloProcessTests(ITestOutputHelper output) : KilledSiloProcessTests(output)
{
    private readonly string _database = PostgresServer.Shared.CreateDatabase("killed");
    private readonly string _clusterId = "killed-" + Guid.NewGuid().ToString("N")[..8];
    private readonly List<PostgresSiloCluster> _clusters = [];
    private readonly int[] _ports = SiloProcess.FreePorts(4);

    protected override async Task<(IHost Host, WorkClient Client)> StartAsync()
    {
        // Started again on the same ports, as silos on fixed hosts and ports are.
        var cluster = PostgresSiloCluster.Start(_database, 2, clusterId: _clusterId, ports: _ports);
        _clusters.Add(cluster);
        await cluster.WaitForActiveAsync(2);
        return await cluster.ConnectAsync();
    }

    protected override async Task KillAllAsync() => await Task.WhenAll(_clusters[^1].Silos.Select(s => s.KillAsync()));

    protected override string SiloLogs() => string.Join(Environment.NewLine, _clusters.Select(c => c.ToString()));

    public override async Task DisposeAsync()
    {
        foreach (var cluster in _clusters)
        {
            await cluster.DisposeAsync();
        }
    }
}

using System.Diagnostics;
using Work.Client;
using Xunit.Abstractions;

namespace Work.Cluster.Tests;

/// <summary>Tests that run several silo processes and kill them or their database: they run alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessCollection
{
    public const string Name = "processes";
}

/// <summary>A cluster of real Work.Silo processes on PostgreSQL, under load, with silos and the database killed.</summary>
[Collection(ProcessCollection.Name)]
public sealed class PostgresProcessTests(ITestOutputHelper output)
{
    private const int RecurringJobs = 100;
    private const int OneShots = 1_000;

    private static readonly Dictionary<string, string> s_defaultDetection = new() { ["Work__Cluster__LeaseDuration"] = "00:00:20" };

    private readonly List<PostgresSiloCluster> _clusters = [];

    [Fact]
    public Task NothingIsLostWhenASiloIsKilledUnderLoadWithDefaultFailureDetection() => CrashUnderLoadAsync(fast: false);

    [Fact]
    public Task NothingIsLostWhenASiloIsKilledUnderLoadWithFastFailureDetection() => CrashUnderLoadAsync(fast: true);

    private async Task CrashUnderLoadAsync(bool fast)
    {
        // A lease must outlast failure detection: until a dead silo is declared dead, the jobs whose directory
        // entries it held cannot be reached, and a lease that runs out meanwhile runs a finished attempt again.
        await using var cluster = PostgresSiloCluster.Start(
            PostgresServer.Shared.CreateDatabase("crash"), 3, fast ? PostgresSiloCluster.FastFailureDetection : s_defaultDetection);
        _clusters.Add(cluster);
        try
        {
            await cluster.WaitForActiveAsync(3);
            var (host, client) = await cluster.ConnectAsync();
            using var _ = host;

            // 100 recurring jobs every second, and 1,000 one-shots of 200 ms due over 10 s on one job.
            var ticks = Enumerable.Range(0, RecurringJobs).Select(i => $"tick-{i:D3}").ToList();
            await Task.WhenAll(ticks.Select(async name =>
            {
                await client.DefineAsync(name, new JobDefinition(new Job("echo"))
                {
                    Every = new EverySchedule { Interval = TimeSpan.FromSeconds(1), Sync = true },
                    HistoryLimit = 1_000,
                });
                await client.StartAsync(name);
            }));
            await client.DefineAsync("batch", new JobDefinition(new Job("sleep") { Args = JobArgs.Empty.With("ms", 200) })
            {
                MaxWorkers = 50,
                HistoryLimit = JobDefinition.MaxHistoryLimit,
            });
            await client.StartAsync("batch");
            var ids = await Task.WhenAll(Enumerable.Range(0, OneShots)
                .Select(i => client.PerformInAsync("batch", TimeSpan.FromSeconds(3) + TimeSpan.FromMilliseconds(10 * i))));

            // Kill the silo of the one-shots' job while a quarter of them have run.
            await Eventually.WaitUntilAsync(async () => (await client.GetInfoAsync("batch")).Finished >= OneShots / 4, "a quarter of the one-shots ran");
            var infos = await Task.WhenAll(ticks.Append("batch").Select(name => client.GetInfoAsync(name)));
            var victim = cluster.Silos.Single(s => infos.Single(i => i.Name == "batch").Silo!.StartsWith(s.AddressPrefix, StringComparison.Ordinal));
            var moved = infos.Where(i => i.Silo!.StartsWith(victim.AddressPrefix, StringComparison.Ordinal)).ToDictionary(i => i.Name);
            var clock = Stopwatch.StartNew();
            await victim.KillAsync();

            // Recovery: every job whose grain was on the killed silo answers again, from another silo.
            var answered = await Task.WhenAll(moved.Keys.Select(name => AnswersElsewhereAsync(client, name, victim, clock)));
            var recovery = answered.Max();

            // Everything scheduled finishes, and every recurring job goes on.
            foreach (var id in ids)
            {
                await client.WaitAsync("batch", id);
            }

            var finishedAfterRecovery = (await Task.WhenAll(ticks.Select(name => client.GetInfoAsync(name)))).ToDictionary(i => i.Name, i => i.Finished);
            await Eventually.WaitUntilAsync(
                async () => (await Task.WhenAll(ticks.Select(name => client.GetInfoAsync(name)))).All(i => i.Finished >= finishedAfterRecovery[i.Name] + 2),
                "every recurring job ran twice more after the recovery");

            // Count by execution id: the job grains' history, and the runs the silos logged.
            var history = await client.GetHistoryAsync("batch", JobDefinition.MaxHistoryLimit);
            var succeeded = history.Where(e => e.Status == JobStatus.Success).GroupBy(e => e.ExecutionId).ToDictionary(g => g.Key, g => g.Count());
            var lost = ids.Count(id => !succeeded.ContainsKey(id));
            Assert.Equal(0, lost);
            Assert.All(succeeded.Values, count => Assert.Equal(1, count));
            Assert.Equal(OneShots, succeeded.Count);

            // A repeated attempt follows an attempt recorded as lost (503, lease expired) on the killed silo's watch.
            var retried = history.Where(e => e.Attempt > 1).Select(e => e.ExecutionId).ToHashSet();
            foreach (var id in retried)
            {
                Assert.Contains(history, e => e.ExecutionId == id && e.Status == JobStatus.Unavailable && e.ErrorType == "Work.LeaseExpired");
            }

            // Runs counted outside the grains: an execution id that ran more than once had its job grain on the killed
            // silo, ran on the killed silo itself, or was given up as lost by its job (the job could not be reached for a
            // lease period: the killed silo held its entry in the grain directory).
            var runs = cluster.Silos.SelectMany(s => s.Executions).ToList();
            var repeated = runs.GroupBy(r => r.ExecutionId).Where(g => g.Count() > 1).ToList();
            foreach (var group in repeated)
            {
                var job = group.First().Job;
                var itsHistory = (job == "batch" ? history : await client.GetHistoryAsync(job, JobDefinition.MaxHistoryLimit))
                    .Where(e => e.ExecutionId == group.Key).ToList();
                var lostByItsJob = itsHistory.Any(e => e.ErrorType == "Work.LeaseExpired");
                Assert.True(
                    moved.ContainsKey(job) || lostByItsJob || group.Any(r => r.Worker.StartsWith(victim.AddressPrefix, StringComparison.Ordinal)),
                    $"execution {group.Key} of {job} ran {group.Count()} times without the killed silo taking part: " +
                    string.Join(", ", group.Select(r => $"attempt {r.Attempt} on {r.Worker}")) + $" (killed: {victim.AddressPrefix}); its history: " +
                    string.Join(", ", itsHistory.Select(e => $"attempt {e.Attempt} {(int)e.Status} {e.ErrorType} {e.Error} on {e.Worker} at {e.StartedAt:HH:mm:ss.fff}-{e.FinishedAt:HH:mm:ss.fff}")) +
                    $"; job silo {infos.Single(i => i.Name == job).Silo}");
            }

            Assert.All(ids, id => Assert.Contains(runs, r => r.ExecutionId == id));
            output.WriteLine(
                $"failure detection {(fast ? "fast" : "default")}: {moved.Count} job grains on the killed silo answered again after " +
                $"{recovery.TotalMilliseconds:0} ms (first {answered.Min().TotalMilliseconds:0} ms); one-shots scheduled {OneShots}, " +
                $"lost {lost}, retried after a lost attempt {retried.Count}; execution ids run more than once {repeated.Count} " +
                $"({repeated.Count(g => g.First().Job == "batch")} one-shots, {repeated.Count(g => g.First().Job != "batch")} recurring ticks); " +
                $"runs logged {runs.Count}");
        }
        catch (Exception) when (Dump())
        {
            throw;
        }
    }

    [Fact]
    public async Task SilosRideOutTenSecondsWithoutTheDatabase()
    {
        var watch = Stopwatch.StartNew();
        void Mark(string what) => output.WriteLine($"{watch.Elapsed.TotalSeconds,7:0.0} s  {what}");
        using var server = PostgresServer.Start();
        await using var cluster = PostgresSiloCluster.Start(server.CreateDatabase("outage"), 2);
        _clusters.Add(cluster);
        try
        {
            await cluster.WaitForActiveAsync(2);
            var (host, client) = await cluster.ConnectAsync();
            using var _ = host;
            await client.DefineAsync("tick", new JobDefinition(new Job("echo"))
            {
                Every = new EverySchedule { Interval = TimeSpan.FromMilliseconds(500), Sync = true },
            });
            await client.StartAsync("tick");
            await client.DefineAsync("once", new JobDefinition(new Job("echo")) { HistoryLimit = 1_000 });
            await client.StartAsync("once");
            await Eventually.WaitUntilAsync(async () => (await client.GetInfoAsync("tick")).Finished >= 2, "the recurring job ran twice");
            var dueDuringOutage = await client.PerformInAsync("once", TimeSpan.FromSeconds(3));

            Mark("scheduled");
            server.Stop();
            var clock = Stopwatch.StartNew();
            await Eventually.WaitUntilAsync(
                () => cluster.Silos.FirstOrDefault(s => s.HasExited) is { } exited
                    ? throw new InvalidOperationException($"A silo exited while the database was down: {exited.Output}")
                    : Task.FromResult(clock.Elapsed >= TimeSpan.FromSeconds(10)),
                "the database has been down for 10 s");
            server.Restart();
            var finishedAtRestart = (await client.GetInfoAsync("tick")).Finished;
            Mark($"database back after {clock.Elapsed.TotalSeconds:0.0} s");

            // Both silos are still members, the recurring job goes on, and the one-shot due meanwhile ran once.
            await cluster.WaitForActiveAsync(2);
            Mark("both silos still active");
            await Eventually.WaitUntilAsync(
                async () => (await client.GetInfoAsync("tick")).Finished >= finishedAtRestart + 3, "the recurring job ran three more times");
            Mark("the recurring job went on");
            var missed = await client.WaitAsync("once", dueDuringOutage);
            Mark("the one-shot due meanwhile ran");
            Assert.Equal(JobStatus.Success, missed.Status);
            var afterwards = await client.PerformInAsync("once", TimeSpan.FromMilliseconds(200));
            Assert.Equal(JobStatus.Success, (await client.WaitAsync("once", afterwards)).Status);

            var history = await client.GetHistoryAsync("once", 1_000);
            Assert.Single(history, e => e.ExecutionId == dueDuringOutage);
            Assert.Single(cluster.Silos.SelectMany(s => s.Executions), r => r.ExecutionId == dueDuringOutage);
            Assert.DoesNotContain(cluster.Silos, s => s.HasExited);

            // What happened while the database was down reached it afterwards: killed and started again, the silos
            // read the same outcome.
            foreach (var silo in cluster.Silos)
            {
                await silo.KillAsync();
            }

            await using var again = PostgresSiloCluster.Start(cluster.ConnectionString, 2, clusterId: cluster.ClusterId, ports: cluster.Ports);
            _clusters.Add(again);
            await again.WaitForActiveAsync(2);
            Mark("started again");
            var (hostAgain, clientAgain) = await again.ConnectAsync();
            using var __ = hostAgain;
            var stored = await clientAgain.GetHistoryAsync("once", 1_000);
            Assert.Equal(JobStatus.Success, Assert.Single(stored, e => e.ExecutionId == dueDuringOutage).Status);
            Assert.Equal(JobStatus.Success, Assert.Single(stored, e => e.ExecutionId == afterwards).Status);
        }
        catch (Exception) when (Dump())
        {
            throw;
        }
    }

    // An exception filter: writes what the test's silos logged last, and lets the exception go on unchanged.
    private bool Dump()
    {
        foreach (var cluster in _clusters)
        {
            output.WriteLine(cluster.ToString());
        }

        return false;
    }

    private static async Task<TimeSpan> AnswersElsewhereAsync(WorkClient client, string name, SiloProcess victim, Stopwatch clock)
    {
        var elapsed = TimeSpan.Zero;
        await Eventually.WaitUntilAsync(
            async () =>
            {
                try
                {
                    var info = await client.GetInfoAsync(name).WaitAsync(TimeSpan.FromSeconds(2));
                    elapsed = clock.Elapsed;
                    return !info.Silo!.StartsWith(victim.AddressPrefix, StringComparison.Ordinal);
                }
                catch (Exception ex) when (WorkClient.IsTransient(ex))
                {
                    return false;
                }
            },
            $"job {name} answers from a live silo",
            TimeSpan.FromMinutes(2));
        return elapsed;
    }
}

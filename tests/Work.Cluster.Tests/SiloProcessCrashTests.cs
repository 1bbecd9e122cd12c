namespace Work.Cluster.Tests;

/// <summary>The embedded default as people run it: the Work.Silo process on its SQLite file, killed with SIGKILL.</summary>
public sealed class SiloProcessCrashTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("work-crash-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task SchedulesSurviveASigkilledSiloProcess()
    {
        var database = Path.Combine(_folder, "work.db");
        var ports = SiloProcess.FreePorts(2);
        var (siloPort, gatewayPort) = (ports[0], ports[1]);
        string missedId;
        string laterId;
        long finishedBefore;

        await using (var silo = SiloProcess.Start(database, siloPort, gatewayPort))
        {
            var (host, client) = await silo.ConnectAsync();
            using (host)
            {
                await client.DefineAsync("tick", new JobDefinition(new Job("echo"))
                {
                    Every = new EverySchedule { Interval = TimeSpan.FromMilliseconds(500), Sync = true },
                });
                await client.StartAsync("tick");
                await client.DefineAsync("once", new JobDefinition(new Job("echo")) { HistoryLimit = 1_000 });
                await client.StartAsync("once");
                missedId = await client.PerformInAsync("once", TimeSpan.FromMilliseconds(500));
                laterId = await client.PerformAtAsync("once", DateTimeOffset.UtcNow.AddSeconds(20));
                while ((finishedBefore = (await client.GetInfoAsync("tick")).Finished) < 2)
                {
                    await Task.Yield();
                }

                await silo.KillAsync();
                await host.StopAsync().ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }

        await using (var silo = SiloProcess.Start(database, siloPort, gatewayPort))
        {
            var (host, client) = await silo.ConnectAsync();
            using (host)
            {
                var missed = await client.WaitAsync("once", missedId);
                var later = await client.WaitAsync("once", laterId);
                Assert.Equal(JobStatus.Success, missed.Status);
                Assert.Equal(JobStatus.Success, later.Status);
                Assert.True(later.StartedAt >= later.ScheduledAt);

                // Each ran once: one record per execution id, first attempt.
                var history = await client.GetHistoryAsync("once", 1_000);
                Assert.Equal(1, history.Count(e => e.ExecutionId == missedId));
                Assert.Equal(1, history.Count(e => e.ExecutionId == laterId));
                Assert.All(history, e => Assert.Equal(1, e.Attempt));

                // The recurring job goes on by itself after the restart.
                var deadline = DateTimeOffset.UtcNow + ClusterFixture.SafetyBound;
                while ((await client.GetInfoAsync("tick")).Finished < finishedBefore + 3)
                {
                    Assert.True(DateTimeOffset.UtcNow < deadline, "the recurring job did not resume");
                    await Task.Yield();
                }

                Assert.True((await client.GetInfoAsync("tick")).Started);
            }
        }
    }
}

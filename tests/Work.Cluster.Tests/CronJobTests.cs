namespace Work.Cluster.Tests;

/// <summary>Cron schedules in the cluster: through the grain, the HTTP API and the CLI.</summary>
[Collection(ClusterCollection.Name)]
public sealed class CronJobTests(ClusterFixture fixture)
{
    [Fact]
    public async Task APerSecondCronRunsOnItsSecondsAndShowsItsNextTimes()
    {
        var board = Probe.NewBoard();
        var job = fixture.Job(ClusterFixture.NewJobName("cron"));
        await job.DefineProbeAsync(board, maxWorkers: 2);
        await job.StartAsync();

        await job.PerformCronAsync("* * * * * *", "Europe/Berlin");

        var first = await board.NextStartAsync();
        var second = await board.NextStartAsync();
        Assert.NotEqual(first.ExecutionId, second.ExecutionId);
        foreach (var start in new[] { first, second })
        {
            // Due on whole seconds, and never started before.
            Assert.Equal(0, start.Scheduled.Millisecond);
            Assert.True(start.Started >= start.Scheduled, $"started {start.Started:O} before its time {start.Scheduled:O}");
        }

        var info = await job.GetInfoAsync();
        Assert.Equal("* * * * * *", info.Definition!.Every!.Cron);
        Assert.Equal("Europe/Berlin", info.Definition.Every.TimeZone);
        Assert.True(info.NextDueTimes.Count >= 5, $"next due times: {info.NextDueTimes.Count}");
        await job.StopAsync();
    }

    [Fact]
    public async Task ABadExpressionIsRefusedAndTheScheduleStaysAsItWas()
    {
        var board = Probe.NewBoard();
        var job = fixture.Job(ClusterFixture.NewJobName("cron-bad"));
        await job.DefineProbeAsync(board, every: new EverySchedule { Interval = TimeSpan.FromHours(1), RunImmediately = false });
        await job.StartAsync();

        var error = await Assert.ThrowsAnyAsync<ArgumentException>(() => job.PerformCronAsync("0 9 * * MON", "Europe/Nowhere"));

        Assert.Contains("the time zone 'Europe/Nowhere' is not known here", error.Message, StringComparison.Ordinal);
        Assert.Equal(TimeSpan.FromHours(1), (await job.GetInfoAsync()).Definition!.Every!.Interval);
    }
}

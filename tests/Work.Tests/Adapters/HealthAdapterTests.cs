using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Time.Testing;
using Work.Adapters;

namespace Work.Tests.Adapters;

public sealed class HealthAdapterTests
{
    private static readonly FakeTimeProvider s_time = new();

    private static JobHealthMonitor LastN(int n, int minimum, double threshold) =>
        new(new HealthAdapterOptions { Mode = HealthMode.LastN, LastN = n, MinimumCount = minimum, Threshold = threshold }, s_time);

    private static void Record(JobHealthMonitor monitor, JobStatus status, int times)
    {
        for (var i = 0; i < times; i++)
        {
            monitor.Record(status);
        }
    }

    [Fact]
    public void GoWorkStateMachineWithLastFourMinimumThreeAndQuarterThreshold()
    {
        var monitor = LastN(4, 3, 0.25);

        Record(monitor, JobStatus.InternalError, 1);
        Assert.True(monitor.GetSnapshot().IsHealthy);

        Record(monitor, JobStatus.InternalError, 10);
        var unhealthy = monitor.GetSnapshot();
        Assert.False(unhealthy.IsHealthy);
        Assert.Equal(4, unhealthy.Total);
        Assert.Equal(4, unhealthy.Errors);

        Record(monitor, JobStatus.Success, 3);
        var recovered = monitor.GetSnapshot();
        Assert.True(recovered.IsHealthy);
        Assert.Equal(0.25, recovered.ErrorRate);
    }

    [Theory]
    [InlineData(JobStatus.BadRequest)]
    [InlineData(JobStatus.Unauthorized)]
    [InlineData(JobStatus.Forbidden)]
    [InlineData(JobStatus.NoResponse)]
    public void ClientErrorsDoNotCount(JobStatus status)
    {
        var monitor = LastN(4, 1, 0.0);
        Record(monitor, status, 4);
        Assert.True(monitor.GetSnapshot().IsHealthy);
        Assert.Equal(0, monitor.GetSnapshot().Errors);
    }

    [Theory]
    [InlineData(JobStatus.Timeout)]
    [InlineData(JobStatus.InternalError)]
    [InlineData(JobStatus.Unavailable)]
    public void ServerErrorsCount(JobStatus status)
    {
        var monitor = LastN(4, 1, 0.5);
        Record(monitor, status, 3);
        Record(monitor, JobStatus.Success, 1);
        Assert.False(monitor.GetSnapshot().IsHealthy);
        Assert.Equal(3, monitor.GetSnapshot().Errors);
    }

    [Fact]
    public void TimeWindowForgetsExecutionsOlderThanTheWindow()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var monitor = new JobHealthMonitor(
            new HealthAdapterOptions { Mode = HealthMode.TimeWindow, Window = TimeSpan.FromSeconds(10), MinimumCount = 2, Threshold = 0.5 }, time);

        Record(monitor, JobStatus.InternalError, 3);
        Assert.False(monitor.GetSnapshot().IsHealthy);

        time.Advance(TimeSpan.FromSeconds(5));
        Record(monitor, JobStatus.Success, 2);
        Assert.Equal(5, monitor.GetSnapshot().Total);
        Assert.False(monitor.GetSnapshot().IsHealthy);

        time.Advance(TimeSpan.FromSeconds(6));
        var later = monitor.GetSnapshot();
        Assert.Equal(2, later.Total);
        Assert.Equal(0, later.Errors);
        Assert.True(later.IsHealthy);

        time.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal(0, monitor.GetSnapshot().Total);
    }

    [Fact]
    public void InvalidOptionsNameEveryProblem()
    {
        var error = Assert.Throws<ArgumentException>(() => new JobHealthMonitor(
            new HealthAdapterOptions { Mode = HealthMode.LastN, LastN = 0, MinimumCount = -1, Threshold = 2 }, s_time));
        Assert.Contains("LastN", error.Message, StringComparison.Ordinal);
        Assert.Contains("MinimumCount", error.Message, StringComparison.Ordinal);
        Assert.Contains("Threshold", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HealthCheckReportsTheAdaptersState()
    {
        await using var workers = new TestWorkers(w => w
            .UseHealth(o =>
            {
                o.Mode = HealthMode.LastN;
                o.LastN = 4;
                o.MinimumCount = 3;
                o.Threshold = 0.25;
            })
            .AddHandler("fail", _ => throw new InvalidOperationException())
            .AddHandler("ok", _ => Task.CompletedTask));
        var health = workers.Services.GetRequiredService<HealthCheckService>();
        var worker = await workers.StartAsync();

        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync()).Status);
        for (var i = 0; i < 4; i++)
        {
            await worker.PerformAsync(new Job("fail"));
        }

        var report = await health.CheckHealthAsync();
        Assert.Equal(HealthStatus.Unhealthy, report.Status);
        Assert.Equal(4, report.Entries["work"].Data["errors"]);

        for (var i = 0; i < 3; i++)
        {
            await worker.PerformAsync(new Job("ok"));
        }

        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync()).Status);
    }
}

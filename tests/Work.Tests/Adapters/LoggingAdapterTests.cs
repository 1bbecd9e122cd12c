using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Work.Adapters;

namespace Work.Tests.Adapters;

public sealed class LoggingAdapterTests
{
    private static TestWorkers Workers(Action<LoggingAdapterOptions>? configure = null) => new(
        w => w.UseLogging(configure)
            .AddHandler("ok", _ => Task.CompletedTask)
            .AddHandler("idle", ctx =>
            {
                ctx.Status = JobStatus.NoResponse;
                return Task.CompletedTask;
            })
            .AddHandler("bad", ctx =>
            {
                ctx.Status = JobStatus.BadRequest;
                return Task.CompletedTask;
            })
            .AddHandler("boom", _ => throw new InvalidOperationException("boom")),
        services: s => s.AddLogging(b => b.AddFakeLogging().SetMinimumLevel(LogLevel.Trace)));

    private static IReadOnlyList<FakeLogRecord> Summaries(TestWorkers workers) =>
        workers.Services.GetFakeLogCollector().GetSnapshot().Where(r => r.Category == LoggingAdapter.Category).ToList();

    [Fact]
    public async Task WritesOneSummaryLinePerExecution()
    {
        await using var workers = Workers();
        var worker = await workers.StartAsync("w1");

        var execution = await worker.PerformAsync(new Job("ok"));

        var line = Assert.Single(Summaries(workers));
        Assert.Equal(LogLevel.Information, line.Level);
        Assert.Contains("ok", line.Message, StringComparison.Ordinal);
        Assert.Contains("200", line.Message, StringComparison.Ordinal);
        Assert.Contains(" ms", line.Message, StringComparison.Ordinal);
        Assert.Contains("w1", line.Message, StringComparison.Ordinal);
        Assert.Contains(execution.ExecutionId, line.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LevelFollowsTheStatus()
    {
        await using var workers = Workers();
        var worker = await workers.StartAsync();

        await worker.PerformAsync(new Job("bad"));
        await worker.PerformAsync(new Job("boom"));

        var lines = Summaries(workers);
        Assert.Equal([LogLevel.Warning, LogLevel.Error], lines.Select(l => l.Level));
        Assert.IsType<InvalidOperationException>(lines[1].Exception);
        Assert.Contains("500", lines[1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SuccessAndNoResponseCanBeSilenced()
    {
        await using var workers = Workers(o =>
        {
            o.SkipSuccess = true;
            o.SkipNoResponse = true;
        });
        var worker = await workers.StartAsync();

        await worker.PerformAsync(new Job("ok"));
        await worker.PerformAsync(new Job("idle"));
        await worker.PerformAsync(new Job("bad"));

        var line = Assert.Single(Summaries(workers));
        Assert.Contains("400", line.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoResponseIsLoggedUnlessSilenced()
    {
        await using var workers = Workers(o => o.SkipSuccess = true);
        var worker = await workers.StartAsync();

        await worker.PerformAsync(new Job("ok"));
        await worker.PerformAsync(new Job("idle"));

        var line = Assert.Single(Summaries(workers));
        Assert.Contains("444", line.Message, StringComparison.Ordinal);
        Assert.Equal(LogLevel.Information, line.Level);
    }

    [Fact]
    public async Task SuccessesLogAtTheirOwnLevelAndFailuresKeepTheirs()
    {
        await using var workers = Workers(o => o.SuccessLevel = LogLevel.Debug);
        var worker = await workers.StartAsync();

        await worker.PerformAsync(new Job("ok"));
        await worker.PerformAsync(new Job("boom"));

        var lines = Summaries(workers);
        Assert.Equal(2, lines.Count);
        Assert.Equal(LogLevel.Debug, lines.Single(l => l.Message.Contains(" 200 ", StringComparison.Ordinal)).Level);
        Assert.Equal(LogLevel.Error, lines.Single(l => l.Message.Contains(" 500 ", StringComparison.Ordinal)).Level);
    }

    [Fact]
    public async Task ArgumentValuesAreNeverLogged()
    {
        await using var workers = Workers();
        var worker = await workers.StartAsync();

        await worker.PerformAsync(new Job("ok") { Args = JobArgs.From(new { password = "hunter2" }) });

        Assert.DoesNotContain(
            workers.Services.GetFakeLogCollector().GetSnapshot(),
            r => r.Message.Contains("hunter2", StringComparison.Ordinal));
    }
}

using Microsoft.Extensions.DependencyInjection;
using Work.Testing;

namespace Work.Cluster.Tests;

/// <summary>The test kit users test their own handlers with: the real pipeline on a fake clock, and an in-process cluster.</summary>
public sealed class TestKitTests
{
    [Fact]
    public async Task AHandlerRunsThroughThePipelineAndItsStatusIsChecked()
    {
        var seen = new List<string>();
        await using var host = new WorkTestHost(work => work
            .AddHandler("greet", ctx =>
            {
                seen.Add(ctx.Args.Get<string>("name"));
                ctx.Status = ctx.Args.Get<string>("name") == "nobody" ? JobStatus.BadRequest : JobStatus.Success;
                return Task.CompletedTask;
            })
            .Use(next => async ctx =>
            {
                ctx.Set("adapter", "ran");
                await next(ctx);
            }));

        var greeted = await host.PerformAsync("greet", JobArgs.From(new { name = "ada" }));
        var refused = await host.PerformAsync("greet", JobArgs.From(new { name = "nobody" }));
        var unknown = await host.PerformAsync("no-such-handler");

        Assert.Equal(JobStatus.Success, greeted.Status);
        Assert.Equal(JobStatus.BadRequest, refused.Status);
        Assert.Equal(JobStatus.BadRequest, unknown.Status);
        Assert.Contains("'no-such-handler'", unknown.Error, StringComparison.Ordinal);
        Assert.Equal(["ada", "nobody"], seen);
    }

    [Fact]
    public async Task ATimeoutIsReachedOnTheFakeClockWithoutWaiting()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = new WorkTestHost(work => work.AddHandler("slow", async ctx =>
        {
            started.TrySetResult();
            // Handlers take the clock from their services, so the fake one is theirs in tests.
            await Task.Delay(TimeSpan.FromHours(1), ctx.Services.GetRequiredService<TimeProvider>(), ctx.CancellationToken);
        }));

        var run = host.PerformAsync(new Job("slow") { Timeout = TimeSpan.FromMinutes(5) });
        await started.Task.WaitAsync(ClusterFixture.SafetyBound);
        host.Time.Advance(TimeSpan.FromMinutes(5));
        var done = await run.WaitAsync(ClusterFixture.SafetyBound);

        Assert.Equal(JobStatus.Timeout, done.Status);
        Assert.Equal(TimeSpan.FromMinutes(5), done.Duration);
    }

    [Fact]
    public async Task AnInProcessClusterRunsTheUsersHandlers()
    {
        await using var cluster = await WorkTestCluster.StartAsync(work => work.AddHandler("double", ctx =>
        {
            ctx.Status = ctx.Args.Get<int>("n") * 2 == 84 ? JobStatus.Success : JobStatus.InternalError;
            return Task.CompletedTask;
        }));

        await cluster.Client.DefineAsync("doubler", new JobDefinition(new Job("double") { Args = JobArgs.From(new { n = 42 }) }));
        await cluster.Client.StartAsync("doubler");
        var done = await cluster.Client.PerformAsync("doubler");
        var wrong = await cluster.Client.PerformAsync("doubler", JobArgs.From(new { n = 1 }));

        Assert.Equal(JobStatus.Success, done.Status);
        Assert.Equal(JobStatus.InternalError, wrong.Status);
        Assert.Equal(["doubler"], await cluster.Client.ListAsync());
    }
}

using Microsoft.Extensions.DependencyInjection;
using Work.Hosting;
using Work.Testing;
using Xunit;

namespace Work.Samples.Tests;

public sealed class EmailJobTests
{
    // The handler under test, registered as the app registers it.
    private static void AddEmail(IWorkBuilder work) => work.AddHandler("email", async ctx =>
    {
        var to = ctx.Args.Get<string>("to");
        if (!to.Contains('@', StringComparison.Ordinal))
        {
            ctx.Status = JobStatus.BadRequest;
            return;
        }

        await Task.Delay(TimeSpan.FromSeconds(2), ctx.Services.GetRequiredService<TimeProvider>(), ctx.CancellationToken);
    });

    [Fact]
    public async Task AnAddressWithoutAnAtIsABadRequest()
    {
        await using var host = new WorkTestHost(AddEmail);

        var done = await host.PerformAsync("email", JobArgs.From(new { to = "nobody" }));

        Assert.Equal(JobStatus.BadRequest, done.Status);
    }

    [Fact]
    public async Task ASlowSendEndsAtItsTimeoutOnTheFakeClock()
    {
        await using var host = new WorkTestHost(AddEmail);

        var run = host.PerformAsync(new Job("email") { Args = JobArgs.From(new { to = "ada@example.com" }), Timeout = TimeSpan.FromSeconds(1) });
        host.Time.Advance(TimeSpan.FromSeconds(1));
        var done = await run;

        Assert.Equal(JobStatus.Timeout, done.Status);
    }

    [Fact]
    public async Task TheJobRunsInACluster()
    {
        await using var cluster = await WorkTestCluster.StartAsync(AddEmail);
        await cluster.Client.DefineAsync("mailer", new JobDefinition(new Job("email")));
        await cluster.Client.StartAsync("mailer");

        var done = await cluster.Client.PerformAsync("mailer", JobArgs.From(new { to = "nobody" }));

        Assert.Equal(JobStatus.BadRequest, done.Status);
    }
}

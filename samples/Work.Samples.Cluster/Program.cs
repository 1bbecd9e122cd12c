using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Work;
using Work.Client;
using Work.Hosting;

// A silo with a handler, its state in a SQLite file (for a cluster: UseWorkPostgresClustering and UseWorkPostgres
// from Work.Storage.Postgres), and a client of it in the same process (a separate app uses UseOrleansClient).
var builder = Host.CreateApplicationBuilder(args);
builder.UseOrleans(silo => silo
    .UseLocalhostClustering(
        siloPort: builder.Configuration.GetValue("SiloPort", 11111),
        gatewayPort: builder.Configuration.GetValue("GatewayPort", 30000),
        serviceId: "samples",
        clusterId: "samples")
    .UseWorkSqlite("data/samples.db")                         // under the current folder; kept across runs
    .AddWork(work => work
        .AddHandler("email", async ctx =>
        {
            ctx.Logger.LogInformation("Sending to {To}", ctx.Args.Get<string>("to"));
            await Task.Delay(10, ctx.CancellationToken);
        })
        .UseLogging()
        .UseMetrics()
        .UseTracing()));
using var host = builder.Build();
await host.StartAsync();

var work = new WorkClient(host.Services.GetRequiredService<IGrainFactory>());
await work.DefineAsync("mailer", new JobDefinition(new Job("email")
{
    Args = JobArgs.From(new { to = "team@example.com" }),   // what the recurring runs send
    Timeout = TimeSpan.FromSeconds(30),
})
{
    MaxWorkers = 8,                                          // across the whole cluster
    StartInterval = TimeSpan.FromSeconds(1),                 // ramp: one more worker allowed every second
    Every = new EverySchedule { Interval = TimeSpan.FromMinutes(1), Sync = true },
    Retry = new RetryPolicy { MaxAttempts = 5 },             // exponential backoff with jitter on 408/500/503
    Misfire = MisfirePolicy.FireOnce,
});
await work.StartAsync("mailer");
JobExecution done = await work.PerformAsync("mailer", JobArgs.From(new { to = "ada@example.com" }));
Console.WriteLine($"performed {done.ExecutionId}: {(int)done.Status} {done.Status}");

// The recurring schedule's first run starts at once: wait for it, then show the history.
while ((await work.GetInfoAsync("mailer")).Finished < 2)
{
    await Task.Delay(100);
}

foreach (var execution in await work.GetHistoryAsync("mailer"))
{
    Console.WriteLine($"history {execution.ExecutionId}: {(int)execution.Status} {execution.Status}");
}

await host.StopAsync();

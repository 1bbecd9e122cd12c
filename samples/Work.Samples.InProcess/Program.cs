using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Work;
using Work.Hosting;
using Work.Workers;

var services = new ServiceCollection()
    .AddLogging(logging => logging.AddConsole())
    .AddWork(work => work
        .AddHandler("email", async ctx =>
        {
            var to = ctx.Item as string ?? ctx.Args.Get<string>("to");    // an item received, or the args
            ctx.Logger.LogInformation("Sending to {To}", to);
            await Task.Delay(10, ctx.CancellationToken);    // your code
            ctx.Status = JobStatus.Success;                 // optional: a normal return is 200
        })
        .UseLogging(o => o.SkipSuccess = true)              // adapters: first added = outermost
        .UseMetrics()
        .UseTracing()
        .UseHealth());
await using var provider = services.BuildServiceProvider();

var worker = provider.GetRequiredService<IWorkerFactory>().CreateWorker();
await worker.StartAsync();

var job = new Job("email") { Args = JobArgs.From(new { to = "ada@example.com" }), Timeout = TimeSpan.FromSeconds(30) };
JobExecution done = await worker.PerformAsync(job);               // waits: done.Status, done.Error, timings
string id = await worker.EnqueueAsync(job);                       // returns once accepted
await worker.PerformInAsync(job, TimeSpan.FromMilliseconds(50));  // once, later
JobLoop loop = worker.PerformEvery(job, TimeSpan.FromSeconds(10), new EveryOptions { Sync = true });
Console.WriteLine($"performed {(int)done.Status} {done.Status}, enqueued {id}");

// One job on up to 8 concurrent workers, one more every 100 ms, for every item of a channel:
var channel = Channel.CreateUnbounded<string>();
await using (var concurrent = new ConcurrentJob(
    "mailer",
    job,
    new ConcurrentJobOptions
    {
        PerformWith = PerformWith.Receive,
        Source = JobSource.From(channel.Reader),
        MaxWorkers = 8,
        StartInterval = TimeSpan.FromMilliseconds(100),
    },
    provider.GetRequiredService<IWorkerFactory>()))
{
    concurrent.Start();
    foreach (var to in new[] { "bob@example.com", "eve@example.com" })
    {
        await channel.Writer.WriteAsync(to);
    }

    channel.Writer.Complete();
    await concurrent.Completion;
}

await worker.StopAsync();                                         // cancels future runs, waits for in-flight ones
Console.WriteLine("done");

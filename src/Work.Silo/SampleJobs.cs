using System.Globalization;
using Microsoft.Extensions.Hosting;
using Work.Handlers;
using Work.Workers;

namespace Work.Silo;

/// <summary>Runs a few sample jobs through a CommonWorker, prints each execution, then stops the host.</summary>
internal sealed class SampleJobs(IWorkerFactory workers, IHostApplicationLifetime lifetime, TimeProvider time) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var worker = workers.CreateWorker("sample");
        await worker.StartAsync(stoppingToken);
        try
        {
            Print(await worker.PerformAsync(new Job(SampleHandlers.Echo) { Args = JobArgs.From(new { greeting = "hello" }) }, cancellationToken: stoppingToken));
            Print(await worker.PerformAsync(new Job(SampleHandlers.Echo) { Args = JobArgs.From(new { status = 444 }) }, cancellationToken: stoppingToken));
            Print(await worker.PerformAsync(new Job(SampleHandlers.Sleep) { Args = JobArgs.From(new { ms = 50 }) }, cancellationToken: stoppingToken));
            Print(await worker.PerformAsync(new Job(SampleHandlers.Sleep) { Args = JobArgs.From(new { ms = 5_000 }), Timeout = TimeSpan.FromMilliseconds(100) }, cancellationToken: stoppingToken));
            Print(await worker.PerformAsync(new Job(SampleHandlers.Fail), cancellationToken: stoppingToken));
            Print(await worker.PerformAsync(new Job("no-such-handler"), cancellationToken: stoppingToken));

            var ticks = 0;
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            worker.Register("tick", context =>
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"tick {Interlocked.Increment(ref ticks)} due {context.ScheduledAt:HH:mm:ss.fff} started {context.StartedAt:HH:mm:ss.fff}"));
                if (ticks == 3)
                {
                    done.TrySetResult();
                }

                return Task.CompletedTask;
            });
            var loop = worker.PerformEvery(new Job("tick"), TimeSpan.FromMilliseconds(200), new EveryOptions { Sync = true });
            await done.Task.WaitAsync(stoppingToken);
            loop.Cancel();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"done at {time.GetUtcNow():HH:mm:ss.fff}"));
        }
        finally
        {
            await worker.StopAsync(CancellationToken.None);
            lifetime.StopApplication();
        }
    }

    private static void Print(JobExecution execution) =>
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{execution.Handler,-16} {(int)execution.Status,4} {execution.Status,-14} {execution.Duration.TotalMilliseconds,8:0.0} ms  {execution.ExecutionId}  {execution.Error}"));
}

using System.Threading.Channels;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;
using Work.Hosting;
using Work.Workers;
using WorkJob = Work.Job;

namespace Work.Benchmarks;

/// <summary>
/// No-op asynchronous performs through a CommonWorker against the bare shape it is built on: a channel read by the
/// same number of consumer tasks.
/// </summary>
public class WorkerThroughputBenchmarks
{
    private const int Operations = 100_000;
    private const int Consumers = 64;

    private ServiceProvider _services = null!;
    private IWorker _worker = null!;
    private Channel<int> _channel = null!;
    private Task[] _consumers = null!;
    private TaskCompletionSource _done = null!;
    private int _remaining;

    [GlobalSetup]
    public async Task Setup()
    {
        _services = new ServiceCollection()
            .AddWork(w => w.AddHandler("noop", _ =>
            {
                if (Interlocked.Decrement(ref _remaining) == 0)
                {
                    _done.TrySetResult();
                }

                return Task.CompletedTask;
            }))
            .Configure<WorkerOptions>(o => o.MaxConcurrency = Consumers)
            .BuildServiceProvider();
        _worker = _services.GetRequiredService<IWorkerFactory>().CreateWorker("bench");
        await _worker.StartAsync();

        _channel = Channel.CreateUnbounded<int>(new UnboundedChannelOptions { SingleReader = false, SingleWriter = false });
        _consumers = Enumerable.Range(0, Consumers).Select(_ => Task.Run(ConsumeAsync)).ToArray();
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        _channel.Writer.Complete();
        await Task.WhenAll(_consumers);
        await _worker.StopAsync();
        await _services.DisposeAsync();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Operations)]
    public async Task ChannelWithConsumers()
    {
        Reset();
        for (var i = 0; i < Operations; i++)
        {
            _channel.Writer.TryWrite(i);
        }

        await _done.Task;
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    public async Task CommonWorkerEnqueue()
    {
        Reset();
        var job = new WorkJob("noop");
        for (var i = 0; i < Operations; i++)
        {
            await _worker.EnqueueAsync(job);
        }

        await _done.Task;
    }

    private void Reset()
    {
        _remaining = Operations;
        _done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private async Task ConsumeAsync()
    {
        var reader = _channel.Reader;
        while (await reader.WaitToReadAsync())
        {
            while (reader.TryRead(out _))
            {
                // The same work as the handler: count down and signal the last one.
                await Task.CompletedTask;
                if (Interlocked.Decrement(ref _remaining) == 0)
                {
                    _done.TrySetResult();
                }
            }
        }
    }
}

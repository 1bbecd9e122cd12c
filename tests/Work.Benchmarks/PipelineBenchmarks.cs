using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Work.Adapters;
using Work.Diagnostics;
using Work.Pipeline;
using WorkJob = Work.Job;

namespace Work.Benchmarks;

/// <summary>
/// The cost of one execution through the pipeline with 0, 1 and 6 adapters, against calling the handler delegate
/// directly. Every variant makes the same fresh JobContext, so the differences are the adapters.
/// </summary>
public class PipelineBenchmarks
{
    private static readonly JobHandler s_handler = static ctx =>
    {
        ctx.Status = JobStatus.Success;
        return Task.CompletedTask;
    };

    private readonly WorkJob _job = new("noop");
    private readonly IServiceProvider _services = new ServiceCollection().BuildServiceProvider();
    private JobHandler _zero = null!;
    private JobHandler _one = null!;
    private JobHandler _six = null!;
    private JobExecutor _executor = null!;

    [GlobalSetup]
    public void Setup()
    {
        var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var instruments = new WorkInstruments(services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());
        var time = TimeProvider.System;
        _zero = new JobPipelineBuilder().Build(s_handler);
        _one = new JobPipelineBuilder().Use(RecoveryAdapter.Instance).Build(s_handler);
        _six = new JobPipelineBuilder()
            .Use(new LoggingAdapter(NullLoggerFactory.Instance, time))
            .Use(new MetricsAdapter(instruments, time))
            .Use(TracingAdapter.Instance)
            .Use(new HealthAdapter(new JobHealthMonitor(new HealthAdapterOptions(), time)))
            .Use(RecoveryAdapter.Instance)
            .Use(new TimeoutAdapter(time, instruments))
            .Build(s_handler);
        var registry = new JobHandlerRegistry();
        registry.Register("noop", s_handler);
        var full = new ServiceCollection().AddLogging().BuildServiceProvider();
        _executor = new JobExecutor(
            JobExecutor.BuildPipeline([], registry, time, instruments),
            full.GetRequiredService<IServiceScopeFactory>(),
            time,
            full.GetRequiredService<Microsoft.Extensions.Logging.ILoggerFactory>(),
            "bench");
    }

    private JobContext NewContext() =>
        new(_job, "id", 1, "bench", DateTimeOffset.UnixEpoch, _services, NullLogger.Instance, CancellationToken.None);

    [Benchmark(Baseline = true)]
    public Task DirectDelegate() => s_handler(NewContext());

    [Benchmark]
    public Task ZeroAdapters() => _zero(NewContext());

    [Benchmark]
    public Task OneAdapter() => _one(NewContext());

    [Benchmark]
    public Task SixAdapters() => _six(NewContext());

    /// <summary>A whole execution as a worker runs it: id, scope, context, recovery, timeout, dispatch, result.</summary>
    [Benchmark]
    public Task<JobExecution> Executor() =>
        _executor.ExecuteAsync(new ExecutionRequest(_job, ExecutionIds.New(DateTimeOffset.UnixEpoch), 1, DateTimeOffset.UnixEpoch, null, null), CancellationToken.None);
}

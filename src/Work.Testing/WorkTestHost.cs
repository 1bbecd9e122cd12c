using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Work.Hosting;
using Work.Workers;

namespace Work.Testing;

/// <summary>
/// Runs jobs through the same pipeline a worker or a silo runs them through (your adapters, then recovery and
/// timeout, then the handler) on a fake clock, so a test can check a handler's status, error and timings without a
/// cluster and without waiting:
/// <code>
/// await using var host = new WorkTestHost(work => work.AddHandler("email", SendAsync));
/// var done = await host.PerformAsync(new Job("email") { Args = JobArgs.From(new { to = "a@b.c" }) });
/// Assert.Equal(JobStatus.Success, done.Status);
/// </code>
/// </summary>
public sealed class WorkTestHost : IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private readonly IWorker _worker;
    private Task? _started;

    /// <summary>Registers what <paramref name="configure"/> adds, on a fake clock set to <paramref name="start"/> (1 January 2026 by default).</summary>
    public WorkTestHost(Action<IWorkBuilder> configure, DateTimeOffset? start = null)
    {
        ArgumentNullException.ThrowIfNull(configure);
        Time = new FakeTimeProvider(start ?? new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        _services = new ServiceCollection()
            .AddSingleton<TimeProvider>(Time)
            .AddWork(configure)
            .BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
        _worker = _services.GetRequiredService<IWorkerFactory>().CreateWorker();
    }

    /// <summary>The clock every timeout, delay and timing uses; advance it to let time pass.</summary>
    public FakeTimeProvider Time { get; }

    /// <summary>The services the handlers are resolved from.</summary>
    public IServiceProvider Services => _services;

    /// <summary>
    /// Runs <paramref name="job"/> and returns its execution. A handler that waits on the clock (a delay, its timeout)
    /// waits until the test advances <see cref="Time"/>: start the perform, advance, then await it.
    /// </summary>
    public async Task<JobExecution> PerformAsync(Job job, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        await (_started ??= _worker.StartAsync(CancellationToken.None));
        return await _worker.PerformAsync(job, cancellationToken: cancellationToken);
    }

    /// <summary>Runs the handler named <paramref name="handler"/> with <paramref name="args"/> and returns its execution.</summary>
    public Task<JobExecution> PerformAsync(string handler, JobArgs? args = null, CancellationToken cancellationToken = default) =>
        PerformAsync(new Job(handler) { Args = args ?? JobArgs.Empty }, cancellationToken);

    /// <summary>Stops the worker and disposes the services.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_started is not null)
        {
            await _worker.StopAsync();
        }

        await _services.DisposeAsync();
    }
}

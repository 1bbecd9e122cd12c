using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Work.Grains;

namespace Work.Hosting;

/// <summary>
/// Lets what runs on a silo that stops gracefully finish before its grains leave, so an execution that ends there is
/// recorded once and not run again elsewhere. First in the silo's stop, while the cluster still routes to it: its
/// executors take no more orders (their jobs send them to other silos), give their queued runs back, and the stop
/// waits, up to <see cref="WorkClusterOptions.DrainTimeout"/>, for every run here to finish and its job to record it.
/// Runs still going then are signalled to cancel and left to their leases: they count as lost and run again. An
/// ungraceful stop does not wait.
/// </summary>
internal sealed partial class ExecutorDrain(
    IOptions<WorkClusterOptions> options,
    TimeProvider time,
    ILogger<ExecutorDrain> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly Lock _lock = new();
    private readonly HashSet<JobExecutorGrain> _executors = [];
    private readonly TaskCompletionSource _draining = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _stopping;

    /// <summary>True once the silo began to stop: its executors take no more runs.</summary>
    public bool IsStopping => Volatile.Read(ref _stopping);

    /// <summary>Completes once the silo's executors took their last order and gave their queued runs back.</summary>
    public Task Draining => _draining.Task;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(ExecutorDrain), ServiceLifecycleStage.Active, _ => Task.CompletedTask, StopAsync);

    /// <summary>An executor activated on this silo; true when the silo is stopping already (it takes nothing).</summary>
    public bool Join(JobExecutorGrain executor)
    {
        lock (_lock)
        {
            _executors.Add(executor);
            return _stopping;
        }
    }

    /// <summary>An executor left memory.</summary>
    public void Leave(JobExecutorGrain executor)
    {
        lock (_lock)
        {
            _executors.Remove(executor);
        }
    }

    private async Task StopAsync(CancellationToken cancellationToken)
    {
        List<JobExecutorGrain> executors;
        lock (_lock)
        {
            _stopping = true;
            executors = [.. _executors];
        }

        var started = time.GetTimestamp();
        var drains = executors.ConvertAll(e => e.StopTakingAsync());
        _draining.TrySetResult();
        if (cancellationToken.IsCancellationRequested || executors.Count == 0)
        {
            return;
        }

        var (running, unconfirmed) = Holding(executors);

        LogDraining(logger, running, unconfirmed);
        using var deadline = new CancellationTokenSource(options.Value.DrainTimeout, time);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, cancellationToken);
        try
        {
            await Task.WhenAll(drains).WaitAsync(either.Token);
            var elapsed = time.GetElapsedTime(started);
            LogDrained(logger, running, elapsed.TotalMilliseconds);
        }
        catch (OperationCanceledException) when (either.IsCancellationRequested)
        {
            executors.ForEach(e => e.Abandon());
            (running, unconfirmed) = Holding(executors);
            LogDrainCutShort(logger, options.Value.DrainTimeout, running, unconfirmed);
        }
    }

    private static (int Running, int Unconfirmed) Holding(List<JobExecutorGrain> executors) =>
        executors.Aggregate((0, 0), (sum, e) => (sum.Item1 + e.RunningCount, sum.Item2 + e.UnconfirmedCount));

    [LoggerMessage(EventId = 2500, Level = LogLevel.Information, Message = "The silo is stopping: waiting for {Running} running executions to finish and {Unconfirmed} finished ones to be recorded")]
    private static partial void LogDraining(ILogger logger, int running, int unconfirmed);

    [LoggerMessage(EventId = 2501, Level = LogLevel.Information, Message = "Every execution on the stopping silo finished and was recorded ({Running} were running) in {Elapsed:F0} ms")]
    private static partial void LogDrained(ILogger logger, int running, double elapsed);

    [LoggerMessage(EventId = 2502, Level = LogLevel.Warning, Message = "The silo stops before its executions finished (waited {Waited}): {Running} still running are signalled to cancel and run again elsewhere once their leases run out; {Unconfirmed} finished ones are not recorded yet")]
    private static partial void LogDrainCutShort(ILogger logger, TimeSpan waited, int running, int unconfirmed);
}

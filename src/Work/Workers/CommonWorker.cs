using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Work.Diagnostics;
using Work.Pipeline;

namespace Work.Workers;

/// <summary>
/// The in-process worker on Tasks (go-work's <c>CommonWorker</c>), no cluster needed. Synchronous performs run on the
/// caller; accepted jobs go to a queue served by <see cref="WorkerOptions.MaxConcurrency"/> consumers. Every execution
/// gets its own context and service scope and runs the shared pipeline. Time comes from the injected
/// <see cref="TimeProvider"/>.
/// </summary>
public sealed partial class CommonWorker : IWorker
{
    private readonly JobHandlerRegistry _registry;
    private readonly JobExecutor _executor;
    private readonly WorkerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly WorkInstruments? _instruments;
    private readonly Channel<QueuedExecution> _queue;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<string, PendingOneShot> _pending = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, JobLoop> _loops = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private readonly List<Task> _consumers = [];
    private volatile State _state;
    private int _inline;
    private TaskCompletionSource? _inlineDrained;
    private Task? _stopTask;

    internal CommonWorker(
        string name,
        JobHandlerRegistry registry,
        IEnumerable<JobAdapter> adapters,
        WorkerOptions options,
        TimeProvider time,
        ILoggerFactory loggers,
        IServiceScopeFactory scopes,
        WorkInstruments? instruments)
    {
        var failures = options.Validate();
        if (failures.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", failures), nameof(options));
        }

        Name = name;
        _registry = registry;
        _options = options;
        _time = time;
        _instruments = instruments;
        _logger = loggers.CreateLogger<CommonWorker>();
        _executor = new JobExecutor(JobExecutor.BuildPipeline(adapters, registry, time, instruments), scopes, time, loggers, name);
        _queue = Channel.CreateUnbounded<QueuedExecution>(new UnboundedChannelOptions { SingleReader = false, SingleWriter = false });
    }

    private enum State
    {
        Created,
        Running,
        Stopping,
        Stopped,
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public bool IsRunning => _state == State.Running;

    /// <inheritdoc />
    public TimeProvider TimeProvider => _time;

    /// <summary>The handlers this worker knows.</summary>
    public JobHandlerRegistry Handlers => _registry;

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            if (_state != State.Created)
            {
                throw new InvalidOperationException($"Worker {Name} was already started{(_state >= State.Stopping ? " and has been stopped; create a new worker" : "")}.");
            }

            _state = State.Running;
            for (var i = 0; i < _options.MaxConcurrency; i++)
            {
                _consumers.Add(Task.Run(ConsumeAsync, CancellationToken.None));
            }
        }

        LogStarted(_logger, Name, _options.MaxConcurrency);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            if (_state == State.Created)
            {
                _state = State.Stopped;
                return Task.CompletedTask;
            }

            _stopTask ??= StopCoreAsync(cancellationToken);
            return _stopTask;
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stopping.Dispose();
    }

    /// <inheritdoc />
    public void Register(string name, JobHandler handler) => _registry.Register(name, handler);

    /// <inheritdoc />
    public async Task<JobExecution> PerformAsync(Job job, PerformOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        job.Validate();
        cancellationToken.ThrowIfCancellationRequested();
        BeginInline();
        try
        {
            return await ExecuteInlineAsync(Request(job, options), cancellationToken);
        }
        finally
        {
            EndInline();
        }
    }

    /// <inheritdoc />
    public ValueTask<string> EnqueueAsync(Job job, PerformOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        job.Validate();
        EnsureRunning();
        var request = Request(WorkDiagnostics.StampTraceContext(job, "enqueue"), options);
        Accept(new QueuedExecution(request, null));
        return ValueTask.FromResult(request.ExecutionId);
    }

    internal Task<JobExecution> ExecuteInlineAsync(ExecutionRequest request, CancellationToken cancellationToken)
    {
        if (!cancellationToken.CanBeCanceled)
        {
            return _executor.ExecuteAsync(request, _stopping.Token);
        }

        return ExecuteLinkedAsync(request, cancellationToken);
    }

    private async Task<JobExecution> ExecuteLinkedAsync(ExecutionRequest request, CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token, cancellationToken);
        return await _executor.ExecuteAsync(request, linked.Token);
    }

    internal ExecutionRequest Request(Job job, PerformOptions? options, DateTimeOffset? due = null)
    {
        var now = _time.GetUtcNow();
        return new ExecutionRequest(
            job,
            options?.ExecutionId ?? ExecutionIds.New(now),
            options?.Attempt ?? 1,
            due ?? options?.ScheduledAt ?? now,
            options?.JobName,
            options?.Item);
    }

    internal void BeginInline()
    {
        lock (_lock)
        {
            EnsureRunning();
            _inline++;
        }
    }

    internal void EndInline()
    {
        lock (_lock)
        {
            if (--_inline == 0)
            {
                _inlineDrained?.TrySetResult();
            }
        }
    }

    private void EnsureRunning()
    {
        var state = _state;
        if (state != State.Running)
        {
            throw new InvalidOperationException(state == State.Created
                ? $"Worker {Name} is not started: call StartAsync before performing jobs."
                : $"Worker {Name} is stopped: it performs no more jobs.");
        }
    }

    private void Accept(QueuedExecution execution)
    {
        if (TryAccept(execution) is null)
        {
            throw new InvalidOperationException($"Worker {Name} is stopped: it performs no more jobs.");
        }
    }

    private Task? TryAccept(QueuedExecution execution) =>
        _queue.Writer.TryWrite(execution) ? Task.CompletedTask : null;

    private async Task ConsumeAsync()
    {
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync())
        {
            while (reader.TryRead(out var execution))
            {
                try
                {
                    if (_state == State.Stopped)
                    {
                        LogDropped(_logger, Name, execution.Request.ExecutionId, execution.Request.Job.Handler);
                        continue;
                    }

                    await _executor.RunAsync(execution.Request, _stopping.Token);
                }
                finally
                {
                    execution.Slots?.Release();
                }
            }
        }
    }

    private async Task StopCoreAsync(CancellationToken cancellationToken)
    {
        Task inline;
        lock (_lock)
        {
            _state = State.Stopping;
            if (_inline == 0)
            {
                inline = Task.CompletedTask;
            }
            else
            {
                _inlineDrained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                inline = _inlineDrained.Task;
            }
        }

        var cancelledOneShots = 0;
        foreach (var id in _pending.Keys)
        {
            cancelledOneShots += CancelScheduled(id) ? 1 : 0;
        }

        // Future runs end; in-flight and already accepted executions see their token cancelled and are waited for.
        await _stopping.CancelAsync();
        _queue.Writer.TryComplete();
        var all = Task.WhenAll(_consumers.Concat(_loops.Values.Select(l => l.Completion)).Append(inline));
        try
        {
            await all.WaitAsync(_options.ShutdownTimeout, _time, cancellationToken);
        }
        catch (TimeoutException)
        {
            LogShutdownTimedOut(_logger, Name, _options.ShutdownTimeout);
        }
        finally
        {
            _state = State.Stopped;
            LogStopped(_logger, Name, cancelledOneShots);
        }
    }

    private readonly record struct QueuedExecution(ExecutionRequest Request, SemaphoreSlim? Slots);
}

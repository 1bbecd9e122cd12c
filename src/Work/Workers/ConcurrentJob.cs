using System.Collections.Concurrent;
using Work.Pipeline;

namespace Work.Workers;

/// <summary>
/// One job performed by up to <see cref="ConcurrentJobOptions.MaxWorkers"/> concurrent workers (go-work's
/// <c>ConcurrentJob</c>), in process. Worker k starts k × <see cref="ConcurrentJobOptions.StartInterval"/> after
/// <see cref="Start"/>; executions of the job never exceed the workers started so far. <see cref="Start"/> and
/// <see cref="StopAsync"/> never block the caller and never touch process signals.
/// </summary>
public sealed class ConcurrentJob : IAsyncDisposable
{
    private readonly IWorker _worker;
    private readonly TimeProvider _time;
    private readonly PerformWith _performWith;
    private readonly bool _sync;
    private readonly TimeSpan _interval;
    private readonly bool _runImmediately;
    private readonly TimeSpan _startInterval;
    private readonly JobSource? _source;
    private readonly SemaphoreSlim _slots;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _lock = new();
    private readonly TaskCompletionSource _idle = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _running;
    private int _started;
    private int _inFlight;
    private long _executions;
    private readonly ConcurrentBag<JobLoop> _loops = [];
    private bool _startCalled;
    private bool _workersDone;
    private Task? _stopTask;
    private Task _completion = Task.CompletedTask;

    /// <summary>Creates a concurrent job named <paramref name="name"/>, performed on a worker from <paramref name="workerFactory"/>.</summary>
    /// <exception cref="ArgumentException">The name is empty, the job is not valid, or the options are not; the message names every problem.</exception>
    public ConcurrentJob(string name, Job job, ConcurrentJobOptions options, IWorkerFactory workerFactory)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(workerFactory);
        if (string.IsNullOrWhiteSpace(name))
        {
            throw new ArgumentException("A concurrent job needs a name; it is empty.", nameof(name));
        }

        job.Validate();
        var failures = options.Validate();
        if (failures.Count > 0)
        {
            throw new ArgumentException($"Concurrent job '{name}' is not valid: {string.Join(" ", failures)}", nameof(options));
        }

        Name = name;
        Job = job;
        MaxWorkers = options.MaxWorkers;
        _performWith = options.PerformWith;
        _sync = options.Sync;
        _interval = options.Interval;
        _runImmediately = options.RunImmediately;
        _startInterval = options.StartInterval;
        _source = options.Source;
        _slots = new SemaphoreSlim(0, MaxWorkers);
        _worker = workerFactory.CreateWorker(name);
        _time = _worker.TimeProvider;
    }

    /// <summary>The job's name.</summary>
    public string Name { get; }

    /// <summary>The job performed.</summary>
    public Job Job { get; }

    /// <summary>The most executions at once.</summary>
    public int MaxWorkers { get; }

    /// <summary>The workers running now: started by the ramp and not yet finished or stopped.</summary>
    public int RunningWorkers => Volatile.Read(ref _running);

    /// <summary>Executions started so far.</summary>
    public long Executions => Interlocked.Read(ref _executions);

    /// <summary>Recurring ticks skipped because no worker was free.</summary>
    public long SkippedTicks => _loops.Sum(loop => loop.SkippedTicks);

    /// <summary>Completes when every worker has finished (Once: after its run; Receive: when the source completed) and no execution is in flight.</summary>
    public Task Completion => _completion;

    /// <summary>Registers a handler with the job's worker.</summary>
    public void Register(string name, JobHandler handler) => _worker.Register(name, handler);

    /// <summary>Starts the workers on the ramp and returns at once.</summary>
    /// <exception cref="InvalidOperationException">The job was already started.</exception>
    public void Start()
    {
        lock (_lock)
        {
            if (_startCalled)
            {
                throw new InvalidOperationException($"Concurrent job '{Name}' was already started; create a new one to run it again.");
            }

            _startCalled = true;
        }

        var start = _time.GetUtcNow();
        _completion = Task.Run(() => RunAsync(start));
    }

    /// <summary>
    /// Stops the workers and waits for in-flight executions (bounded by the worker's shutdown timeout);
    /// <paramref name="cancellationToken"/> ends the waiting sooner, not the stop.
    /// </summary>
    public Task StopAsync(CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return (_stopTask ??= StopCoreAsync()).WaitAsync(cancellationToken);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await _worker.DisposeAsync();
    }

    private async Task StopCoreAsync()
    {
        await _stopping.CancelAsync();
        await _worker.StopAsync();
    }

    private async Task RunAsync(DateTimeOffset start)
    {
        await _worker.StartAsync();
        var workers = new Task[MaxWorkers];
        for (var k = 0; k < MaxWorkers; k++)
        {
            workers[k] = RunWorkerAsync(start + (_startInterval * k));
        }

        await Task.WhenAll(workers);
        lock (_lock)
        {
            _workersDone = true;
            if (_inFlight == 0)
            {
                _idle.TrySetResult();
            }
        }

        await _idle.Task;
    }

    private async Task RunWorkerAsync(DateTimeOffset startAt)
    {
        var token = _stopping.Token;
        try
        {
            await _time.DelayUntilAsync(startAt, token);

            token.ThrowIfCancellationRequested();
            Interlocked.Increment(ref _started);
            Interlocked.Increment(ref _running);
            _slots.Release();
            try
            {
                await PerformAsync(startAt, token);
            }
            finally
            {
                Interlocked.Decrement(ref _running);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Stopped during the ramp or while waiting.
        }
        catch (InvalidOperationException) when (!_worker.IsRunning)
        {
            // The worker stopped between our check and the perform call.
        }
    }

    private async Task PerformAsync(DateTimeOffset startAt, CancellationToken token)
    {
        switch (_performWith)
        {
            case PerformWith.Once:
                await DispatchAsync(startAt, null, token);
                break;
            case PerformWith.Every:
                var loop = new JobLoop(Name, JobLoopKind.Every, token);
                _loops.Add(loop);
                await IntervalLoop.RunAsync(_time, startAt, _interval, _runImmediately, _sync, loop, TryTick);
                break;
            case PerformWith.Receive:
                while (true)
                {
                    var (hasItem, item) = await _source!.ReadAsync(token);
                    if (!hasItem)
                    {
                        return;
                    }

                    await DispatchAsync(_time.GetUtcNow(), item, token);
                }
        }
    }

    // Once and Receive wait for a free slot; sync waits for the run as well.
    private async Task DispatchAsync(DateTimeOffset due, object? item, CancellationToken token)
    {
        await _slots.WaitAsync(token);
        var run = RunAndReleaseAsync(due, item);
        if (_sync)
        {
            await run;
        }
    }

    // A recurring tick runs only if a slot is free now; otherwise it is skipped and counted.
    private Task? TryTick(DateTimeOffset due) => _slots.Wait(0) ? RunAndReleaseAsync(due, null) : null;

    private async Task RunAndReleaseAsync(DateTimeOffset due, object? item)
    {
        lock (_lock)
        {
            _inFlight++;
        }

        try
        {
            Interlocked.Increment(ref _executions);
            await _worker.PerformAsync(Job, new PerformOptions { JobName = Name, ScheduledAt = due, Item = item });
        }
        catch (InvalidOperationException) when (!_worker.IsRunning)
        {
            Interlocked.Decrement(ref _executions);
        }
        finally
        {
            _slots.Release();
            lock (_lock)
            {
                if (--_inFlight == 0 && _workersDone)
                {
                    _idle.TrySetResult();
                }
            }
        }
    }
}

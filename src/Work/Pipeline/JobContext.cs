using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Work.Pipeline;

/// <summary>
/// Everything one execution of a job sees (go-work's <c>Job.Ctx</c>): made fresh for every execution and never shared.
/// Adapters pass data down the chain through its key/values; the handler reports its outcome through
/// <see cref="Status"/> and <see cref="Error"/>.
/// </summary>
public sealed class JobContext
{
    private readonly IServiceProvider? _services;
    private readonly IServiceScopeFactory? _scopes;
    private Dictionary<string, object?>? _items;
    private AsyncServiceScope? _scope;

    internal JobContext(
        Job job,
        string executionId,
        int attempt,
        string worker,
        DateTimeOffset scheduledAt,
        IServiceProvider services,
        ILogger logger,
        CancellationToken cancellationToken)
    {
        Job = job;
        ExecutionId = executionId;
        Attempt = attempt;
        Worker = worker;
        ScheduledAt = scheduledAt;
        _services = services;
        Logger = logger;
        CancellationToken = cancellationToken;
    }

    /// <summary>The job being performed.</summary>
    public Job Job { get; }

    /// <summary>The job's arguments.</summary>
    public JobArgs Args => Job.Args;

    /// <summary>The name of the handler the job asks for.</summary>
    public string Handler => Job.Handler;

    /// <summary>The name of the concurrent job or job grain this execution belongs to, if any.</summary>
    public string? JobName { get; init; }

    /// <summary>This execution's id: unique, and the same for no other execution.</summary>
    public string ExecutionId { get; }

    /// <summary>1 for the first attempt, 2 for the first retry, and so on.</summary>
    public int Attempt { get; }

    /// <summary>The worker that runs the execution.</summary>
    public string Worker { get; }

    /// <summary>When the execution was due.</summary>
    public DateTimeOffset ScheduledAt { get; }

    /// <summary>When the pipeline started.</summary>
    public DateTimeOffset StartedAt { get; internal set; }

    /// <summary>When the execution ended; the default value while it runs.</summary>
    public DateTimeOffset FinishedAt { get; internal set; }

    /// <summary>
    /// The outcome; <see cref="JobStatus.Unknown"/> until someone sets it. Once the execution has ended at its timeout,
    /// a handler still running (abandoned) no longer changes it.
    /// </summary>
    public JobStatus Status
    {
        get;
        set
        {
            if (!Abandoned)
            {
                field = value;
            }
        }
    } = JobStatus.Unknown;

    /// <summary>The error that made the execution fail, if any; as <see cref="Status"/>, fixed once the execution ended at its timeout.</summary>
    public Exception? Error
    {
        get;
        set
        {
            if (!Abandoned)
            {
                field = value;
            }
        }
    }

    /// <summary>True once the execution ended at its timeout while its handler still ran: its outcome is fixed.</summary>
    internal bool Abandoned { get; set; }

    /// <summary>
    /// Signalled when the execution should end: at its timeout, or when its worker stops. Adapters may replace it with
    /// a linked token for the part of the chain inside them.
    /// </summary>
    public CancellationToken CancellationToken { get; set; }

    internal JobContext(
        Job job,
        string executionId,
        int attempt,
        string worker,
        DateTimeOffset scheduledAt,
        IServiceScopeFactory scopes,
        ILogger logger,
        CancellationToken cancellationToken)
        : this(job, executionId, attempt, worker, scheduledAt, services: null!, logger, cancellationToken) => _scopes = scopes;

    /// <summary>The execution's own service scope, made when first asked for and disposed when the execution ends.</summary>
    public IServiceProvider Services => _scopes is null ? _services! : (_scope ??= _scopes.CreateAsyncScope()).ServiceProvider;

    /// <summary>A logger for the handler, within the execution's log scope.</summary>
    public ILogger Logger { get; }

    /// <summary>The item this execution was given by <c>PerformReceive</c>, or <see langword="null"/>.</summary>
    public object? Item { get; init; }

    /// <summary>The received item as a <typeparamref name="T"/>.</summary>
    /// <exception cref="InvalidOperationException">There is no item or it is not a <typeparamref name="T"/>.</exception>
    public T GetItem<T>() => Item is T item
        ? item
        : throw new InvalidOperationException(
            $"Execution {ExecutionId} has {(Item is null ? "no received item" : $"an item of type {Item.GetType().Name}")}, not a {typeof(T).Name}.");

    /// <summary>Sets the status (go-work's <c>Ctx.SetStatus</c>).</summary>
    public void SetStatus(JobStatus status) => Status = status;

    /// <summary>Stores a value for adapters and the handler further down the chain.</summary>
    public void Set(string key, object? value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        (_items ??= new Dictionary<string, object?>(StringComparer.Ordinal))[key] = value;
    }

    /// <summary>Reads a value stored with <see cref="Set"/> when it exists and is a <typeparamref name="T"/>.</summary>
    public bool TryGet<T>(string key, [MaybeNullWhen(false)] out T value)
    {
        if (_items is not null && _items.TryGetValue(key, out var stored) && stored is T typed)
        {
            value = typed;
            return true;
        }

        value = default;
        return false;
    }

    /// <summary>True when a value is stored under <paramref name="key"/>.</summary>
    public bool Contains(string key) => _items?.ContainsKey(key) ?? false;

    /// <summary>Removes a stored value.</summary>
    public bool Remove(string key) => _items?.Remove(key) ?? false;

    internal ValueTask DisposeScopeAsync() => _scope is { } scope ? scope.DisposeAsync() : ValueTask.CompletedTask;
}

namespace Work;

/// <summary>
/// Binds a cluster job to an item source: every item enqueued to <see cref="Source"/> becomes exactly one execution of
/// the job (the item's args as the execution's args, a <see cref="WorkItem"/> in <c>JobContext.Item</c>), under the
/// job's MaxWorkers across the cluster, with its adapters, retries and history. The source is the product's table queue
/// in the silos' database (PostgreSQL or the SQLite file): the job claims items no faster than it has free slots,
/// keeps them invisible to other readers while it holds them, and acknowledges each once its execution's final status
/// is recorded; an item whose execution fails past the retry policy, or that was delivered
/// <see cref="MaxDeliveries"/> times without an acknowledgement, goes to the dead letter table.
/// <para>
/// <see cref="FromStream"/> binds the job to an Orleans stream instead: the stream <see cref="WorkStreams.Namespace"/>
/// keyed by the job's name, on the stream provider <see cref="Source"/> names. The job accepts each item durably (as
/// a perform is accepted) before the stream's delivery call returns, and only while it has room, so the stream is read
/// no faster than the job frees slots. <see cref="Visibility"/>, <see cref="MaxDeliveries"/> and
/// <see cref="PollInterval"/> are the table queue's and do not apply to a stream: its provider redelivers.
/// </para>
/// </summary>
[GenerateSerializer, Immutable, Alias("work.receive")]
public sealed record ReceiveBinding
{
    /// <summary>The longest a visibility timeout may be: one day.</summary>
    public static readonly TimeSpan MaxVisibility = TimeSpan.FromDays(1);

    /// <summary>The visibility timeout unless one is given: 5 minutes.</summary>
    public static readonly TimeSpan DefaultVisibility = TimeSpan.FromMinutes(5);

    /// <summary>The poll interval unless one is given: 1 second.</summary>
    public static readonly TimeSpan DefaultPollInterval = TimeSpan.FromSeconds(1);

    /// <summary>The deliveries before the dead letter table unless a number is given: 5.</summary>
    public const int DefaultMaxDeliveries = 5;

    /// <summary>Creates a binding to the table queue <paramref name="source"/>.</summary>
    public ReceiveBinding(string source) => Source = source;

    /// <summary>
    /// Binds a job to its Orleans stream on the stream provider <paramref name="provider"/>: the stream
    /// <see cref="WorkStreams.Namespace"/> keyed by the job's name (<see cref="WorkStreams.JobStream"/>). The silos
    /// must have that provider (the silo's <c>Work:Streams</c>, or <c>AddWorkMemoryStreams</c> /
    /// <c>AddWorkPostgresStreams</c> and their own providers).
    /// </summary>
    public static ReceiveBinding FromStream(string provider = WorkStreams.ProviderName) => new(provider) { Kind = SourceKind.Stream };

    /// <summary>The table queue's name, or for a stream, the stream provider's name (the rules of a job name).</summary>
    [Id(0)]
    public string Source { get; init; }

    /// <summary>What <see cref="Source"/> names: the product's table queue (the default) or an Orleans stream provider.</summary>
    [Id(4)]
    public SourceKind Kind { get; init; } = SourceKind.Table;

    /// <summary>
    /// How long a claimed item stays invisible to other readers; the job extends it while it holds the item, so it
    /// comes back only when the job's silo died (5 minutes by default; at least 1 second).
    /// </summary>
    [Id(1)]
    public TimeSpan Visibility { get; init; } = DefaultVisibility;

    /// <summary>How many times an item is delivered before it goes to the dead letter table unacknowledged (5 by default).</summary>
    [Id(2)]
    public int MaxDeliveries { get; init; } = DefaultMaxDeliveries;

    /// <summary>How often the job looks for new items while the source is empty (1 second by default).</summary>
    [Id(3)]
    public TimeSpan PollInterval { get; init; } = DefaultPollInterval;

    /// <summary>Every problem with the binding, empty when it is valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var failures = new List<string>();
        if (JobLimits.NameProblem(Source, "Receive.Source") is { } name)
        {
            failures.Add(name);
        }

        if (Kind is not (SourceKind.Table or SourceKind.Stream))
        {
            failures.Add($"Receive.Kind must be Table or Stream; it is {(int)Kind}.");
        }

        if (Visibility < TimeSpan.FromSeconds(1) || Visibility > MaxVisibility)
        {
            failures.Add($"Receive.Visibility must be between 1 second and 1 day; it is {Visibility}.");
        }

        if (MaxDeliveries < 1 || MaxDeliveries > 1000)
        {
            failures.Add($"Receive.MaxDeliveries must be between 1 and 1000; it is {MaxDeliveries}.");
        }

        if (PollInterval < TimeSpan.FromMilliseconds(10) || PollInterval > TimeSpan.FromMinutes(10))
        {
            failures.Add($"Receive.PollInterval must be between 10 ms and 10 minutes; it is {PollInterval}.");
        }

        return failures;
    }
}

/// <summary>The item an execution of a job bound to a source handles: <c>JobContext.Item</c>.</summary>
[GenerateSerializer, Immutable, Alias("work.item")]
public sealed record WorkItem
{
    /// <summary>The source it was enqueued to.</summary>
    [Id(0)]
    public required string Source { get; init; }

    /// <summary>The item's id in its source: a duplicate execution (at least once) carries the same id.</summary>
    [Id(1)]
    public long Id { get; init; }

    /// <summary>How many times it was delivered, this time included: above 1 it may have run before.</summary>
    [Id(2)]
    public int Deliveries { get; init; } = 1;

    /// <summary>The key that refused duplicates when it was enqueued (for a stream item, the publisher's key), or null.</summary>
    [Id(3)]
    public string? IdempotencyKey { get; init; }

    /// <summary>When it was enqueued (for a stream item, when the job accepted it).</summary>
    [Id(4)]
    public DateTimeOffset EnqueuedAt { get; init; }

    /// <summary>
    /// For an item from a stream, its index in the batch it was published in (with <see cref="Id"/>, the sequence
    /// number, its position in the stream as its provider delivered it); 0 for the table queue.
    /// </summary>
    [Id(5)]
    public int Index { get; init; }
}

/// <summary>What a <see cref="ReceiveBinding"/> reads.</summary>
public enum SourceKind
{
    /// <summary>The product's table queue in the silos' database.</summary>
    Table = 0,

    /// <summary>The job's Orleans stream (<see cref="WorkStreams.JobStream"/>) on a stream provider.</summary>
    Stream = 1,
}

/// <summary>One item to enqueue to a source.</summary>
[GenerateSerializer, Immutable, Alias("work.item-request")]
public sealed record ItemRequest
{
    /// <summary>The longest idempotency key: 200 characters.</summary>
    public const int MaxKeyLength = 200;

    /// <summary>The args of the execution it becomes, or null for the job's.</summary>
    [Id(0)]
    public JobArgs? Args { get; init; }

    /// <summary>
    /// A key unique in the source: an item enqueued again with the same key (while the first is in the source or
    /// within the retention after it was acknowledged) is refused as a duplicate. Null for none.
    /// </summary>
    [Id(1)]
    public string? IdempotencyKey { get; init; }

    /// <summary>Why the request cannot be enqueued, or null when it can.</summary>
    public string? Problem()
    {
        if (IdempotencyKey is { } key && (key.Length == 0 || key.Length > MaxKeyLength))
        {
            return $"An idempotency key must have 1 to {MaxKeyLength} characters; it has {key.Length}.";
        }

        return JobDefinition.ArgsSizeProblem(Args);
    }
}

/// <summary>What enqueueing one item did.</summary>
[GenerateSerializer, Immutable, Alias("work.enqueued")]
public sealed record EnqueuedItem
{
    /// <summary>The item's id; for a duplicate, the id of the item already holding its key.</summary>
    [Id(0)]
    public long Id { get; init; }

    /// <summary>True when its idempotency key was taken: nothing was enqueued.</summary>
    [Id(1)]
    public bool Duplicate { get; init; }
}

/// <summary>A source's items as they stand.</summary>
[GenerateSerializer, Immutable, Alias("work.source-info")]
public sealed record SourceInfo
{
    /// <summary>The source's name.</summary>
    [Id(0)]
    public required string Source { get; init; }

    /// <summary>Items waiting to be claimed.</summary>
    [Id(1)]
    public long Ready { get; init; }

    /// <summary>Items claimed by a job and not yet acknowledged.</summary>
    [Id(2)]
    public long Claimed { get; init; }

    /// <summary>Items acknowledged and kept (for their idempotency keys) until the retention passes.</summary>
    [Id(3)]
    public long Acknowledged { get; init; }

    /// <summary>Items in the dead letter table.</summary>
    [Id(4)]
    public long Dead { get; init; }
}

/// <summary>An item in the dead letter table: why it is there and what it carried.</summary>
[GenerateSerializer, Immutable, Alias("work.dead-item")]
public sealed record DeadItem
{
    /// <summary>The item as it was delivered the last time.</summary>
    [Id(0)]
    public required WorkItem Item { get; init; }

    /// <summary>Its args.</summary>
    [Id(1)]
    public JobArgs? Args { get; init; }

    /// <summary>The job that gave it up, or null when it went there for its deliveries.</summary>
    [Id(2)]
    public string? Job { get; init; }

    /// <summary>The final status of its last execution (0 when it went there for its deliveries).</summary>
    [Id(3)]
    public JobStatus Status { get; init; }

    /// <summary>Why it is there.</summary>
    [Id(4)]
    public string? Error { get; init; }

    /// <summary>When it went there.</summary>
    [Id(5)]
    public DateTimeOffset DeadAt { get; init; }
}

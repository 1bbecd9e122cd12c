namespace Work.Scheduling;

/// <summary>
/// The product's table queue of items in the silos' database (<c>work_items</c>, dead letters in
/// <c>work_dead_items</c>): what jobs bound to a source (<see cref="ReceiveBinding"/>) read. Registered by the SQL
/// stores under <see cref="Grains.WorkClusterOptions.StorageName"/>; a silo without one has no item sources.
/// </summary>
internal abstract class ItemStore
{
    /// <summary>The most items one claim takes.</summary>
    public const int MaxClaim = 1000;

    /// <summary>
    /// Enqueues <paramref name="items"/> to <paramref name="source"/> in one transaction, visible at once; an item whose
    /// idempotency key the source holds (or an earlier item of the same call holds) is refused as a duplicate.
    /// </summary>
    public abstract Task<IReadOnlyList<EnqueuedItem>> EnqueueAsync(string source, IReadOnlyList<ItemRequest> items, DateTimeOffset now);

    /// <summary>
    /// Claims up to <paramref name="count"/> items of <paramref name="source"/> visible at <paramref name="now"/>,
    /// oldest first, skipping items another reader is claiming: each is invisible until <paramref name="invisibleUntil"/>
    /// and counts one more delivery. An item already delivered <paramref name="maxDeliveries"/> times goes to the dead
    /// letter table instead.
    /// </summary>
    public abstract Task<List<ClaimedItem>> ClaimAsync(string source, int count, int maxDeliveries, DateTimeOffset now, DateTimeOffset invisibleUntil);

    /// <summary>Keeps the unacknowledged items of <paramref name="ids"/> invisible until <paramref name="invisibleUntil"/>.</summary>
    public abstract Task ExtendAsync(string source, IReadOnlyList<long> ids, DateTimeOffset invisibleUntil);

    /// <summary>
    /// Acknowledges, dead-letters (as given up by <paramref name="job"/>) or releases (visible again at once) items, in
    /// one transaction. Idempotent: an item acknowledged or dead already is left as it is.
    /// </summary>
    public abstract Task SettleAsync(string source, string job, IReadOnlyList<HeldItem> items, DateTimeOffset now);

    /// <summary>How many items of <paramref name="source"/> are ready, claimed, acknowledged and dead at <paramref name="now"/>.</summary>
    public abstract Task<SourceInfo> InfoAsync(string source, DateTimeOffset now);

    /// <summary>The newest <paramref name="count"/> dead items of <paramref name="source"/>, newest first.</summary>
    public abstract Task<IReadOnlyList<DeadItem>> DeadAsync(string source, int count);

    /// <summary>Deletes the items of <paramref name="source"/> acknowledged before <paramref name="before"/> (their keys are free again).</summary>
    public abstract Task<int> PurgeAsync(string source, DateTimeOffset before);

    /// <summary>The results of an enqueue: ids as inserted, a duplicate naming the item that holds its key.</summary>
    protected static List<EnqueuedItem> Resolve(IReadOnlyList<ItemRequest> items, IReadOnlyList<long?> inserted, IReadOnlyDictionary<string, long> existing)
    {
        var results = new List<EnqueuedItem>(items.Count);
        var byKey = new Dictionary<string, long>(existing, StringComparer.Ordinal);
        for (var i = 0; i < items.Count; i++)
        {
            if (inserted[i] is { } id)
            {
                results.Add(new EnqueuedItem { Id = id });
                if (items[i].IdempotencyKey is { } key)
                {
                    byKey.TryAdd(key, id);
                }

                continue;
            }

            results.Add(new EnqueuedItem { Id = byKey.GetValueOrDefault(items[i].IdempotencyKey ?? ""), Duplicate = true });
        }

        return results;
    }

    /// <summary>Why an item went to the dead letter table for its deliveries.</summary>
    protected static string DeliveriesError(int deliveries) =>
        $"Delivered {deliveries} times without an acknowledgement: its silo died each time it ran, or it kills the process that runs it.";
}

/// <summary>An item as claimed: what it is, and its args.</summary>
[GenerateSerializer, Immutable, Alias("work.claimed-item")]
internal sealed record ClaimedItem([property: Id(0)] WorkItem Item, [property: Id(1)] JobArgs? Args);

/// <summary>What becomes of a held item once its execution's final status is recorded.</summary>
internal enum ItemSettlement
{
    /// <summary>Still running or waiting: nothing yet.</summary>
    None,

    /// <summary>Done: acknowledged.</summary>
    Acknowledge,

    /// <summary>Failed past the retry policy: to the dead letter table.</summary>
    DeadLetter,

    /// <summary>Cancelled because the job stopped: visible again for the next reader.</summary>
    Release,
}

/// <summary>An item a job holds, from its claim until its settlement is written to the source.</summary>
[GenerateSerializer, Immutable, Alias("work.held-item")]
internal sealed record HeldItem
{
    /// <summary>The item.</summary>
    [Id(0)]
    public required WorkItem Item { get; init; }

    /// <summary>What becomes of it; <see cref="ItemSettlement.None"/> while its execution runs.</summary>
    [Id(1)]
    public ItemSettlement Settlement { get; init; }

    /// <summary>The final status of its execution, once settled.</summary>
    [Id(2)]
    public JobStatus Status { get; init; }

    /// <summary>The final error of its execution, once settled.</summary>
    [Id(3)]
    public string? Error { get; init; }

    /// <summary>True for an item from a stream: nothing is settled in a source, it is forgotten once its execution ends.</summary>
    [Id(4)]
    public bool FromStream { get; init; }
}

namespace Work.Cluster;

/// <summary>
/// An item source of the cluster (the key is its name): the product's table queue in the silos' database. Items
/// enqueued here (or inserted with SQL into <c>work_items</c>) are performed by the jobs bound to the source with
/// <see cref="JobDefinition.Receive"/>. Any silo answers; nothing is held in memory.
/// </summary>
[Alias("work.IItemSourceGrain")]
public interface IItemSourceGrain : IGrainWithStringKey
{
    /// <summary>The most items one call enqueues.</summary>
    public const int MaxPerCall = 10_000;

    /// <summary>
    /// Enqueues <paramref name="items"/> in one transaction, all or none of the valid ones; an item whose idempotency
    /// key is taken is refused as a duplicate (nothing enqueued for it).
    /// </summary>
    /// <exception cref="ArgumentException">The source's name or a request is not valid; nothing was enqueued.</exception>
    /// <exception cref="NotSupportedException">The silos keep no item sources (no database).</exception>
    [Alias("Enqueue")]
    Task<IReadOnlyList<EnqueuedItem>> EnqueueAsync(IReadOnlyList<ItemRequest> items);

    /// <summary>How many items are ready, claimed, acknowledged and dead.</summary>
    [Alias("GetInfo")]
    Task<SourceInfo> GetInfoAsync();

    /// <summary>The newest <paramref name="count"/> items of the dead letter table, newest first.</summary>
    [Alias("GetDead")]
    Task<IReadOnlyList<DeadItem>> GetDeadAsync(int count);
}

using Microsoft.Extensions.DependencyInjection;
using Orleans.Concurrency;
using Work.Cluster;
using Work.Scheduling;

namespace Work.Grains;

/// <summary>An item source: a front to the silos' <see cref="ItemStore"/>, answered by whichever silo is at hand.</summary>
[StatelessWorker]
internal sealed class ItemSourceGrain(TimeProvider time) : Grain, IItemSourceGrain
{
    /// <summary>The most dead items one call lists.</summary>
    public const int MaxDeadListed = 1000;

    public async Task<IReadOnlyList<EnqueuedItem>> EnqueueAsync(IReadOnlyList<ItemRequest> items)
    {
        var source = Source();
        ArgumentNullException.ThrowIfNull(items);
        if (items.Count == 0 || items.Count > IItemSourceGrain.MaxPerCall)
        {
            throw new ArgumentException($"An enqueue takes 1 to {IItemSourceGrain.MaxPerCall} items; it got {items.Count}. Nothing was enqueued.", nameof(items));
        }

        for (var i = 0; i < items.Count; i++)
        {
            var problem = items[i] is null ? "it is null." : items[i].Problem();
            if (problem is not null)
            {
                throw new ArgumentException($"Item {i}: {problem} Nothing was enqueued.", nameof(items));
            }
        }

        return await Store().EnqueueAsync(source, items, time.GetUtcNow());
    }

    public async Task<SourceInfo> GetInfoAsync() => await Store().InfoAsync(Source(), time.GetUtcNow());

    public async Task<IReadOnlyList<DeadItem>> GetDeadAsync(int count)
    {
        if (count < 0 || count > MaxDeadListed)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, $"Count must be between 0 and {MaxDeadListed}; it is {count}.");
        }

        return await Store().DeadAsync(Source(), count);
    }

    private string Source()
    {
        var source = this.GetPrimaryKeyString();
        return JobLimits.NameProblem(source, "A source name") is { } problem ? throw new ArgumentException(problem) : source;
    }

    private ItemStore Store() => ServiceProvider.GetKeyedService<ItemStore>(WorkClusterOptions.StorageName)
        ?? throw new NotSupportedException("This cluster keeps no item sources: sources live in the silos' database (UseWorkSqlite or UseWorkPostgres).");
}

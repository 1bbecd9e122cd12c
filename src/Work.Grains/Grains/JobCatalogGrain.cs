using Work.Hosting;

namespace Work.Grains;

/// <summary>The names of the defined jobs, kept in the work storage.</summary>
internal sealed class JobCatalogGrain(
    [PersistentState("catalog", WorkClusterOptions.StorageName)] IPersistentState<JobCatalogState> state) : Grain, IJobCatalogGrain
{
    public async Task AddAsync(string name)
    {
        if (state.State.Names.Add(name))
        {
            await state.WriteStateAsync();
        }
    }

    public Task<IReadOnlyList<string>> ListAsync() => Task.FromResult<IReadOnlyList<string>>(state.State.Names.ToList());
}

/// <summary>The catalog's state.</summary>
[GenerateSerializer, Alias("work.catalog-state")]
public sealed class JobCatalogState
{
    /// <summary>The names, sorted.</summary>
    [Id(0)]
    public SortedSet<string> Names { get; set; } = new(StringComparer.Ordinal);
}

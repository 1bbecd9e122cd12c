using Orleans.Storage;
using Work.Hosting;

namespace Work.Grains;

/// <summary>The names of the defined jobs, kept in the work storage.</summary>
internal sealed class JobCatalogGrain(
    [PersistentState("catalog", WorkClusterOptions.StorageName)] IPersistentState<JobCatalogState> state) : Grain, IJobCatalogGrain
{
    private const int WriteAttempts = 5;

    public async Task AddAsync(string name)
    {
        for (var attempt = 1; state.State.Names.Add(name); attempt++)
        {
            try
            {
                await state.WriteStateAsync();
                return;
            }
            catch (InconsistentStateException) when (attempt < WriteAttempts)
            {
                // Another activation of the catalog wrote meanwhile (possible for a moment while silos join or
                // leave): take its names and add this one to them.
                await state.ReadStateAsync();
            }
        }
    }

    public async Task<IReadOnlyList<string>> ListAsync()
    {
        // Names another activation may have added: read them before answering.
        await state.ReadStateAsync();
        return state.State.Names.ToList();
    }
}

/// <summary>The catalog's state.</summary>
[GenerateSerializer, Alias("work.catalog-state")]
public sealed class JobCatalogState
{
    /// <summary>The names, sorted.</summary>
    [Id(0)]
    public SortedSet<string> Names { get; set; } = new(StringComparer.Ordinal);
}

using Orleans.Storage;
using Work.Cluster;

namespace Work.Grains;

/// <summary>The names of the defined jobs, kept in the work storage.</summary>
internal sealed class JobCatalogGrain(
    [PersistentState("catalog", WorkClusterOptions.StorageName)] IPersistentState<JobCatalogState> state) : Grain, IJobCatalogGrain
{
    private const int WriteAttempts = 5;

    // A write failed: what is in memory may not be what storage holds.
    private bool _stale;

    public Task AddAsync(string name)
    {
        if (JobLimits.NameProblem(name) is { } problem)
        {
            throw new ArgumentException(problem, nameof(name));
        }

        return ChangeAsync(names => names.Add(name));
    }

    public Task RemoveAsync(string name) => ChangeAsync(names => names.Remove(name));

    public async Task<IReadOnlyList<string>> ListAsync()
    {
        // Names another activation may have added: read them before answering.
        await state.ReadStateAsync();
        return state.State.Names.ToList();
    }

    // Applies a change and writes it, if it changed anything.
    private async Task ChangeAsync(Func<SortedSet<string>, bool> change)
    {
        if (_stale)
        {
            await state.ReadStateAsync();
            _stale = false;
        }

        for (var attempt = 1; change(state.State.Names); attempt++)
        {
            try
            {
                await state.WriteStateAsync();
                return;
            }
            catch (InconsistentStateException) when (attempt < WriteAttempts)
            {
                // Another activation of the catalog wrote meanwhile (possible for a moment while silos join or
                // leave): take its names and apply the change to them.
                await state.ReadStateAsync();
            }
            catch (Exception)
            {
                // Not written: the next change reads storage first, so this one is not taken as done.
                _stale = true;
                throw;
            }
        }
    }
}

/// <summary>The catalog's state.</summary>
[GenerateSerializer, Alias("work.catalog-state")]
internal sealed class JobCatalogState
{
    /// <summary>The names, sorted.</summary>
    [Id(0)]
    public SortedSet<string> Names { get; set; } = new(StringComparer.Ordinal);
}

namespace Work.Cluster;

/// <summary>The names of all defined jobs; one grain, key <see cref="Key"/>. Read it in pages.</summary>
[Alias("work.IJobCatalogGrain")]
public interface IJobCatalogGrain : IGrainWithStringKey
{
    /// <summary>The catalog's key.</summary>
    const string Key = "catalog";

    /// <summary>The most names one page holds.</summary>
    const int MaxPageSize = 10_000;

    /// <summary>Adds a name (idempotent); returns once it is stored.</summary>
    [Alias("Add")]
    Task AddAsync(string name);

    /// <summary>Removes a name (idempotent); returns once it is stored.</summary>
    [Alias("Remove")]
    Task RemoveAsync(string name);

    /// <summary>
    /// Up to <paramref name="count"/> names (1 to <see cref="MaxPageSize"/>) that sort after <paramref name="after"/>
    /// in ordinal order, from the first with null. A page shorter than asked for is the last.
    /// </summary>
    [Alias("Page")]
    Task<IReadOnlyList<string>> ListAsync(string? after, int count);

    /// <summary>How many names it holds.</summary>
    [Alias("Count")]
    Task<int> CountAsync();
}

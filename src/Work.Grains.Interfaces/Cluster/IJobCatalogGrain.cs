namespace Work.Cluster;

/// <summary>The names of all defined jobs; one grain, key <see cref="Key"/>.</summary>
[Alias("work.IJobCatalogGrain")]
public interface IJobCatalogGrain : IGrainWithStringKey
{
    /// <summary>The catalog's key.</summary>
    const string Key = "catalog";

    /// <summary>Adds a name (idempotent).</summary>
    [Alias("Add")]
    Task AddAsync(string name);

    /// <summary>Removes a name (idempotent).</summary>
    [Alias("Remove")]
    Task RemoveAsync(string name);

    /// <summary>All names, sorted.</summary>
    [Alias("List")]
    Task<IReadOnlyList<string>> ListAsync();
}

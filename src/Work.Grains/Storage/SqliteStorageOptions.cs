namespace Work.Storage;

/// <summary>Where the embedded SQLite database is.</summary>
public sealed class SqliteStorageOptions
{
    /// <summary>The connection string, e.g. <c>Data Source=data/work.db</c>.</summary>
    public required string ConnectionString { get; init; }
}

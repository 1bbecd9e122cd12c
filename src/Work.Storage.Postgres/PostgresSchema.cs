using Npgsql;
using Work.Hosting;

namespace Work.Storage.Postgres;

/// <summary>
/// Applies the project's PostgreSQL scripts (deploy/postgres, embedded in this assembly) to a database. The scripts
/// are idempotent, and silos starting together take turns: each applies them under one transaction-scoped advisory
/// lock.
/// </summary>
public static class PostgresSchema
{
    /// <summary>The scripts, in the order they must run.</summary>
    public static IReadOnlyList<string> Scripts { get; } =
        ["Postgres-Main.sql", "Postgres-Clustering.sql", "Postgres-Persistence.sql", "Postgres-Reminders.sql", "Postgres-Items.sql", "Postgres-Streaming.sql"];

    // An arbitrary key that names "the Work.Orleans schema" among advisory locks.
    private const long LockKey = 0x574F524B_5343484D; // "WORKSCHM"

    /// <summary>Applies every script in one transaction.</summary>
    public static async Task ApplyAsync(string connectionString, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var command = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@key)", connection, transaction))
        {
            command.Parameters.AddWithValue("key", LockKey);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        foreach (var script in Scripts)
        {
            await using var command = new NpgsqlCommand(EmbeddedSql.Read(typeof(PostgresSchema).Assembly, script), connection, transaction);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>Where a connection string points, without its credentials: for messages and logs.</summary>
    public static string Describe(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        return $"PostgreSQL database '{builder.Database ?? builder.Username}' on {builder.Host}:{builder.Port}";
    }
}

using Microsoft.Data.Sqlite;
using Work.Hosting;

namespace Work.Storage.Sqlite;

/// <summary>Applies the project's SQLite scripts (deploy/sqlite, embedded in this assembly) to a database, idempotently.</summary>
public static class SqliteSchema
{
    private static readonly string[] s_scripts = ["Sqlite-Main.sql", "Sqlite-Persistence.sql", "Sqlite-Reminders.sql", "Sqlite-Items.sql"];

    /// <summary>Creates the database file's folder if needed and applies every script.</summary>
    public static async Task ApplyAsync(string connectionString, CancellationToken cancellationToken = default)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString);
        if (Path.GetDirectoryName(Path.GetFullPath(builder.DataSource)) is { Length: > 0 } folder)
        {
            Directory.CreateDirectory(folder);
        }

        await using var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        foreach (var script in s_scripts)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = EmbeddedSql.Read(typeof(SqliteSchema).Assembly, script);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }
}

using Npgsql;
using Work.Storage.Postgres;

namespace Work.Silo;

/// <summary><c>Work.Silo migrate</c>: applies the PostgreSQL schema and exits (0 done, 1 failed, 2 not configured).</summary>
internal static class SchemaMigration
{
    public static async Task<int> RunAsync(string? connectionString, TextWriter output, TextWriter error)
    {
        var failures = new SiloHostOptions { Storage = SiloStorage.Postgres }.Validate(connectionString);
        if (failures.Count > 0)
        {
            await error.WriteLineAsync("Cannot migrate: " + string.Join(" ", failures));
            return 2;
        }

        var where = PostgresSchema.Describe(connectionString!);
        try
        {
            await PostgresSchema.ApplyAsync(connectionString!);
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or TimeoutException)
        {
            await error.WriteLineAsync($"Could not apply the Work.Orleans schema to the {where}: {ex.Message}");
            return 1;
        }

        await output.WriteLineAsync($"Applied {string.Join(", ", PostgresSchema.Scripts)} to the {where}.");
        return 0;
    }
}

using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Work.Storage;

namespace Work.Hosting;

/// <summary>Picks where a silo keeps the job grains' state and its reminders.</summary>
public static class WorkStorageSiloBuilderExtensions
{
    /// <summary>
    /// Keeps grain state (Orleans' ADO.NET grain storage on Microsoft.Data.Sqlite, with the project's SQL) and reminders
    /// (the project's SQLite reminder table) in the SQLite file at <paramref name="databasePath"/>, created with its
    /// schema if missing: one node whose schedules survive a restart with nothing installed.
    /// </summary>
    public static ISiloBuilder UseWorkSqlite(this ISiloBuilder builder, string databasePath)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(databasePath);
        var connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path.GetFullPath(databasePath),
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();

        // The provider reads its queries when the silo starts, so the schema must be there first.
        SqliteSchema.ApplyAsync(connectionString).GetAwaiter().GetResult();
        builder.AddAdoNetGrainStorage(WorkClusterOptions.StorageName, options =>
        {
            options.Invariant = "Microsoft.Data.Sqlite";
            options.ConnectionString = connectionString;
        });
        builder.AddReminders();
        builder.Services.AddSingleton(new SqliteStorageOptions { ConnectionString = connectionString });
        builder.Services.AddSingleton<IReminderTable, SqliteReminderTable>();
        return builder;
    }
}

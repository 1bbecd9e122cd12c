using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Serialization;
using Orleans.Storage;
using Work.Grains;
using Work.Scheduling;
using Work.Storage.Sqlite;

namespace Work.Hosting;

/// <summary>Keeps a silo's job state and reminders in one SQLite file: the single-node default.</summary>
public static class WorkSqliteSiloBuilderExtensions
{
    /// <summary>
    /// Keeps jobs' journals (written from the store's own threads, many jobs' writes in one transaction), item sources, grain state
    /// (Orleans' ADO.NET grain storage on Microsoft.Data.Sqlite, with this package's SQL) and reminders (this package's
    /// SQLite reminder table) in the SQLite file at <paramref name="databasePath"/>, created with its
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
        builder.AddAdoNetGrainStorage(WorkClusterOptions.StorageName, (OptionsBuilder<AdoNetGrainStorageOptions> options) => options
            .Configure<Serializer>((o, serializer) =>
            {
                // Orleans 10.4.2 knows SQLite as "System.Data.SQLite" and loads Microsoft.Data.Sqlite's factory for it.
                o.Invariant = "System.Data.SQLite";
                o.ConnectionString = connectionString;

                // Orleans' own binary format, versioned by the [Id]s of the state types (the default JSON cannot
                // round-trip every state type).
                o.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer);
            }));
        builder.AddReminders();
        builder.Services.AddSingleton(new SqliteDatabase(connectionString));

        // Jobs keep their records in a journal of their own, written by one thread that commits many jobs' writes together.
        builder.Services.AddKeyedSingleton<IJobRecordStorage>(WorkClusterOptions.StorageName, static (services, _) => new SqliteJobJournal(
            services.GetRequiredService<SqliteDatabase>(), services.GetRequiredService<Serializer>(), services.GetRequiredService<IOptions<ClusterOptions>>()));
        builder.Services.AddSingleton<IReminderTable, SqliteReminderTable>();
        builder.Services.AddKeyedSingleton<ItemStore>(WorkClusterOptions.StorageName, static (services, _) => new SqliteItemStore(services.GetRequiredService<SqliteDatabase>()));
        return builder;
    }
}

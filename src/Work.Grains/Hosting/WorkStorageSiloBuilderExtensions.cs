using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Serialization;
using Orleans.Storage;
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
        builder.Services.AddSingleton(new SqliteStorageOptions { ConnectionString = connectionString });
        builder.Services.AddSingleton<IReminderTable, SqliteReminderTable>();
        return builder;
    }

    /// <summary>
    /// Keeps grain state and reminders in the silo's memory: nothing survives the silo, for trying things out and for
    /// tests. State is copied with Orleans' binary serializer, as the durable backends store it (Orleans' default for
    /// memory storage, JSON, is several times slower on the job's state).
    /// </summary>
    public static ISiloBuilder UseWorkMemoryStorage(this ISiloBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddMemoryGrainStorage(WorkClusterOptions.StorageName, (OptionsBuilder<MemoryGrainStorageOptions> options) => options
            .Configure<Serializer>((o, serializer) => o.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer)));
        return builder.UseInMemoryReminderService();
    }

    /// <summary>The ADO.NET invariant Orleans knows PostgreSQL by (served by Npgsql).</summary>
    public const string PostgresInvariant = "Npgsql";

    /// <summary>
    /// Keeps grain state and reminders in PostgreSQL with Orleans' ADO.NET providers and the project's SQL
    /// (deploy/postgres). When <paramref name="applySchema"/> is true, the silo applies that SQL first thing at start;
    /// otherwise the database must already have it.
    /// </summary>
    public static ISiloBuilder UseWorkPostgres(this ISiloBuilder builder, string connectionString, bool applySchema = true)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        builder.AddAdoNetGrainStorage(WorkClusterOptions.StorageName, (OptionsBuilder<AdoNetGrainStorageOptions> options) => options
            .Configure<Serializer>((o, serializer) =>
            {
                o.Invariant = PostgresInvariant;
                o.ConnectionString = connectionString;
                o.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer);
            }));
        builder.UseAdoNetReminderService(o =>
        {
            o.Invariant = PostgresInvariant;
            o.ConnectionString = connectionString;
        });
        if (applySchema)
        {
            builder.ApplyWorkPostgresSchema(connectionString);
        }

        return builder;
    }

    /// <summary>
    /// Keeps cluster membership in PostgreSQL with Orleans' ADO.NET clustering and the project's SQL, so silos on
    /// several hosts find each other and clients find the gateways. Applies the schema first, as
    /// <see cref="UseWorkPostgres"/> does, when <paramref name="applySchema"/> is true.
    /// </summary>
    public static ISiloBuilder UseWorkPostgresClustering(this ISiloBuilder builder, string connectionString, bool applySchema = true)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        builder.UseAdoNetClustering(o =>
        {
            o.Invariant = PostgresInvariant;
            o.ConnectionString = connectionString;
        });
        if (applySchema)
        {
            builder.ApplyWorkPostgresSchema(connectionString);
        }

        return builder;
    }

    private static void ApplyWorkPostgresSchema(this ISiloBuilder builder, string connectionString)
    {
        // Storage and clustering on the same database apply it once.
        var target = new PostgresSchemaStartup.Target(connectionString);
        if (builder.Services.Any(d => d.ServiceType == typeof(PostgresSchemaStartup.Target) && Equals(d.ImplementationInstance, target)))
        {
            return;
        }

        builder.Services.AddSingleton(target);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<ILifecycleParticipant<ISiloLifecycle>, PostgresSchemaStartup>());
    }
}

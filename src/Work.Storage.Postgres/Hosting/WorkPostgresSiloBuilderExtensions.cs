using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Serialization;
using Npgsql;
using Orleans.Storage;
using Work.Grains;
using Work.Scheduling;
using Work.Storage.Postgres;

namespace Work.Hosting;

/// <summary>Keeps a cluster's job state, reminders and membership in PostgreSQL.</summary>
public static class WorkPostgresSiloBuilderExtensions
{
    /// <summary>The ADO.NET invariant Orleans knows PostgreSQL by (served by Npgsql).</summary>
    public const string PostgresInvariant = "Npgsql";

    // The connections jobs' journals load through.
    private const string JournalLoadsKey = WorkClusterOptions.StorageName + ".journal-loads";

    /// <summary>
    /// Keeps jobs' journals (a write of a job is one INSERT), item sources, grain state and reminders in PostgreSQL, with Npgsql,
    /// Orleans' ADO.NET providers and the project's SQL (this package's SQL, also in deploy/postgres). When <paramref name="applySchema"/> is true, the silo applies that SQL first thing at start;
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
        // Jobs keep their records in a journal of their own, a write of a job in one INSERT.
        builder.Services.AddKeyedSingleton(WorkClusterOptions.StorageName, (_, _) => PostgresJobJournal.CreateDataSource(connectionString));
        builder.Services.AddKeyedSingleton(JournalLoadsKey, (_, _) => PostgresJobJournal.CreateDataSource(connectionString, planEachCall: true));
        builder.Services.AddKeyedSingleton<IJobRecordStorage>(WorkClusterOptions.StorageName, static (services, key) => new PostgresJobJournal(
            services.GetRequiredKeyedService<NpgsqlDataSource>(key),
            services.GetRequiredKeyedService<NpgsqlDataSource>(JournalLoadsKey),
            services.GetRequiredService<Serializer>(),
            services.GetRequiredService<IOptions<ClusterOptions>>()));
        builder.Services.AddKeyedSingleton<ItemStore>(WorkClusterOptions.StorageName, static (services, key) => new PostgresItemStore(services.GetRequiredKeyedService<NpgsqlDataSource>(key)));
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

    internal static void ApplyWorkPostgresSchema(this ISiloBuilder builder, string connectionString)
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

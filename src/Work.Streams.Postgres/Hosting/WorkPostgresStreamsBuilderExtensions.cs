using Orleans.Configuration;
using Orleans.Streams;
using Work.Grains;

namespace Work.Hosting;

/// <summary>Durable Orleans streams in PostgreSQL for jobs bound to a stream (<see cref="ReceiveBinding.FromStream"/>).</summary>
public static class WorkPostgresStreamsBuilderExtensions
{
    /// <summary>
    /// Adds the stream provider <see cref="WorkStreams.ProviderName"/> for jobs bound to a stream
    /// (<see cref="ReceiveBinding.FromStream"/>), durable in PostgreSQL with Orleans' ADO.NET streams and the
    /// project's SQL (Postgres-Streaming.sql in Work.Storage.Postgres, applied with the rest): an item stays in the database until the job has accepted it durably, and
    /// a silo that dies while it holds items read from its queues leaves them to another after
    /// <see cref="WorkStreamOptions.Visibility"/>. Clients that publish need the provider too (the same call on a client).
    /// </summary>
    public static ISiloBuilder AddWorkPostgresStreams(this ISiloBuilder builder, string connectionString, WorkStreamOptions? options = null, bool applySchema = true)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        options ??= new WorkStreamOptions();
        if (options.Validate() is { Count: > 0 } problems)
        {
            throw new ArgumentException("Work streams: " + string.Join(" ", problems), nameof(options));
        }

        builder.AddAdoNetStreams(WorkStreams.ProviderName, (SiloAdoNetStreamConfigurator streams) =>
        {
            streams.ConfigureAdoNet(adoNet => adoNet.Configure(o => Configure(o, connectionString, options)));
            streams.ConfigurePartitioning(options.Partitions);
            streams.ConfigureCache(options.CacheSize);
            streams.ForJobs();
        });
        if (applySchema)
        {
            builder.ApplyWorkPostgresSchema(connectionString);
        }

        return builder;
    }

    /// <summary>Adds the durable stream provider of <see cref="AddWorkPostgresStreams(ISiloBuilder, string, WorkStreamOptions?, bool)"/> to a client, so it can publish to jobs' streams.</summary>
    public static IClientBuilder AddWorkPostgresStreams(this IClientBuilder builder, string connectionString, WorkStreamOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        options ??= new WorkStreamOptions();
        return builder.AddAdoNetStreams(WorkStreams.ProviderName, (ClusterClientAdoNetStreamConfigurator streams) =>
        {
            streams.ConfigureAdoNet(adoNet => adoNet.Configure(o => Configure(o, connectionString, options)));
            streams.ConfigurePartitioning(options.Partitions);
            streams.ConfigureStreamPubSub(StreamPubSubType.ImplicitOnly);
        });
    }

    private static void Configure(AdoNetStreamOptions o, string connectionString, WorkStreamOptions options)
    {
        o.Invariant = WorkPostgresSiloBuilderExtensions.PostgresInvariant;
        o.ConnectionString = connectionString;
        o.VisibilityTimeout = options.Visibility;
        o.MaxAttempts = options.MaxDeliveries;

        // An item waits for its job as long as it takes (a stopped job holds its stream back), up to the retention.
        o.ExpiryTimeout = options.Retention;
        o.DeadLetterEvictionTimeout = options.Retention;
    }
}

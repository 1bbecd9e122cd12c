using Orleans.Streams;

namespace Work.Client;

/// <summary>Lets a client publish to jobs' streams (<see cref="WorkStreams"/>).</summary>
public static class WorkStreamsClientBuilderExtensions
{
    /// <summary>
    /// Adds the silos' in-memory stream provider <see cref="WorkStreams.ProviderName"/> to a client, with the silos'
    /// number of queues (<c>Work:Streams:Partitions</c>, 8 by default): what it publishes goes to the silos' memory,
    /// not durable. On PostgreSQL, a client uses <c>AddWorkPostgresStreams</c> from Work.Storage.Postgres instead.
    /// </summary>
    public static IClientBuilder AddWorkMemoryStreams(this IClientBuilder builder, int partitions = 8)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentOutOfRangeException.ThrowIfLessThan(partitions, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(partitions, 64);
        return builder.AddMemoryStreams(WorkStreams.ProviderName, streams =>
        {
            streams.ConfigurePartitioning(partitions);
            streams.ConfigureStreamPubSub(StreamPubSubType.ImplicitOnly);
        });
    }
}

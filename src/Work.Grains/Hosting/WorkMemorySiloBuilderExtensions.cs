using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Serialization;
using Orleans.Storage;
using Work.Scheduling;
using Work.Grains;

namespace Work.Hosting;

/// <summary>Keeps a silo's job state and reminders in memory, for trying things out and for tests.</summary>
public static class WorkMemorySiloBuilderExtensions
{
    /// <summary>
    /// Keeps grain state and reminders in the silo's memory: nothing survives the silo, for trying things out and for
    /// tests. A job's records are held in bucket grains as written, one call a write and no serialization within a
    /// silo; they are copied when a job activation reads them. Other grain state is copied with Orleans' binary
    /// serializer, as the durable backends store it (Orleans' default for memory storage, JSON, is several times
    /// slower).
    /// </summary>
    public static ISiloBuilder UseWorkMemoryStorage(this ISiloBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddMemoryGrainStorage(WorkClusterOptions.StorageName, (OptionsBuilder<MemoryGrainStorageOptions> options) => options
            .Configure<Serializer>((o, serializer) => o.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer)));
        builder.Services.AddKeyedSingleton<IJobRecordStorage>(WorkClusterOptions.StorageName, static (services, _) =>
            new MemoryJobRecordStorage(services.GetRequiredService<IGrainFactory>(), services.GetRequiredService<DeepCopier>()));
        return builder.UseInMemoryReminderService();
    }

    /// <summary>
    /// Adds the stream provider <see cref="WorkStreams.ProviderName"/> in memory, for jobs bound to a stream
    /// (<see cref="ReceiveBinding.FromStream"/>): items live in the silos' memory until a job accepts them and are
    /// lost with the silo that holds them. Not durable: on PostgreSQL, <c>AddWorkPostgresStreams</c> is.
    /// </summary>
    public static ISiloBuilder AddWorkMemoryStreams(this ISiloBuilder builder, WorkStreamOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        options ??= new WorkStreamOptions();
        if (options.Validate() is { Count: > 0 } problems)
        {
            throw new ArgumentException("Work streams: " + string.Join(" ", problems), nameof(options));
        }

        return builder.AddMemoryStreams(WorkStreams.ProviderName, streams =>
        {
            streams.ConfigurePartitioning(options.Partitions);
            streams.ForJobs();
        });
    }
}

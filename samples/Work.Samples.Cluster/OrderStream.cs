using Orleans.Streams;
using Work.Client;

namespace Work.Samples.Cluster;

/// <summary>A job that runs once for every item published to its Orleans stream (silos with Work:Streams:Enabled=true).</summary>
public static class OrderStream
{
    public static async Task DefineAndPublishAsync(WorkClient client, IClusterClient cluster)
    {
        await client.DefineAsync("orders", new JobDefinition(new Job("ship")) { MaxWorkers = 8, Receive = ReceiveBinding.FromStream() });
        await client.StartAsync("orders");

        // Any grain or client with the provider publishes (clients: AddWorkMemoryStreams, or AddWorkPostgresStreams).
        IAsyncStream<ItemRequest> stream = cluster.GetStreamProvider(WorkStreams.ProviderName).JobStream("orders");
        await stream.OnNextAsync(new ItemRequest { Args = JobArgs.From(new { id = 42 }), IdempotencyKey = "order-42" });
    }
}

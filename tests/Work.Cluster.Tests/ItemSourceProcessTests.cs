using System.Net.Http.Json;
using System.Text.Json;
using Xunit.Abstractions;

namespace Work.Cluster.Tests;

/// <summary>
/// A job reading an item source on three real silo processes on PostgreSQL, with the silo of the job SIGKILLed
/// midway: no item is lost, and every item that ran more than once is identifiable by its id.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class ItemSourceProcessTests(ITestOutputHelper output)
{
    private const int Items = 3_000;

    [Fact]
    public async Task NoItemIsLostWhenTheJobsSiloIsKilledMidway()
    {
        await using var cluster = PostgresSiloCluster.Start(PostgresServer.Shared.CreateDatabase("items"), 3, PostgresSiloCluster.FastFailureDetection);
        try
        {
            await cluster.WaitForActiveAsync(3);
            var (host, client) = await cluster.ConnectAsync();
            using var _ = host;
            await client.DefineAsync("orders", new JobDefinition(new Job("sleep"))
            {
                MaxWorkers = 8,
                HistoryLimit = JobDefinition.MaxHistoryLimit,
                Receive = new ReceiveBinding("incoming") { Visibility = TimeSpan.FromSeconds(5), PollInterval = TimeSpan.FromMilliseconds(100) },
            });
            await client.StartAsync("orders");
            var ids = new List<long>();
            for (var sent = 0; sent < Items - 1_000; sent += 1_000)
            {
                var batch = Enumerable.Range(sent, 1_000).Select(i => new ItemRequest { Args = JobArgs.From(new { ms = 5, n = i }), IdempotencyKey = $"order-{i}" }).ToList();
                ids.AddRange((await client.EnqueueItemsAsync("incoming", batch)).Select(e => e.Id));
            }

            // The last thousand through the HTTP API, one of them twice: the key refuses the second.
            await cluster.Silos[0].ReadyAsync();
            using var http = cluster.Silos[0].Http();
            var items = Enumerable.Range(Items - 1_000, 1_000).Append(Items - 1).Select(i => new { args = new { ms = 5, n = i }, idempotencyKey = $"order-{i}" });
            using var response = await http.PostAsJsonAsync("api/sources/incoming/items", new { items });
            Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
            var enqueued = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("items").EnumerateArray()
                .Select(e => (Id: e.GetProperty("id").GetInt64(), Duplicate: e.GetProperty("duplicate").GetBoolean())).ToList();
            Assert.Equal([.. Enumerable.Repeat(false, 1_000), true], enqueued.Select(e => e.Duplicate));
            Assert.Equal(enqueued[^2].Id, enqueued[^1].Id);
            ids.AddRange(enqueued.Take(1_000).Select(e => e.Id));

            // Kill the silo the job runs on once a third of the items are done.
            await Eventually.WaitUntilAsync(async () => (await client.GetSourceAsync("incoming")).Acknowledged >= Items / 3, "a third of the items acknowledged");
            var silo = (await client.GetInfoAsync("orders")).Silo!;
            var victim = cluster.Silos.Single(s => silo.StartsWith(s.AddressPrefix, StringComparison.Ordinal));
            await victim.KillAsync();

            // Every item is acknowledged in the end; none is dead, none left.
            await Eventually.WaitUntilAsync(async () => (await client.GetSourceAsync("incoming")).Acknowledged == Items, $"all {Items} items acknowledged", TimeSpan.FromMinutes(3));
            var other = cluster.Silos.First(s => s != victim);
            await other.ReadyAsync();
            using var survivor = other.Http();
            var info = await survivor.GetFromJsonAsync<JsonElement>("api/sources/incoming");
            Assert.Equal((0L, 0L, 0L, (long)Items), (info.GetProperty("ready").GetInt64(), info.GetProperty("claimed").GetInt64(), info.GetProperty("dead").GetInt64(), info.GetProperty("acknowledged").GetInt64()));

            // The job's records: each item succeeded, and those that ran again carry the same item id.
            var history = await client.GetHistoryAsync("orders", JobDefinition.MaxHistoryLimit);
            var byItem = history.Where(e => e.ItemId is not null).GroupBy(e => e.ItemId!.Value).ToDictionary(g => g.Key, g => g.ToList());
            Assert.Equal(ids.Order(), byItem.Keys.Order());
            Assert.All(byItem.Values, runs => Assert.Contains(runs, e => e.Status == JobStatus.Success));
            var repeated = byItem.Where(p => p.Value.Count > 1).ToList();
            output.WriteLine($"{Items} items, {history.Count} records, {repeated.Count} items ran more than once: {string.Join(", ", repeated.Take(20).Select(p => $"{p.Key}×{p.Value.Count}"))}");
            Assert.True(repeated.Count < Items / 10, $"{repeated.Count} items ran more than once");
        }
        catch (Exception)
        {
            output.WriteLine(cluster.ToString());
            throw;
        }
    }
}

using Microsoft.Extensions.DependencyInjection;
using Work.Client;

namespace Work.Cluster.Tests;

/// <summary>The shipped silo with Work:Streams on its embedded default: a job configured to read its stream runs what a client publishes.</summary>
[Collection(ProcessCollection.Name)]
public sealed class StreamProcessTests : IAsyncLifetime
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("work-streams-");

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        _folder.Delete(recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task AConfiguredJobRunsEveryItemAClientPublishesToItsStream()
    {
        var ports = SiloProcess.FreePorts(2);
        await using var silo = SiloProcess.Start(ports[0], ports[1], new Dictionary<string, string>
        {
            ["Work__Silo__DatabasePath"] = Path.Combine(_folder.FullName, "work.db"),
            ["Work__Streams__Enabled"] = "true",
            ["Work__Streams__Partitions"] = "4",
            ["Work__Jobs__inbox__Handler"] = "echo",
            ["Work__Jobs__inbox__MaxWorkers"] = "2",
            ["Work__Jobs__inbox__Receive__Stream"] = WorkStreams.ProviderName,
        });
        await silo.ReadyAsync();
        var (host, client) = await silo.ConnectAsync(c => c.AddWorkMemoryStreams(partitions: 4));
        using (host)
        {
            var stream = host.Services.GetRequiredService<IClusterClient>().GetStreamProvider(WorkStreams.ProviderName).JobStream("inbox");
            for (var i = 0; i < 10; i++)
            {
                await stream.OnNextAsync(new ItemRequest { Args = JobArgs.From(new { message = $"item {i}" }) });
            }

            await Eventually.WaitUntilAsync(async () => (await client.GetInfoAsync("inbox")).Succeeded == 10, "the 10 published items run");
            var history = await client.GetHistoryAsync("inbox", 10);
            Assert.All(history, e => Assert.Equal(JobStatus.Success, e.Status));
            Assert.Equal(10, history.Select(e => e.ItemId).Distinct().Count());
            var info = await client.GetInfoAsync("inbox");
            Assert.Equal(SourceKind.Stream, info.Definition!.Receive!.Kind);
        }
    }
}

using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Work.Cluster.Tests;

/// <summary>
/// Queues that route work, on real silo processes of a PostgreSQL cluster: each silo serves the queues of its
/// <c>Work:Silo:Queues</c>; a job's executions run only on live silos serving its queue, under its cap; a job whose
/// queue no silo serves keeps its executions pending, says so, and runs them when such a silo joins.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class QueueRoutingTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public async Task ExecutionsRunOnlyWhereTheirQueueIsServedAndWaitForAServer()
    {
        var ports = SiloProcess.FreePorts(8);
        await using var cluster = PostgresSiloCluster.Start(PostgresServer.Shared.CreateDatabase("queues"), 0, ports: ports);
        try
        {
            await RouteAsync(cluster, ports);
        }
        catch (Exception)
        {
            // What the silos said, to see why.
            output.WriteLine(cluster.ToString());
            throw;
        }
    }

    private static async Task RouteAsync(PostgresSiloCluster cluster, int[] ports)
    {
        var plain = cluster.StartSilo(ports[0], ports[1], Queues("default"));
        var gpu = cluster.StartSilo(ports[2], ports[3], Queues("gpu"));
        var both = cluster.StartSilo(ports[4], ports[5], Queues("default,gpu"));
        await cluster.WaitForActiveAsync(3);
        foreach (var silo in cluster.Silos)
        {
            await silo.ReadyAsync();
        }

        using var http = plain.Http();

        // 30 short runs of a gpu job with a cap of 2: only the two gpu silos run them, never more than 2 at once.
        await DefineAsync(http, "render", "gpu", maxWorkers: 2, ms: 20);
        var ids = new List<string>();
        for (var i = 0; i < 30; i++)
        {
            ids.Add((await SendAsync(http, HttpMethod.Post, "api/jobs/render/perform", "{}")).GetProperty("executionId").GetString()!);
        }

        await FinishedAsync(http, "render", ids);
        var history = (await SendAsync(http, HttpMethod.Get, "api/jobs/render/history?count=100")).EnumerateArray().ToList();
        var workers = history.Select(e => e.GetProperty("worker").GetString()!).ToList();
        var overlap = history
            .SelectMany(e => new[] { (At: e.GetProperty("startedAt").GetDateTimeOffset(), Delta: 1), (At: e.GetProperty("finishedAt").GetDateTimeOffset(), Delta: -1) })
            .OrderBy(p => p.At).ThenBy(p => p.Delta)
            .Aggregate((Now: 0, Max: 0), (a, p) => (a.Now + p.Delta, Math.Max(a.Max, a.Now + p.Delta))).Max;
        Assert.True(overlap <= 2, $"{overlap} runs overlapped under a cap of 2");
        Assert.Equal(30, workers.Count);
        Assert.DoesNotContain(workers, w => w.StartsWith(plain.AddressPrefix, StringComparison.Ordinal));
        Assert.Contains(workers, w => w.StartsWith(gpu.AddressPrefix, StringComparison.Ordinal) || w.StartsWith(both.AddressPrefix, StringComparison.Ordinal));

        // A queue nobody serves: the runs wait, and the job says why.
        await DefineAsync(http, "transcode", "video", maxWorkers: 2, ms: 0);
        var waiting = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            waiting.Add((await SendAsync(http, HttpMethod.Post, "api/jobs/transcode/perform", "{}")).GetProperty("executionId").GetString()!);
        }

        var job = await SendAsync(http, HttpMethod.Get, "api/jobs/transcode");
        Assert.Equal(3, job.GetProperty("pending").GetInt32());
        Assert.Contains("No live silo serves queue 'video'", job.GetProperty("waiting").GetString(), StringComparison.Ordinal);
        foreach (var id in waiting)
        {
            Assert.Equal("pending", (await SendAsync(http, HttpMethod.Get, $"api/jobs/transcode/executions/{id}")).GetProperty("phase").GetString());
        }

        // A silo serving it joins: they run there.
        var video = cluster.StartSilo(ports[6], ports[7], Queues("video"));
        await cluster.WaitForActiveAsync(4);
        await FinishedAsync(http, "transcode", waiting);
        var ran = (await SendAsync(http, HttpMethod.Get, "api/jobs/transcode/history?count=10")).EnumerateArray().Select(e => e.GetProperty("worker").GetString()!).ToList();
        Assert.All(ran, w => Assert.StartsWith(video.AddressPrefix, w, StringComparison.Ordinal));
        Assert.False((await SendAsync(http, HttpMethod.Get, "api/jobs/transcode")).TryGetProperty("waiting", out _));
    }

    private static Dictionary<string, string> Queues(string queues) => new() { ["Work__Silo__Queues"] = queues };

    private static async Task DefineAsync(HttpClient http, string name, string queue, int maxWorkers, int ms)
    {
        var definition = JsonSerializer.Serialize(new { job = new { handler = "sleep", queue, args = new { ms } }, maxWorkers, historyLimit = 1000 });
        await SendAsync(http, HttpMethod.Put, $"api/jobs/{name}", definition);
        await SendAsync(http, HttpMethod.Post, $"api/jobs/{name}/start", "{}");
    }

    private static async Task FinishedAsync(HttpClient http, string name, List<string> ids)
    {
        try
        {
            foreach (var id in ids)
            {
                await Eventually.WaitUntilAsync(
                    async () => (await SendAsync(http, HttpMethod.Get, $"api/jobs/{name}/executions/{id}")).GetProperty("phase").GetString() == "finished",
                    $"execution {id} of {name} finished");
            }
        }
        catch (TimeoutException ex)
        {
            // The job's own view, to see where its executions stand.
            var job = await SendAsync(http, HttpMethod.Get, $"api/jobs/{name}");
            var pending = await SendAsync(http, HttpMethod.Get, $"api/jobs/{name}/pending");
            var silos = await SendAsync(http, HttpMethod.Get, "api/silos");
            throw new TimeoutException($"{ex.Message} Job: {job} Pending: {pending} Silos: {silos}", ex);
        }
    }

    private static async Task<JsonElement> SendAsync(HttpClient http, HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative))
        {
            Content = json is null ? null : new StringContent(json, Encoding.UTF8, "application/json"),
        };
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, string.Create(CultureInfo.InvariantCulture, $"{method} {path}: {(int)response.StatusCode} {text}"));
        return JsonDocument.Parse(text).RootElement.Clone();
    }
}

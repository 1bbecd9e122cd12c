using System.Net;
using System.Text;
using System.Text.Json;

namespace Work.Cluster.Tests;

/// <summary>
/// The HTTP API, health, metrics and dashboards of real Work.Silo processes: one on its SQLite default, and a 3-silo
/// cluster on PostgreSQL where any silo answers for any job.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class HttpProcessTests
{
    [Fact]
    public async Task ASiloOnSqliteServesTheApiHealthMetricsAndDashboards()
    {
        var folder = Directory.CreateTempSubdirectory("work-http-").FullName;
        var ports = SiloProcess.FreePorts(2);
        await using var silo = SiloProcess.Start(Path.Combine(folder, "data", "work.db"), ports[0], ports[1]);
        await silo.ReadyAsync();
        using var http = silo.Http();

        var name = ClusterFixture.NewJobName("http-sqlite");
        await SendAsync(http, HttpMethod.Put, $"api/jobs/{name}", """{ "job": { "handler": "echo" }, "maxWorkers": 2 }""");
        await SendAsync(http, HttpMethod.Post, $"api/jobs/{name}/start");
        var result = await SendAsync(http, HttpMethod.Post, $"api/jobs/{name}/perform?wait=true", """{ "args": { "n": 1 } }""");
        Assert.Equal("success", result.GetProperty("status").GetString());
        var id = result.GetProperty("executionId").GetString();
        var execution = await SendAsync(http, HttpMethod.Get, $"api/jobs/{name}/executions/{id}");
        Assert.Equal("finished", execution.GetProperty("phase").GetString());

        // Roles: nothing without a key, no changes with a reader's.
        using var anonymous = silo.Http(apiKey: null);
        using var reader = silo.Http(SiloProcess.ReaderKey);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(new Uri("api/jobs", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await reader.PostAsync(new Uri($"api/jobs/{name}/stop", UriKind.Relative), null)).StatusCode);

        // A bad value is a problem naming it, and changes nothing.
        var bad = await http.PutAsync(new Uri($"api/jobs/{name}", UriKind.Relative), Json("""{ "job": { "handler": "echo" }, "maxWorkers": -1 }"""));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("MaxWorkers must be between 1", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(2, (await SendAsync(http, HttpMethod.Get, $"api/jobs/{name}")).GetProperty("definition").GetProperty("maxWorkers").GetInt32());

        // The job's executions counter moves with each one (the exporter caches a scrape for a moment).
        await Eventually.WaitUntilAsync(async () => await ExecutionsCountedAsync(reader, name) == 1, "the job's first execution was counted");
        await SendAsync(http, HttpMethod.Post, $"api/jobs/{name}/perform?wait=true", "{}");
        await Eventually.WaitUntilAsync(async () => await ExecutionsCountedAsync(reader, name) >= 2, "the job's second execution was counted");
        Assert.Equal(2, await ExecutionsCountedAsync(reader, name));

        var page = await anonymous.GetStringAsync(new Uri("dashboard/", UriKind.Relative));
        Assert.Contains("<title>Work.Orleans</title>", page, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(new Uri("orleans/", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync(new Uri("orleans/", UriKind.Relative))).StatusCode);
        Assert.True(File.Exists(Path.Combine(folder, "data", "work.db")), "the silo keeps its state in the SQLite file");
    }

    [Fact]
    public async Task AnySiloOfAPostgresClusterAnswersForAnyJob()
    {
        await using var cluster = PostgresSiloCluster.Start(PostgresServer.Shared.CreateDatabase("http"), 3);
        await cluster.WaitForActiveAsync(3);
        foreach (var silo in cluster.Silos)
        {
            await silo.ReadyAsync();
        }

        using var first = cluster.Silos[0].Http();
        using var second = cluster.Silos[1].Http();
        using var third = cluster.Silos[2].Http(SiloProcess.ReaderKey);
        var silos = await SendAsync(third, HttpMethod.Get, "api/silos");
        Assert.Equal(3, silos.EnumerateArray().Count(s => s.GetProperty("status").GetString() == "active"));

        var name = ClusterFixture.NewJobName("http-pg");
        await SendAsync(first, HttpMethod.Put, $"api/jobs/{name}", """{ "job": { "handler": "echo" }, "maxWorkers": 4 }""");
        await SendAsync(second, HttpMethod.Post, $"api/jobs/{name}/start");
        var ids = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            var accepted = await SendAsync(i % 2 == 0 ? first : second, HttpMethod.Post, $"api/jobs/{name}/perform", "{}");
            ids.Add(accepted.GetProperty("executionId").GetString()!);
        }

        foreach (var id in ids)
        {
            await Eventually.WaitUntilAsync(
                async () => (await SendAsync(third, HttpMethod.Get, $"api/jobs/{name}/executions/{id}")).GetProperty("phase").GetString() == "finished",
                $"execution {id} finished, seen from the third silo");
        }

        var history = await SendAsync(third, HttpMethod.Get, $"api/jobs/{name}/history?count=100");
        Assert.Equal(ids.Order(), history.EnumerateArray().Select(e => e.GetProperty("executionId").GetString()).Order());
        Assert.All(history.EnumerateArray(), e => Assert.Equal("success", e.GetProperty("status").GetString()));
        var job = await SendAsync(first, HttpMethod.Get, $"api/jobs/{name}");
        Assert.Equal(6, job.GetProperty("succeeded").GetInt64());
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task<JsonElement> SendAsync(HttpClient http, HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative)) { Content = json is null ? null : Json(json) };
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{method} {path}: {(int)response.StatusCode} {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    private static async Task<double> ExecutionsCountedAsync(HttpClient http, string name)
    {
        var text = await http.GetStringAsync(new Uri("metrics", UriKind.Relative));
        return text.Split('\n')
            .Where(line => line.StartsWith("work_job_executions_total{", StringComparison.Ordinal) && line.Contains($"work_job_name=\"{name}\"", StringComparison.Ordinal))
            .Sum(line => double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    }
}

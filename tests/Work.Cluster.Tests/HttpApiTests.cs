using System.Net;
using System.Text;
using System.Text.Json;

namespace Work.Cluster.Tests;

/// <summary>The HTTP API over a real silo and Kestrel on loopback: jobs, executions, errors, roles, health and metrics.</summary>
[Collection(HttpApiCollection.Name)]
public sealed class HttpApiTests(HttpApiFixture fixture)
{
    private static readonly string[] s_mutating =
    [
        "PUT /api/jobs/{0}", "DELETE /api/jobs/{0}", "POST /api/jobs/{0}/start", "POST /api/jobs/{0}/stop", "POST /api/jobs/{0}/perform",
        "POST /api/jobs/{0}/every", "POST /api/jobs/{0}/cancel", "POST /api/jobs/{0}/executions/x/cancel", "POST /api/sources/{0}/items",
    ];

    private static readonly string[] s_reading =
    [
        "GET /api/jobs", "GET /api/jobs/{0}", "GET /api/jobs/{0}/history", "GET /api/jobs/{0}/pending", "GET /api/jobs/{0}/executions/x",
        "GET /openapi/v1.json", "GET /metrics",
    ];

    [Fact]
    public async Task AJobIsDefinedStartedPerformedAndFollowedByIdOverHttp()
    {
        using var http = fixture.Client(HttpApiFixture.OperatorKey);
        var name = ClusterFixture.NewJobName("http-echo");
        var defined = await PutJsonAsync(http, $"/api/jobs/{name}", """{ "job": { "handler": "echo", "args": { "greeting": "hi" } }, "maxWorkers": 2, "historyLimit": 50 }""");
        Assert.Equal(HttpStatusCode.OK, defined.StatusCode);
        Assert.Equal(2, (await Json(defined)).GetProperty("definition").GetProperty("maxWorkers").GetInt32());
        Assert.Equal(HttpStatusCode.OK, (await http.PostAsync(new Uri($"/api/jobs/{name}/start", UriKind.Relative), null)).StatusCode);

        // Waiting: the final record comes back.
        var waited = await Json(await PostJsonAsync(http, $"/api/jobs/{name}/perform?wait=true", "{}"));
        Assert.Equal("success", waited.GetProperty("status").GetString());

        // Not waiting: 202 with the id, then the execution by id and in the history.
        var accepted = await PostJsonAsync(http, $"/api/jobs/{name}/perform", """{ "args": { "n": 1 } }""");
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var id = (await Json(accepted)).GetProperty("executionId").GetString()!;
        var execution = default(JsonElement);
        await Eventually.WaitUntilAsync(
            async () => (execution = await Json(await http.GetAsync(new Uri($"/api/jobs/{name}/executions/{id}", UriKind.Relative)))).GetProperty("phase").GetString() == "finished",
            "the execution finished");
        Assert.Equal("success", execution.GetProperty("last").GetProperty("status").GetString());

        var history = await Json(await http.GetAsync(new Uri($"/api/jobs/{name}/history?count=10", UriKind.Relative)));
        Assert.Equal(2, history.GetArrayLength());
        Assert.Equal(id, history[0].GetProperty("executionId").GetString());
        var page = await Json(await http.GetAsync(new Uri($"/api/jobs/{name}/history?skip=1&count=10", UriKind.Relative)));
        Assert.Equal(1, page.GetArrayLength());

        var job = await Json(await http.GetAsync(new Uri($"/api/jobs/{name}", UriKind.Relative)));
        Assert.Equal(2, job.GetProperty("finished").GetInt64());
        Assert.True(job.GetProperty("started").GetBoolean());
    }

    [Fact]
    public async Task PendingExecutionsArePagedAndCancelledOverHttp()
    {
        using var http = fixture.Client(HttpApiFixture.OperatorKey);
        var name = ClusterFixture.NewJobName("http-pending");
        Assert.Equal(HttpStatusCode.OK, (await PutJsonAsync(http, $"/api/jobs/{name}", """{ "job": { "handler": "echo" } }""")).StatusCode);
        await http.PostAsync(new Uri($"/api/jobs/{name}/start", UriKind.Relative), null);
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var accepted = await PostJsonAsync(http, $"/api/jobs/{name}/perform", $$"""{ "in": "01:00:0{{i}}" }""");
            ids.Add((await Json(accepted)).GetProperty("executionId").GetString()!);
        }

        var pending = await Json(await http.GetAsync(new Uri($"/api/jobs/{name}/pending?skip=1&count=5", UriKind.Relative)));
        Assert.Equal(ids.Skip(1), pending.EnumerateArray().Select(e => e.GetProperty("executionId").GetString()));
        Assert.All(pending.EnumerateArray(), e => Assert.Equal("pending", e.GetProperty("phase").GetString()));

        var one = await Json(await http.PostAsync(new Uri($"/api/jobs/{name}/executions/{ids[0]}/cancel", UriKind.Relative), null));
        Assert.Equal(1, one.GetProperty("cancelled").GetInt32());
        var rest = await Json(await http.PostAsync(new Uri($"/api/jobs/{name}/cancel", UriKind.Relative), null));
        Assert.Equal(2, rest.GetProperty("cancelled").GetInt32());
        Assert.Equal(0, (await Json(await http.GetAsync(new Uri($"/api/jobs/{name}/pending", UriKind.Relative)))).GetArrayLength());
    }

    [Fact]
    public async Task ADeletedJobLeavesTheListAndCanBeDefinedAfresh()
    {
        using var http = fixture.Client(HttpApiFixture.OperatorKey);
        var name = ClusterFixture.NewJobName("http-delete");
        await PutJsonAsync(http, $"/api/jobs/{name}", """{ "job": { "handler": "echo" } }""");
        await http.PostAsync(new Uri($"/api/jobs/{name}/start", UriKind.Relative), null);
        await PostJsonAsync(http, $"/api/jobs/{name}/perform?wait=true", "{}");
        Assert.Contains(name, await JobNamesAsync(http));

        Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync(new Uri($"/api/jobs/{name}", UriKind.Relative))).StatusCode);
        Assert.DoesNotContain(name, await JobNamesAsync(http));
        var gone = await Json(await http.GetAsync(new Uri($"/api/jobs/{name}", UriKind.Relative)));
        Assert.False(gone.TryGetProperty("definition", out _));

        await PutJsonAsync(http, $"/api/jobs/{name}", """{ "job": { "handler": "echo" } }""");
        var fresh = await Json(await http.GetAsync(new Uri($"/api/jobs/{name}", UriKind.Relative)));
        Assert.Equal(0, fresh.GetProperty("finished").GetInt64());
        Assert.Equal(0, (await Json(await http.GetAsync(new Uri($"/api/jobs/{name}/history", UriKind.Relative)))).GetArrayLength());
    }

    [Theory]
    [InlineData("""{ "job": { "handler": "echo" }, "maxWorkers": 0 }""", "MaxWorkers must be between 1")]
    [InlineData("""{ "job": { "handler": "no-such-handler" } }""", "no-such-handler")]
    [InlineData("""{ "maxWorkers": 2 }""", "needs a job")]
    [InlineData("""{ "job": { "handler": "echo" }, "maxWorkers": "many" }""", "maxWorkers")]
    [InlineData("""{ "job": { "handler": "echo" }, "every": { "interval": "00:00:00.0000001" } }""", "Interval")]
    [InlineData("""not json""", "body")]
    public async Task ABadDefinitionIsRefusedWithAProblemNamingItAndChangesNothing(string body, string named)
    {
        using var http = fixture.Client(HttpApiFixture.OperatorKey);
        var name = ClusterFixture.NewJobName("http-bad");
        await PutJsonAsync(http, $"/api/jobs/{name}", """{ "job": { "handler": "echo" }, "maxWorkers": 3 }""");

        var refused = await PutJsonAsync(http, $"/api/jobs/{name}", body);

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        var problem = await Json(refused);
        Assert.Equal(400, problem.GetProperty("status").GetInt32());
        Assert.Contains(named, problem.GetProperty("detail").GetString() + " " + (problem.TryGetProperty("field", out var field) ? field.GetString() : ""), StringComparison.Ordinal);
        var job = await Json(await http.GetAsync(new Uri($"/api/jobs/{name}", UriKind.Relative)));
        Assert.Equal(3, job.GetProperty("definition").GetProperty("maxWorkers").GetInt32());
    }

    [Fact]
    public async Task ACronScheduleIsSetOverHttpAndShowsItsNextTimes()
    {
        using var http = fixture.Client(HttpApiFixture.OperatorKey);
        var name = ClusterFixture.NewJobName("http-cron");
        await PutJsonAsync(http, $"/api/jobs/{name}", """{ "job": { "handler": "echo" } }""");

        var set = await PostJsonAsync(http, $"/api/jobs/{name}/every", """{ "cron": "0 0 9 * * MON-FRI", "timeZone": "Europe/Berlin" }""");
        Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        var job = await Json(set);
        Assert.Equal("0 0 9 * * MON-FRI", job.GetProperty("definition").GetProperty("every").GetProperty("cron").GetString());

        var bad = await PostJsonAsync(http, $"/api/jobs/{name}/every", """{ "cron": "0 0 25 * * *" }""");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("is not a valid cron expression", (await Json(bad)).GetProperty("detail").GetString(), StringComparison.Ordinal);

        // A definition carries it too.
        var defined = await PutJsonAsync(http, $"/api/jobs/{name}", """{ "job": { "handler": "echo" }, "every": { "cron": "30 8 * * *", "timeZone": "America/New_York" } }""");
        Assert.Equal(HttpStatusCode.OK, defined.StatusCode);
        await http.PostAsync(new Uri($"/api/jobs/{name}/start", UriKind.Relative), null);
        var started = await Json(await http.GetAsync(new Uri($"/api/jobs/{name}", UriKind.Relative)));
        var next = started.GetProperty("nextDueTimes").EnumerateArray().Select(t => t.GetDateTimeOffset()).ToList();
        Assert.Equal(5, next.Count);
        var newYork = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");
        Assert.All(next, t => Assert.Equal(new TimeSpan(8, 30, 0), TimeZoneInfo.ConvertTime(t, newYork).TimeOfDay));
    }

    [Fact]
    public async Task BadPerformsAndUnknownExecutionsGetProblems()
    {
        using var http = fixture.Client(HttpApiFixture.OperatorKey);
        var name = ClusterFixture.NewJobName("http-perform");
        await PutJsonAsync(http, $"/api/jobs/{name}", """{ "job": { "handler": "echo" } }""");

        var both = await PostJsonAsync(http, $"/api/jobs/{name}/perform", """{ "at": "2030-01-01T00:00:00Z", "in": "00:01:00" }""");
        Assert.Equal(HttpStatusCode.BadRequest, both.StatusCode);
        Assert.Equal("in", (await Json(both)).GetProperty("field").GetString());

        var negative = await PostJsonAsync(http, $"/api/jobs/{name}/perform", """{ "in": "-00:01:00" }""");
        Assert.Equal(HttpStatusCode.BadRequest, negative.StatusCode);

        var badTime = await PostJsonAsync(http, $"/api/jobs/{name}/perform", """{ "at": "tomorrow" }""");
        Assert.Equal(HttpStatusCode.BadRequest, badTime.StatusCode);
        Assert.Equal("at", (await Json(badTime)).GetProperty("field").GetString());

        var unknown = await http.GetAsync(new Uri($"/api/jobs/{name}/executions/no-such-id", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("no-such-id", (await Json(unknown)).GetProperty("detail").GetString(), StringComparison.Ordinal);

        var badPage = await http.GetAsync(new Uri($"/api/jobs/{name}/history?count=-1", UriKind.Relative));
        Assert.Equal(HttpStatusCode.BadRequest, badPage.StatusCode);

        var badName = await http.GetAsync(new Uri("/api/jobs/%20padded%20", UriKind.Relative));
        Assert.Equal(HttpStatusCode.BadRequest, badName.StatusCode);
        Assert.Contains("white space", (await Json(badName)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, (await Json(await http.GetAsync(new Uri($"/api/jobs/{name}", UriKind.Relative)))).GetProperty("pending").GetInt32());
    }

    [Fact]
    public async Task EveryEndpointNeedsCredentialsAndEveryChangeTheOperatorRole()
    {
        var name = ClusterFixture.NewJobName("http-auth");
        using var anonymous = fixture.Client();
        using var wrongKey = fixture.Client("not-a-key");
        using var reader = fixture.Client(HttpApiFixture.ReaderKey);
        using var readerToken = fixture.Client(bearer: HttpApiFixture.Token("reader"));
        using var forgedToken = fixture.Client(bearer: HttpApiFixture.Token("operator", key: new byte[32]));
        using var otherAudience = fixture.Client(bearer: HttpApiFixture.Token("operator", audience: "someone-else"));
        foreach (var endpoint in s_mutating.Concat(s_reading))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(anonymous, endpoint, name)).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(wrongKey, endpoint, name)).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(forgedToken, endpoint, name)).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(otherAudience, endpoint, name)).StatusCode);
        }

        foreach (var endpoint in s_mutating)
        {
            Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(reader, endpoint, name)).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(readerToken, endpoint, name)).StatusCode);
        }

        // Nothing was defined by all that.
        var job = await Json(await reader.GetAsync(new Uri($"/api/jobs/{name}", UriKind.Relative)));
        Assert.False(job.TryGetProperty("definition", out _));

        // Readers read; an operator's token defines.
        foreach (var endpoint in s_reading.Where(e => !e.Contains("executions", StringComparison.Ordinal)))
        {
            Assert.Equal(HttpStatusCode.OK, (await SendAsync(reader, endpoint, name)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await SendAsync(readerToken, endpoint, name)).StatusCode);
        }

        using var operatorToken = fixture.Client(bearer: HttpApiFixture.Token("operator"));
        Assert.Equal(HttpStatusCode.OK, (await PutJsonAsync(operatorToken, $"/api/jobs/{name}", """{ "job": { "handler": "echo" } }""")).StatusCode);
    }

    [Fact]
    public async Task HealthAnswersAnonymouslyAndReadinessNamesItsChecks()
    {
        using var anonymous = fixture.Client();
        var live = await anonymous.GetAsync(new Uri("/health/live", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);

        var ready = await anonymous.GetAsync(new Uri("/health/ready", UriKind.Relative));
        var text = await ready.Content.ReadAsStringAsync();
        Assert.True(ready.StatusCode == HttpStatusCode.OK, text);
        Assert.StartsWith("Healthy", text, StringComparison.Ordinal);
        Assert.Contains("work.membership: Healthy", text, StringComparison.Ordinal);
        Assert.Contains("work.storage: Healthy", text, StringComparison.Ordinal);
        Assert.Contains("work: Healthy", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MetricsAnswerReadersWithTheRuntimesMeters()
    {
        // The product's own series are checked against a real silo process (HttpProcessTests): in this process,
        // OpenTelemetry merges every silo's same-named instruments into one stream, which goes when any of them does.
        using var reader = fixture.Client(HttpApiFixture.ReaderKey);
        var text = await reader.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Contains("dotnet_gc_collections", text, StringComparison.Ordinal);
        using var anonymous = fixture.Client();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(new Uri("/metrics", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task ItemSourcesNeedADatabaseAndSayWhyWithoutOne()
    {
        using var http = fixture.Client(HttpApiFixture.OperatorKey);
        var empty = await PostJsonAsync(http, "/api/sources/orders/items", """{ "items": [] }""");
        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
        Assert.Equal("items", (await Json(empty)).GetProperty("field").GetString());

        // This silo keeps its state in memory: no sources.
        var refused = await PostJsonAsync(http, "/api/sources/orders/items", """{ "items": [ { "args": { "n": 1 } } ] }""");
        Assert.Equal(HttpStatusCode.NotImplemented, refused.StatusCode);
        Assert.Contains("keeps no item sources", (await Json(refused)).GetProperty("detail").GetString(), StringComparison.Ordinal);

        var name = ClusterFixture.NewJobName("http-receive");
        var defined = await PutJsonAsync(http, $"/api/jobs/{name}", """{ "job": { "handler": "echo" }, "receive": { "source": "orders" } }""");
        Assert.Equal(HttpStatusCode.BadRequest, defined.StatusCode);
        Assert.Contains("cannot read source 'orders'", (await Json(defined)).GetProperty("detail").GetString(), StringComparison.Ordinal);

        // Nor streams: a binding to a stream provider the silo lacks is refused with its name.
        var streamed = await PutJsonAsync(http, $"/api/jobs/{name}", """{ "job": { "handler": "echo" }, "receive": { "source": "work", "kind": "stream" } }""");
        Assert.Equal(HttpStatusCode.BadRequest, streamed.StatusCode);
        Assert.Contains("cannot read a stream on provider 'work'", (await Json(streamed)).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheOpenApiDocumentDescribesTheApi()
    {
        using var http = fixture.Client(HttpApiFixture.ReaderKey);
        var document = await Json(await http.GetAsync(new Uri("/openapi/v1.json", UriKind.Relative)));
        var paths = document.GetProperty("paths");
        Assert.True(paths.TryGetProperty("/api/jobs/{name}/perform", out var perform));
        Assert.True(perform.TryGetProperty("post", out _));
        Assert.True(paths.TryGetProperty("/api/jobs/{name}/executions/{id}", out _));
        Assert.True(paths.TryGetProperty("/api/sources/{source}/items", out _));
    }

    private static async Task<List<string>> JobNamesAsync(HttpClient http)
    {
        var names = new List<string>();
        string? after = null;
        do
        {
            var page = await Json(await http.GetAsync(new Uri("/api/jobs?count=1000" + (after is null ? "" : "&after=" + Uri.EscapeDataString(after)), UriKind.Relative)));
            names.AddRange(page.GetProperty("jobs").EnumerateArray().Select(j => j.GetProperty("name").GetString()!));
            after = page.TryGetProperty("next", out var next) ? next.GetString() : null;
        }
        while (after is not null);
        return names;
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient http, string endpoint, string name)
    {
        var (method, path) = (endpoint.Split(' ')[0], string.Format(System.Globalization.CultureInfo.InvariantCulture, endpoint.Split(' ')[1], name));
        var request = new HttpRequestMessage(new HttpMethod(method), new Uri(path, UriKind.Relative));
        if (method is "PUT" or "POST")
        {
            request.Content = new StringContent(path.EndsWith("every", StringComparison.Ordinal) ? """{ "interval": "00:01:00" }""" : """{ "job": { "handler": "echo" } }""", Encoding.UTF8, "application/json");
        }

        return http.SendAsync(request);
    }

    private static Task<HttpResponseMessage> PutJsonAsync(HttpClient http, string path, string json) =>
        http.PutAsync(new Uri(path, UriKind.Relative), new StringContent(json, Encoding.UTF8, "application/json"));

    private static Task<HttpResponseMessage> PostJsonAsync(HttpClient http, string path, string json) =>
        http.PostAsync(new Uri(path, UriKind.Relative), new StringContent(json, Encoding.UTF8, "application/json"));

    private static async Task<JsonElement> Json(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        try
        {
            return JsonDocument.Parse(text).RootElement.Clone();
        }
        catch (JsonException)
        {
            throw new Xunit.Sdk.XunitException($"{(int)response.StatusCode}: not JSON: {text}");
        }
    }
}

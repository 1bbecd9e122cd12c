using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;

namespace Work.Cluster.Tests;

/// <summary>
/// With <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> set, a silo process exports its traces and metrics over OTLP: a local
/// collector (an HTTP listener taking OTLP/HTTP protobuf) receives the execution's span and the executions counter.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class OtlpExportTests
{
    [Fact]
    public async Task TracesAndMetricsReachTheCollector()
    {
        var port = SiloProcess.FreePorts(3)[2];
        using var collector = new HttpListener();
        collector.Prefixes.Add($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/");
        collector.Start();
        var received = new ConcurrentQueue<(string Path, string ContentType, byte[] Body)>();
        _ = Task.Run(async () =>
        {
            while (collector.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await collector.GetContextAsync();
                }
                catch (Exception) when (!collector.IsListening)
                {
                    return;
                }

                using var body = new MemoryStream();
                await context.Request.InputStream.CopyToAsync(body);
                received.Enqueue((context.Request.Url!.AbsolutePath, context.Request.ContentType ?? "", body.ToArray()));
                context.Response.StatusCode = 200;
                context.Response.Close();
            }
        });

        var ports = SiloProcess.FreePorts(2);
        await using var silo = SiloProcess.Start(ports[0], ports[1], new Dictionary<string, string>
        {
            ["Work__Silo__Storage"] = "memory",
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}",
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
        });
        await silo.ReadyAsync();
        using var http = silo.Http();

        var name = ClusterFixture.NewJobName("otlp");
        foreach (var (path, body) in new[] { ($"api/jobs/{name}", """{ "job": { "handler": "echo" } }"""), ($"api/jobs/{name}/start", "{}"), ($"api/jobs/{name}/perform?wait=true", "{}") })
        {
            var method = path.EndsWith(name, StringComparison.Ordinal) ? HttpMethod.Put : HttpMethod.Post;
            using var response = await http.SendAsync(new HttpRequestMessage(method, new Uri(path, UriKind.Relative)) { Content = new StringContent(body, Encoding.UTF8, "application/json") });
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        }

        // Protobuf keeps names as plain UTF-8: the span of the execution, and the product's counter.
        bool Got(string path, string text) => received.Any(r =>
            r.Path == path && r.ContentType.StartsWith("application/x-protobuf", StringComparison.Ordinal) && Encoding.UTF8.GetString(r.Body).Contains(text, StringComparison.Ordinal));
        await Eventually.WaitUntilAsync(() => Task.FromResult(Got("/v1/traces", "execute echo")), "the execution's span reached the collector");
        await Eventually.WaitUntilAsync(() => Task.FromResult(Got("/v1/metrics", "work.job.executions")), "the executions counter reached the collector");
        collector.Stop();
    }
}

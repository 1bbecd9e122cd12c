using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Work.Cluster.Tests;

/// <summary>The README's samples, built with the solution, run as a team would run them, and do what it says.</summary>
[Collection(ProcessCollection.Name)]
public sealed class SamplesTests : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("work-samples-");

    public void Dispose() => _folder.Delete(recursive: true);

    [Fact]
    public async Task TheInProcessSamplePerformsEnqueuesAndReceives()
    {
        var (exit, output) = await RunToEndAsync("Work.Samples.InProcess");

        Assert.Equal(0, exit);
        Assert.Contains("performed 200 Success, enqueued ", output, StringComparison.Ordinal);
        Assert.Contains("Sending to bob@example.com", output, StringComparison.Ordinal);
        Assert.Contains("Sending to eve@example.com", output, StringComparison.Ordinal);
        Assert.Contains("\ndone\n", output.ReplaceLineEndings("\n"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheClusterSamplesPerformAndFirstRecurringRunSucceed()
    {
        var ports = SiloProcess.FreePorts(2);
        var (exit, output) = await RunToEndAsync("Work.Samples.Cluster", "--SiloPort", Port(ports[0]), "--GatewayPort", Port(ports[1]));

        Assert.Equal(0, exit);
        Assert.Matches(@"performed \w{32}: 200 Success", output);
        var history = output.Split('\n').Where(l => l.StartsWith("history ", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, history.Count);
        Assert.All(history, line => Assert.EndsWith(": 200 Success", line.TrimEnd(), StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheAspNetCoreSampleEnqueuesOverHttpAndAnswersTheResult()
    {
        var ports = SiloProcess.FreePorts(3);
        var url = $"http://127.0.0.1:{Port(ports[2])}";
        using var app = Start("Work.Samples.AspNetCore", "--urls", url, "--SiloPort", Port(ports[0]), "--GatewayPort", Port(ports[1]));
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri(url) };
            var accepted = await Eventually.ValueAsync(async () =>
            {
                try
                {
                    var response = await http.PostAsync(new Uri("/thumbnails?image=cat.png", UriKind.Relative), null);
                    return response.StatusCode == HttpStatusCode.Accepted ? response : null;
                }
                catch (HttpRequestException)
                {
                    return null;
                }
            });
            var id = (await accepted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();

            var result = await http.GetFromJsonAsync<JsonElement>(new Uri($"/thumbnails/{id}", UriKind.Relative));

            Assert.Equal(32, id!.Length);
            Assert.Equal((int)JobStatus.Success, result.GetProperty("status").GetInt32());
        }
        finally
        {
            app.Kill(entireProcessTree: true);
        }
    }

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);

    private async Task<(int Exit, string Output)> RunToEndAsync(string sample, params string[] arguments)
    {
        using var process = Start(sample, arguments);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var bound = new CancellationTokenSource(ClusterFixture.SafetyBound);
        try
        {
            await process.WaitForExitAsync(bound.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{sample} still ran after {ClusterFixture.SafetyBound.TotalSeconds} s: {await output}");
        }

        return (process.ExitCode, await output + await error);
    }

    private Process Start(string sample, params string[] arguments)
    {
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
        var assembly = Path.Combine(SiloProcess.RepositoryRoot(), "samples", sample, "bin", configuration, "net10.0", sample + ".dll");
        Assert.True(File.Exists(assembly), $"Build the solution first: {assembly} is missing.");
        var info = new ProcessStartInfo("dotnet", [assembly, .. arguments])
        {
            WorkingDirectory = _folder.FullName,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        info.Environment["Logging__LogLevel__Work"] = "Information";
        return Process.Start(info) ?? throw new InvalidOperationException($"Could not start {sample}.");
    }
}

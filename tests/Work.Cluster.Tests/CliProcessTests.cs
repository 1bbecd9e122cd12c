using System.Diagnostics;
using System.Globalization;

namespace Work.Cluster.Tests;

/// <summary>The <c>work</c> command line as a real process against a real silo process, and against nothing.</summary>
[Collection(ProcessCollection.Name)]
public sealed class CliProcessTests : IAsyncLifetime
{
    private SiloProcess _silo = null!;

    public async Task InitializeAsync()
    {
        var ports = SiloProcess.FreePorts(2);
        _silo = SiloProcess.Start(ports[0], ports[1], new Dictionary<string, string> { ["Work__Silo__Storage"] = "memory" });
        var (host, _) = await _silo.ConnectAsync();
        host.Dispose();
    }

    public async Task DisposeAsync() => await _silo.DisposeAsync();

    private string Gateway => $"127.0.0.1:{_silo.GatewayPort.ToString(CultureInfo.InvariantCulture)}";

    [Fact]
    public async Task AHostNameWorksAsTheGateway()
    {
        var name = ClusterFixture.NewJobName("cli-host");
        var define = await RunAsync("--gateway", $"localhost:{_silo.GatewayPort.ToString(CultureInfo.InvariantCulture)}", "define", name, "--handler", "echo");
        var list = await RunAsync("--gateway", $"localhost:{_silo.GatewayPort.ToString(CultureInfo.InvariantCulture)}", "list");

        Assert.Equal(0, define.Exit);
        Assert.Equal(0, list.Exit);
        Assert.Contains(name, list.Output.Split('\n').Select(l => l.Trim()));
    }

    [Fact]
    public async Task AWrongClusterIdGivesUpAfterTheTimeoutAndSaysWhy()
    {
        var result = await RunAsync("--gateway", Gateway, "--cluster-id", "blue", "--timeout", "00:00:02", "list");

        Assert.Equal(3, result.Exit);
        Assert.Contains("no gateway answered within 2 s", result.Error, StringComparison.Ordinal);
        Assert.Contains("cluster id 'blue'", result.Error, StringComparison.Ordinal);
        Assert.Empty(result.Output);
    }

    [Fact]
    public async Task NothingListeningGivesUpAfterTheTimeoutAndSaysWhy()
    {
        var nowhere = $"127.0.0.1:{SiloProcess.FreePorts(1)[0].ToString(CultureInfo.InvariantCulture)}";

        var result = await RunAsync("--gateway", nowhere, "--timeout", "00:00:02", "list");

        Assert.Equal(3, result.Exit);
        Assert.Contains($"cannot reach the cluster at {nowhere}: no gateway answered within 2 s", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AHostThatDoesNotResolveIsNamed()
    {
        var result = await RunAsync("--gateway", "no-such-host.invalid:30000", "--timeout", "00:00:05", "list");

        Assert.Equal(3, result.Exit);
        Assert.Contains("'no-such-host.invalid'", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("127.0.0.1", "host:port")]
    [InlineData("127.0.0.1:0", "port from 1 to 65535")]
    [InlineData("::1:30000", "host:port")]
    [InlineData(":30000", "host:port")]
    public async Task AGatewayThatIsNotHostAndPortIsABadCommandLine(string gateway, string message)
    {
        var result = await RunAsync("--gateway", gateway, "list");

        Assert.Equal(2, result.Exit);
        Assert.Contains(message, result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BadCountsIdsAndNamesAreErrorsThatNameThem()
    {
        var name = ClusterFixture.NewJobName("cli-errors");
        Assert.Equal(0, (await RunAsync("--gateway", Gateway, "define", name, "--handler", "echo")).Exit);
        Assert.Equal(0, (await RunAsync("--gateway", Gateway, "start", name)).Exit);

        var negativeCount = await RunAsync("--gateway", Gateway, "history", name, "--count", "-1");
        var unknownId = await RunAsync("--gateway", Gateway, "cancel", name, "0123456789abcdef0123456789abcdef");
        var invisible = await RunAsync("--gateway", Gateway, "start", "a\u200Bb");
        var tick = await RunAsync("--gateway", Gateway, "every", name, "00:00:00.0000001");
        var forever = await RunAsync("--gateway", Gateway, "every", name, "3650000.00:00:00");
        var farAway = await RunAsync("--gateway", Gateway, "in", name, "3650000.00:00:00");

        Assert.Equal(2, negativeCount.Exit);
        Assert.Contains("--count must be between 0 and 10000; it is -1", negativeCount.Error, StringComparison.Ordinal);
        Assert.Equal(1, unknownId.Exit);
        Assert.Contains("no execution '0123456789abcdef0123456789abcdef'", unknownId.Error, StringComparison.Ordinal);
        Assert.Equal(1, invisible.Exit);
        Assert.Contains("U+200B", invisible.Error, StringComparison.Ordinal);
        Assert.Equal(1, tick.Exit);
        Assert.Contains("MinInterval", tick.Error, StringComparison.Ordinal);
        Assert.Equal(1, forever.Exit);
        Assert.Contains("at most 36525 days", forever.Error, StringComparison.Ordinal);
        Assert.Equal(1, farAway.Exit);
        Assert.Contains("The delay must be at most 36525 days", farAway.Error, StringComparison.Ordinal);

        // The job is as it was, and still answers.
        var status = await RunAsync("--gateway", Gateway, "status", name, "--json");
        Assert.Equal(0, status.Exit);
        Assert.Contains("\"every\": null", status.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CronSetsASchedulesTimesInATimeZone()
    {
        var name = ClusterFixture.NewJobName("cli-cron");
        await RunAsync("--gateway", Gateway, "define", name, "--handler", "echo");
        await RunAsync("--gateway", Gateway, "start", name);

        var cron = await RunAsync("--gateway", Gateway, "cron", name, "0 0 9 * * MON-FRI", "--time-zone", "Europe/Berlin");
        var status = await RunAsync("--gateway", Gateway, "status", name);
        var bad = await RunAsync("--gateway", Gateway, "cron", name, "0 9 * *");

        Assert.True(cron.Exit == 0, cron.Error);
        Assert.StartsWith($"{name} at '0 0 9 * * MON-FRI' (Europe/Berlin); next 20", cron.Output.Trim(), StringComparison.Ordinal);
        Assert.Contains("cron '0 0 9 * * MON-FRI' Europe/Berlin", status.Output, StringComparison.Ordinal);
        Assert.Equal(1, bad.Exit);
        Assert.Contains("must have 5 fields (minute hour day month weekday) or 6 (seconds first); '0 9 * *' has 4", bad.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeleteRemovesTheJobFromTheList()
    {
        var name = ClusterFixture.NewJobName("cli-delete");
        await RunAsync("--gateway", Gateway, "define", name, "--handler", "echo", "--every", "00:01:00");
        await RunAsync("--gateway", Gateway, "start", name);

        var delete = await RunAsync("--gateway", Gateway, "delete", name);
        var list = await RunAsync("--gateway", Gateway, "list");
        var start = await RunAsync("--gateway", Gateway, "start", name);

        Assert.Equal((0, $"deleted {name}"), (delete.Exit, delete.Output.Trim()));
        Assert.DoesNotContain(name, list.Output.Split('\n').Select(l => l.Trim()));
        Assert.Equal(1, start.Exit);
        Assert.Contains("not defined", start.Error, StringComparison.Ordinal);
    }

    internal static async Task<(int Exit, string Output, string Error)> RunAsync(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet", [CliAssembly(), .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(info) ?? throw new InvalidOperationException("Could not start the work CLI.");
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
            throw new TimeoutException($"work {string.Join(' ', args)} still ran after {ClusterFixture.SafetyBound.TotalSeconds} s");
        }

        return (process.ExitCode, await output, await error);
    }

    private static string CliAssembly()
    {
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
        var path = Path.Combine(SiloProcess.RepositoryRoot(), "src", "Work.Cli", "bin", configuration, "net10.0", "Work.Cli.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException("Build Work.Cli first.", path);
    }
}

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Work.Client;

namespace Work.Cluster.Tests;

/// <summary>The Work.Silo executable as a real process on loopback, killable with SIGKILL.</summary>
internal sealed class SiloProcess : IAsyncDisposable
{
    private static readonly HashSet<int> s_given = [];
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private volatile Uri? _httpBase;

    private SiloProcess(Process process, int siloPort, int gatewayPort)
    {
        _process = process;
        SiloPort = siloPort;
        GatewayPort = gatewayPort;
    }

    /// <summary>
    /// Where the silo serves HTTP (API, dashboard, health, metrics): a port Kestrel chose itself (port 0), read from the
    /// silo's "Now listening on" line, so no other process can take it between choosing and binding. Known once
    /// <see cref="ReadyAsync"/> returned.
    /// </summary>
    public Uri HttpBase => _httpBase ?? throw new InvalidOperationException("The silo has not said where it listens yet: await ReadyAsync first.");

    /// <summary>An operator's API key every silo started here accepts (see <see cref="ApiKeySettings"/>).</summary>
    public const string OperatorKey = "silo-process-operator-key";

    /// <summary>A reader's API key every silo started here accepts.</summary>
    public const string ReaderKey = "silo-process-reader-key";

    public int SiloPort { get; }

    public int GatewayPort { get; }

    /// <summary>How this silo's address starts in <see cref="JobInfo.Silo"/> and <see cref="JobExecution.Worker"/>.</summary>
    public string AddressPrefix => $"127.0.0.1:{SiloPort.ToString(CultureInfo.InvariantCulture)}@";

    /// <summary>The silo on a SQLite file, the embedded default.</summary>
    public static SiloProcess Start(string databasePath, int siloPort, int gatewayPort) =>
        Start(siloPort, gatewayPort, new Dictionary<string, string> { ["Work__Silo__DatabasePath"] = databasePath });

    /// <summary>The silo with extra settings, as environment variables (<c>Section__Key</c>).</summary>
    public static SiloProcess Start(int siloPort, int gatewayPort, IReadOnlyDictionary<string, string> settings, params string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet", [SiloAssembly(), .. arguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["Work__Silo__SiloPort"] = siloPort.ToString(CultureInfo.InvariantCulture);
        info.Environment["Work__Silo__GatewayPort"] = gatewayPort.ToString(CultureInfo.InvariantCulture);
        info.Environment["Logging__LogLevel__Default"] = "Warning";

        // The sample handlers the tests use run in the Development environment only.
        info.Environment["DOTNET_ENVIRONMENT"] = "Development";

        // Several silos run side by side: each serves HTTP on a port Kestrel picks, which it logs, with the test keys.
        info.Environment["Work__Http__Urls"] = "http://127.0.0.1:0";
        info.Environment["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information";
        foreach (var (key, value) in ApiKeySettings)
        {
            info.Environment[key] = value;
        }
        foreach (var (key, value) in settings)
        {
            info.Environment[key] = value;
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("Could not start the silo process.");
        var silo = new SiloProcess(process, siloPort, gatewayPort);
        process.OutputDataReceived += (_, e) => silo.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => silo.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return silo;
    }

    /// <summary>The test keys as settings: an operator's and a reader's.</summary>
    public static IReadOnlyDictionary<string, string> ApiKeySettings { get; } = new Dictionary<string, string>
    {
        ["Work__Http__ApiKeys__0__Name"] = "test-operator",
        ["Work__Http__ApiKeys__0__Role"] = "operator",
        ["Work__Http__ApiKeys__0__Sha256"] = HttpApiFixture.Sha256(OperatorKey),
        ["Work__Http__ApiKeys__1__Name"] = "test-reader",
        ["Work__Http__ApiKeys__1__Role"] = "reader",
        ["Work__Http__ApiKeys__1__Sha256"] = HttpApiFixture.Sha256(ReaderKey),
    };

    /// <summary>An HTTP client of this silo with an API key.</summary>
    public HttpClient Http(string? apiKey = OperatorKey)
    {
        var client = new HttpClient { BaseAddress = HttpBase, Timeout = ClusterFixture.SafetyBound };
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        }

        return client;
    }

    /// <summary>Waits until the silo answers <c>/health/ready</c> with 200 (it fails at once if the process exits).</summary>
    public async Task ReadyAsync()
    {
        await Eventually.WaitUntilAsync(
            () =>
            {
                Assert.False(HasExited, Output);
                return Task.FromResult(_httpBase is not null);
            },
            "the silo said where it serves HTTP");
        using var anonymous = Http(apiKey: null);
        await Eventually.WaitUntilAsync(
            async () =>
            {
                Assert.False(HasExited, Output);
                try
                {
                    using var ready = await anonymous.GetAsync(new Uri("health/ready", UriKind.Relative));
                    return ready.IsSuccessStatusCode;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            },
            $"the silo at {HttpBase} is ready");
    }

    public bool HasExited => _process.HasExited;

    /// <summary>The last lines the silo wrote, for failure messages.</summary>
    public string Output => string.Join(Environment.NewLine, _output);

    /// <summary>
    /// Every execution the silo logged as finished (the logging adapter's line, with <c>Work.Executions</c> at
    /// Debug and single-line console output): what ran, counted outside the job grains.
    /// </summary>
    public ConcurrentQueue<LoggedExecution> Executions { get; } = new();

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        const string Listening = "Now listening on: ";
        if (line.IndexOf(Listening, StringComparison.Ordinal) is var at and >= 0)
        {
            _httpBase = new Uri(line[(at + Listening.Length)..].Trim().TrimEnd('/') + "/");
        }

        if (LoggedExecution.TryParse(line) is { } execution)
        {
            Executions.Enqueue(execution);
            return;
        }

        _output.Enqueue(line);
        while (_output.Count > 200 && _output.TryDequeue(out _))
        {
        }
    }

    /// <summary>
    /// Distinct free loopback ports, none handed out before in this test run: a port given to one silo and not yet
    /// bound by it is not given to another (a silo's HTTP port once took a port another silo was about to bind).
    /// </summary>
    public static int[] FreePorts(int count)
    {
        var ports = new List<int>(count);
        while (ports.Count < count)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            lock (s_given)
            {
                if (s_given.Add(port))
                {
                    ports.Add(port);
                }
            }
        }

        return [.. ports];
    }

    /// <summary>Waits for the process to end by itself; its exit code.</summary>
    public async Task<int> ExitCodeAsync()
    {
        using var bound = new CancellationTokenSource(ClusterFixture.SafetyBound);
        await _process.WaitForExitAsync(bound.Token);
        return _process.ExitCode;
    }

    /// <summary>SIGKILL: no shutdown of any kind.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    /// <summary>Connects a client, retrying while the silo starts.</summary>
    public async Task<(IHost Host, WorkClient Client)> ConnectAsync(Action<IClientBuilder>? configure = null)
    {
        var deadline = DateTimeOffset.UtcNow + ClusterFixture.SafetyBound;
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The silo process exited with code {_process.ExitCode}: {Output}");
            }

            try
            {
                return await ConnectToGatewayAsync(GatewayPort, WorkDefaults.ClusterId, configure);
            }
            catch (Exception) when (DateTimeOffset.UtcNow < deadline)
            {
                await Task.Yield();
            }
        }
    }

    /// <summary>A client of the cluster <paramref name="clusterId"/> through the gateway on a loopback port.</summary>
    public static async Task<(IHost Host, WorkClient Client)> ConnectToGatewayAsync(int gatewayPort, string clusterId, Action<IClientBuilder>? configure = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.UseOrleansClient(client =>
        {
            client
                .UseStaticClustering(new IPEndPoint(IPAddress.Loopback, gatewayPort))
                .Configure<Orleans.Configuration.ClusterOptions>(o =>
                {
                    o.ClusterId = clusterId;
                    o.ServiceId = clusterId;
                });
            configure?.Invoke(client);
        });
        var host = builder.Build();
        try
        {
            await host.StartAsync();
            return (host, new WorkClient(host.Services.GetRequiredService<IClusterClient>()));
        }
        catch (Exception)
        {
            host.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            await KillAsync();
        }

        _process.Dispose();
    }

    /// <summary>The folder of Work.Orleans.sln above the test binaries.</summary>
    public static string RepositoryRoot()
    {
        var here = AppContext.BaseDirectory;
        var root = new DirectoryInfo(here);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Work.Orleans.sln")))
        {
            root = root.Parent;
        }

        return root?.FullName ?? throw new InvalidOperationException("Work.Orleans.sln not found above " + here);
    }

    private static string SiloAssembly()
    {
        var here = AppContext.BaseDirectory;
        var configuration = here.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
        var path = Path.Combine(RepositoryRoot(), "src", "Work.Silo", "bin", configuration, "net10.0", "Work.Silo.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException("Build Work.Silo first.", path);
    }
}

/// <summary>One finished execution from a silo's log.</summary>
internal sealed partial record LoggedExecution(string Job, string ExecutionId, int Attempt, string Worker)
{
    public static LoggedExecution? TryParse(string line)
    {
        var match = Pattern().Match(line);
        return match.Success
            ? new LoggedExecution(match.Groups["job"].Value, match.Groups["id"].Value,
                int.Parse(match.Groups["attempt"].Value, CultureInfo.InvariantCulture), match.Groups["worker"].Value)
            : null;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"Job (?<job>\S+) \S+ \S+ in \S+ ms on (?<worker>\S+) \(execution (?<id>\w+), attempt (?<attempt>\d+)\)")]
    private static partial System.Text.RegularExpressions.Regex Pattern();
}

using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Work.Client;

namespace Work.Cluster.Tests;

/// <summary>The Work.Silo executable as a real process on loopback, on a SQLite file, killable with SIGKILL.</summary>
internal sealed class SiloProcess : IAsyncDisposable
{
    private readonly Process _process;

    private SiloProcess(Process process, int gatewayPort)
    {
        _process = process;
        GatewayPort = gatewayPort;
    }

    public int GatewayPort { get; }

    public static SiloProcess Start(string databasePath, int siloPort, int gatewayPort)
    {
        var info = new ProcessStartInfo("dotnet", [SiloAssembly()])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["Work__Silo__SiloPort"] = siloPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        info.Environment["Work__Silo__GatewayPort"] = gatewayPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        info.Environment["Work__Silo__DatabasePath"] = databasePath;
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        var process = Process.Start(info) ?? throw new InvalidOperationException("Could not start the silo process.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new SiloProcess(process, gatewayPort);
    }

    /// <summary>Distinct free loopback ports: all are held open together, so none is handed out twice.</summary>
    public static int[] FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        try
        {
            listeners.ForEach(l => l.Start());
            return listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        }
        finally
        {
            listeners.ForEach(l => l.Dispose());
        }
    }

    /// <summary>SIGKILL: no shutdown of any kind.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    /// <summary>Connects a client, retrying while the silo starts.</summary>
    public async Task<(IHost Host, WorkClient Client)> ConnectAsync()
    {
        var deadline = DateTimeOffset.UtcNow + ClusterFixture.SafetyBound;
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The silo process exited with code {_process.ExitCode}.");
            }

            var builder = Host.CreateApplicationBuilder();
            builder.Logging.ClearProviders();
            builder.UseOrleansClient(client => client
                .UseStaticClustering(new IPEndPoint(IPAddress.Loopback, GatewayPort))
                .Configure<Orleans.Configuration.ClusterOptions>(o =>
                {
                    o.ClusterId = WorkDefaults.ClusterId;
                    o.ServiceId = WorkDefaults.ClusterId;
                }));
            var host = builder.Build();
            try
            {
                await host.StartAsync();
                return (host, new WorkClient(host.Services.GetRequiredService<IClusterClient>()));
            }
            catch (Exception) when (DateTimeOffset.UtcNow < deadline)
            {
                host.Dispose();
                await Task.Yield();
            }
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

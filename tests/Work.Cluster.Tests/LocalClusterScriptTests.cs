using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Work.Cluster.Tests;

/// <summary>deploy/local-cluster.sh as people run it: a throwaway PostgreSQL and silo processes, then all stopped.</summary>
[Collection(ProcessCollection.Name)]
public sealed class LocalClusterScriptTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("work-local-").FullName;

    public void Dispose()
    {
        // Stops whatever a failed run left behind (only this test's cluster, never one at the default folder).
        if (Settings.ContainsKey("WORK_CLUSTER_DIR"))
        {
            Run("stop");
        }

        Directory.Delete(_folder, recursive: true);
    }

    private Dictionary<string, string> Settings { get; } = [];

    [Fact]
    public async Task StartsAClusterOnAThrowawayPostgresAndStopsEverythingItStarted()
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(_folder, (UnixFileMode)0b111_101_101);
        }

        var silos = PortPair();
        var gateways = PortPair(silos);
        var web = PortPair(silos, gateways);
        var postgres = SiloProcess.FreePorts(1)[0];
        var clusterId = "local-" + Guid.NewGuid().ToString("N")[..8];
        Settings["WORK_CLUSTER_DIR"] = Path.Combine(_folder, "cluster");
        Settings["WORK_PG_PORT"] = postgres.ToString(CultureInfo.InvariantCulture);
        Settings["WORK_SILO_PORT"] = silos.ToString(CultureInfo.InvariantCulture);
        Settings["WORK_GATEWAY_PORT"] = gateways.ToString(CultureInfo.InvariantCulture);
        Settings["WORK_HTTP_PORT"] = web.ToString(CultureInfo.InvariantCulture);
        Settings["WORK_CLUSTER_ID"] = clusterId;
        if (File.Exists(Path.Combine(SiloProcess.RepositoryRoot(), "src", "Work.Silo", "bin", "Release", "net10.0", "Work.Silo.dll")))
        {
            // The test command built it already (the script runs the Release build).
            Settings["WORK_NO_BUILD"] = "1";
        }

        var (started, startOutput) = Run("start", "2");
        Assert.True(started == 0, startOutput);
        Assert.Contains($"2 silos are active (cluster '{clusterId}')", startOutput, StringComparison.Ordinal);

        var (listed, status) = Run("status");
        Assert.True(listed == 0, status);
        Assert.Equal(2, status.Split('\n').Count(line => line.Contains(" active ", StringComparison.Ordinal)));

        // Both gateways serve the cluster: the configured heartbeat job performs through the second one.
        var (host, client) = await SiloProcess.ConnectToGatewayAsync(gateways + 1, clusterId);
        using (host)
        {
            Assert.Equal(JobStatus.Success, (await client.PerformAsync("heartbeat")).Status);
            await host.StopAsync();
        }

        // Each silo serves its health on a port of its own: both are ready.
        using (var http = new HttpClient())
        {
            foreach (var port in new[] { web, web + 1 })
            {
                using var ready = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/health/ready"));
                Assert.True(ready.IsSuccessStatusCode, $"silo on HTTP port {port}: {(int)ready.StatusCode} {await ready.Content.ReadAsStringAsync()}");
            }
        }

        var (stopped, stopOutput) = Run("stop");
        Assert.True(stopped == 0, stopOutput);
        Assert.Contains("Stopped the silos.", stopOutput, StringComparison.Ordinal);
        Assert.Contains("Stopped the throwaway PostgreSQL.", stopOutput, StringComparison.Ordinal);
        foreach (var port in new[] { silos, silos + 1, gateways, gateways + 1, web, web + 1, postgres })
        {
            Assert.False(Listening(port), $"something still listens on port {port}");
        }
    }

    private (int ExitCode, string Output) Run(params string[] arguments)
    {
        var (exitCode, output, error) = ShellScript.Run(Path.Combine("deploy", "local-cluster.sh"), Settings, arguments);
        return (exitCode, output + error);
    }

    // A free port whose next port is free too (the script numbers silos from a first port), apart from the pairs taken.
    private static int PortPair(params int[] taken)
    {
        while (true)
        {
            var port = SiloProcess.FreePorts(1)[0];
            if (port < 65535 && !taken.Any(t => Math.Abs(t - port) <= 1) && !Listening(port + 1) && CanBind(port + 1))
            {
                return port;
            }
        }
    }

    private static bool CanBind(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static bool Listening(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}

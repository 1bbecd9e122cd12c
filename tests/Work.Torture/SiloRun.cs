using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Work.Torture;

/// <summary>One Work.Silo process of the torture cluster, with the executions its log shows.</summary>
internal sealed partial class SiloRun
{
    private readonly Process _process;
    private readonly string _root;
    private readonly string _connectionString;
    private readonly string _clusterId;

    private SiloRun(Process process, string root, string connectionString, string clusterId, int siloPort, int gatewayPort, ConcurrentQueue<LoggedRun> executions)
    {
        _process = process;
        _root = root;
        _connectionString = connectionString;
        _clusterId = clusterId;
        SiloPort = siloPort;
        GatewayPort = gatewayPort;
        Executions = executions;
    }

    public int SiloPort { get; }

    public int GatewayPort { get; }

    /// <summary>Every execution logged as finished by this silo and the incarnations before it on its ports.</summary>
    public ConcurrentQueue<LoggedRun> Executions { get; }

    public bool HasExited => _process.HasExited;

    public static SiloRun Start(string root, string connectionString, string clusterId, int siloPort, int gatewayPort) =>
        Start(root, connectionString, clusterId, siloPort, gatewayPort, new ConcurrentQueue<LoggedRun>());

    public SiloRun Restart() => Start(_root, _connectionString, _clusterId, SiloPort, GatewayPort, Executions);

    /// <summary>SIGKILL: no shutdown of any kind.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
    }

    private static SiloRun Start(string root, string connectionString, string clusterId, int siloPort, int gatewayPort, ConcurrentQueue<LoggedRun> executions)
    {
        var silo = Path.Combine(root, "src", "Work.Silo", "bin", "Release", "net10.0", "Work.Silo.dll");
        if (!File.Exists(silo))
        {
            throw new FileNotFoundException("Build Work.Silo in Release first (dotnet build -c Release).", silo);
        }

        var info = new ProcessStartInfo("dotnet", [silo]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var (key, value) in new Dictionary<string, string>
        {
            ["ConnectionStrings__Work"] = connectionString,
            ["Work__Silo__Storage"] = "postgres",
            ["Work__Silo__Clustering"] = "adonet",
            ["Work__Silo__Address"] = "127.0.0.1",
            ["Work__Silo__SiloPort"] = siloPort.ToString(CultureInfo.InvariantCulture),
            ["Work__Silo__GatewayPort"] = gatewayPort.ToString(CultureInfo.InvariantCulture),
            ["Work__Silo__ClusterId"] = clusterId,
            ["Work__Silo__ServiceId"] = clusterId,
            ["Work__Jobs__heartbeat__Start"] = "false",
            ["Work__Cluster__LeaseDuration"] = "00:00:06",
            ["Work__Cluster__LeaseRenewPeriod"] = "00:00:01",
            ["Work__Membership__ProbeTimeout"] = "00:00:01",
            ["Work__Membership__NumMissedProbesLimit"] = "2",
            ["Work__Membership__NumVotesForDeathDeclaration"] = "1",
            ["Logging__LogLevel__Default"] = "Warning",
            ["Logging__LogLevel__Work.Executions"] = "Debug",
            ["DOTNET_ENVIRONMENT"] = "Development",
            ["Logging__Console__FormatterOptions__SingleLine"] = "true",
        })
        {
            info.Environment[key] = value;
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("Could not start a silo process.");
        process.OutputDataReceived += (_, e) => Keep(e.Data, executions);
        process.ErrorDataReceived += (_, e) => Keep(e.Data, executions);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new SiloRun(process, root, connectionString, clusterId, siloPort, gatewayPort, executions);
    }

    private static void Keep(string? line, ConcurrentQueue<LoggedRun> executions)
    {
        if (line is not null && Pattern().Match(line) is { Success: true } match)
        {
            executions.Enqueue(new LoggedRun(match.Groups["job"].Value, match.Groups["id"].Value, int.Parse(match.Groups["attempt"].Value, CultureInfo.InvariantCulture)));
        }
    }

    [GeneratedRegex(@"Job (?<job>\S+) \S+ \S+ in \S+ ms on (?<worker>\S+) \(execution (?<id>\w+), attempt (?<attempt>\d+)\)")]
    private static partial Regex Pattern();
}

/// <summary>One finished execution from a silo's log.</summary>
internal sealed record LoggedRun(string Job, string ExecutionId, int Attempt);

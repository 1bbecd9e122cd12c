using System.Diagnostics;

namespace Work.Cluster.Tests;

/// <summary>Runs one of the repository's bash scripts and collects what it wrote.</summary>
internal static class ShellScript
{
    /// <summary>Runs <paramref name="script"/> (a path below the repository root) within the safety bound.</summary>
    public static (int ExitCode, string Output, string Error) Run(
        string script, IReadOnlyDictionary<string, string>? environment, params string[] arguments)
    {
        var info = new ProcessStartInfo("bash", [Path.Combine(SiloProcess.RepositoryRoot(), script), .. arguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException("Could not run bash.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(ClusterFixture.SafetyBound * 2))
        {
            process.Kill(entireProcessTree: true);
        }

        process.WaitForExit();
        return (process.ExitCode, output.Result, error.Result);
    }
}

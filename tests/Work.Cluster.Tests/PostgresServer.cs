using Npgsql;
using Work.Storage.Postgres;

namespace Work.Cluster.Tests;

/// <summary>
/// A real PostgreSQL server on loopback for the tests. The shared one is the server named by WORK_TEST_POSTGRES (the
/// test command starts one and sets it); without it, the tests start their own through deploy/postgres/throwaway.sh.
/// Tests that stop the server start a private one.
/// </summary>
internal sealed class PostgresServer : IDisposable
{
    public const string Variable = "WORK_TEST_POSTGRES";

    private static readonly Lazy<PostgresServer> s_shared = new(OpenShared);
    private readonly string? _folder;

    private PostgresServer(string connectionString, string? folder)
    {
        ConnectionString = connectionString;
        _folder = folder;
    }

    /// <summary>The server the PostgreSQL tests share.</summary>
    public static PostgresServer Shared => s_shared.Value;

    /// <summary>The server's own database, for creating test databases.</summary>
    public string ConnectionString { get; }

    /// <summary>Starts a private server on a free loopback port; stop it with <see cref="Dispose"/>.</summary>
    public static PostgresServer Start()
    {
        // The server runs as the postgres user when we are root: its folder's parent must be reachable by it.
        var parent = Directory.CreateTempSubdirectory("work-pg-").FullName;
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(parent, (UnixFileMode)0b111_101_101);
        }

        var folder = Path.Combine(parent, "pg");
        var port = SiloProcess.FreePorts(1)[0];
        var output = Run("start", folder, port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return new PostgresServer(output.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1].Trim(), folder);
    }

    /// <summary>A new database, with the Work.Orleans schema unless <paramref name="withSchema"/> is false; its connection string.</summary>
    public string CreateDatabase(string prefix, bool withSchema = true)
    {
        var name = $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 13, 63)];
        using (var connection = new NpgsqlConnection(ConnectionString))
        {
            connection.Open();
            using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            command.ExecuteNonQuery();
        }

        var connectionString = new NpgsqlConnectionStringBuilder(ConnectionString) { Database = name }.ConnectionString;
        if (withSchema)
        {
            PostgresSchema.ApplyAsync(connectionString).GetAwaiter().GetResult();
        }

        return connectionString;
    }

    /// <summary>Stops the server (fast shutdown: clients are disconnected).</summary>
    public void Stop() => Run("stop", Folder);

    /// <summary>Starts the stopped server again, on the same port with the same data.</summary>
    public void Restart() => Run("restart", Folder);

    /// <summary>Stops a private server and removes its files.</summary>
    public void Dispose()
    {
        Stop();
        Directory.Delete(Path.GetDirectoryName(Folder)!, recursive: true);
    }

    private string Folder => _folder ?? throw new InvalidOperationException("The shared server is not the tests' to stop.");

    private static PostgresServer OpenShared()
    {
        if (Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } connectionString)
        {
            return new PostgresServer(connectionString, folder: null);
        }

        var server = Start();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.Dispose();
        return new PostgresServer(server.ConnectionString, folder: null);
    }

    private static string Run(params string[] arguments)
    {
        var (exitCode, output, error) = ShellScript.Run(Path.Combine("deploy", "postgres", "throwaway.sh"), null, arguments);
        return exitCode == 0
            ? output
            : throw new InvalidOperationException($"PostgreSQL could not be {arguments[0]}ed (throwaway.sh exit code {exitCode}): {error}{output}");
    }
}

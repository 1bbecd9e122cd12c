using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Xml.Linq;
using Xunit.Abstractions;

namespace Work.Cluster.Tests;

/// <summary>
/// The product as a team consumes it: the solution packed into a folder feed, a fresh project outside the repository
/// that references the packages by version, hosts a silo with a handler of its own and performs through WorkClient,
/// and the work tool installed from the feed and run against that silo.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class PackageConsumerTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan s_bound = TimeSpan.FromMinutes(5);
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("work-consumer-");

    public void Dispose() => _folder.Delete(recursive: true);

    [Fact]
    public async Task APackedSiloHostsAHandlerAndTheInstalledToolListsItsJob()
    {
        var root = SiloProcess.RepositoryRoot();
        var feed = Path.Combine(_folder.FullName, "feed");
        var version = await VersionAsync(root);
        await RunAsync(root, "dotnet", "pack", "Work.Orleans.sln", "-c", "Release", "--no-build", "-o", feed);
        Assert.Contains($"Work.{version}.nupkg", Directory.GetFiles(feed).Select(Path.GetFileName));

        // The core package: no Orleans server, no database driver among its dependencies.
        var core = Dependencies(Path.Combine(feed, $"Work.{version}.nupkg"));
        Assert.Contains("Microsoft.Orleans.Sdk", core);
        Assert.DoesNotContain(core, d => d is "Microsoft.Orleans.Server" or "Microsoft.Orleans.Runtime" or "Npgsql" or "Microsoft.Data.Sqlite" || d.Contains("AdoNet", StringComparison.Ordinal));
        Assert.Contains("Work.Grains", Dependencies(Path.Combine(feed, $"Work.Storage.Sqlite.{version}.nupkg")));

        // The consumer: its own folder, its own package folder (so no earlier copy of these packages is used), the
        // feed and the machine's package cache for everything else.
        var app = Path.Combine(_folder.FullName, "app");
        Directory.CreateDirectory(app);
        await File.WriteAllTextAsync(Path.Combine(app, "nuget.config"), NuGetConfig(feed, Path.Combine(_folder.FullName, "packages")));
        await File.WriteAllTextAsync(Path.Combine(app, "Consumer.csproj"), ConsumerProject(version));
        await File.WriteAllTextAsync(Path.Combine(app, "Program.cs"), ConsumerProgram);
        var ports = SiloProcess.FreePorts(2);
        using var consumer = Start(app, "dotnet", "run", "-c", "Release", "--", ports[0].ToString(CultureInfo.InvariantCulture), ports[1].ToString(CultureInfo.InvariantCulture));
        try
        {
            var performed = await consumer.WaitForLineAsync(l => l.StartsWith("performed", StringComparison.Ordinal), s_bound);
            Assert.Equal("performed shouter: 200 Success HELLO", performed);

            // The tool, installed from the feed, answers from the running silo.
            var tools = Path.Combine(_folder.FullName, "tools");
            await RunAsync(app, "dotnet", "tool", "install", "Work.Cli", "--version", version, "--tool-path", tools, "--configfile", Path.Combine(app, "nuget.config"));
            var list = await RunAsync(app, Path.Combine(tools, "work"), "--gateway", $"localhost:{ports[1].ToString(CultureInfo.InvariantCulture)}", "--cluster-id", "consumer", "list");
            Assert.Equal(["shouter"], list.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        }
        finally
        {
            consumer.Kill();
            output.WriteLine(consumer.Output);
        }
    }

    private static List<string> Dependencies(string package)
    {
        using var archive = ZipFile.OpenRead(package);
        using var nuspec = archive.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open();
        return XDocument.Load(nuspec).Descendants().Where(e => e.Name.LocalName == "dependency").Select(e => (string)e.Attribute("id")!).ToList();
    }

    private static string NuGetConfig(string feed, string packages) => $"""
        <?xml version="1.0" encoding="utf-8"?>
        <configuration>
          <config>
            <add key="globalPackagesFolder" value="{packages}" />
          </config>
          <packageSources>
            <clear />
            <add key="work" value="{feed}" />
            <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
          </packageSources>
          <fallbackPackageFolders>
            <add key="machine" value="{Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages")}" />
          </fallbackPackageFolders>
        </configuration>
        """;

    private static string ConsumerProject(string version) => $"""
        <Project Sdk="Microsoft.NET.Sdk">
          <PropertyGroup>
            <OutputType>Exe</OutputType>
            <TargetFramework>net10.0</TargetFramework>
            <ImplicitUsings>enable</ImplicitUsings>
            <Nullable>enable</Nullable>
          </PropertyGroup>
          <ItemGroup>
            <PackageReference Include="Work.Grains" Version="{version}" />
            <PackageReference Include="Work.Storage.Sqlite" Version="{version}" />
            <PackageReference Include="Work.Client" Version="{version}" />
            <PackageReference Include="Microsoft.Orleans.Server" Version="10.4.2" />
            <PackageReference Include="Microsoft.Extensions.Hosting" Version="10.0.15" />
          </ItemGroup>
        </Project>
        """;

    // A team's own silo: a handler of its own, the packages' SQLite storage, a perform through WorkClient.
    private const string ConsumerProgram = """
        using Microsoft.Extensions.DependencyInjection;
        using Microsoft.Extensions.Hosting;
        using Work;
        using Work.Client;
        using Work.Hosting;

        var siloPort = int.Parse(args[0]);
        var gatewayPort = int.Parse(args[1]);
        var builder = Host.CreateApplicationBuilder();
        builder.UseOrleans(silo => silo
            .UseLocalhostClustering(siloPort, gatewayPort, serviceId: "consumer", clusterId: "consumer")
            .UseWorkSqlite(Path.Combine(AppContext.BaseDirectory, "work.db"))
            .AddWork(work => work.AddHandler("shout", ctx =>
            {
                ctx.Set("shouted", ctx.Args.Get<string>("text").ToUpperInvariant());
                ctx.Status = ctx.Args.Get<string>("text") == "hello" ? JobStatus.Success : JobStatus.BadRequest;
                Console.WriteLine($"shouted {ctx.Args.Get<string>("text").ToUpperInvariant()}");
                return Task.CompletedTask;
            })));
        using var host = builder.Build();
        await host.StartAsync();

        var work = new WorkClient(host.Services.GetRequiredService<IGrainFactory>());
        await work.DefineAsync("shouter", new JobDefinition(new Job("shout") { Args = JobArgs.From(new { text = "hello" }) }));
        await work.StartAsync("shouter");
        var done = await work.PerformAsync("shouter");
        Console.WriteLine($"performed shouter: {(int)done.Status} {done.Status} HELLO");
        await host.WaitForShutdownAsync();
        """;

    private static async Task<string> VersionAsync(string root)
    {
        var props = await File.ReadAllTextAsync(Path.Combine(root, "Directory.Build.props"));
        var start = props.IndexOf("<Version>", StringComparison.Ordinal) + "<Version>".Length;
        return props[start..props.IndexOf("</Version>", start, StringComparison.Ordinal)];
    }

    private static async Task<string> RunAsync(string folder, string file, params string[] arguments)
    {
        using var process = Start(folder, file, arguments);
        var exit = await process.ExitAsync(s_bound);
        Assert.True(exit == 0, $"{file} {string.Join(' ', arguments)} exited with {exit}:{Environment.NewLine}{process.Output}");
        return process.StandardOutput;
    }

    private static Running Start(string folder, string file, params string[] arguments)
    {
        var info = new ProcessStartInfo(file, arguments)
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        return new Running(Process.Start(info) ?? throw new InvalidOperationException($"Could not start {file}."));
    }

    /// <summary>A process whose output is kept, line by line.</summary>
    private sealed class Running : IDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _stdout = new();
        private readonly StringBuilder _all = new();
        private readonly List<(Func<string, bool> Match, TaskCompletionSource<string> Line)> _waiters = [];

        public Running(Process process)
        {
            _process = process;
            process.OutputDataReceived += (_, e) => Keep(e.Data, stdout: true);
            process.ErrorDataReceived += (_, e) => Keep(e.Data, stdout: false);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public string Output
        {
            get
            {
                lock (_all)
                {
                    return _all.ToString();
                }
            }
        }

        public string StandardOutput
        {
            get
            {
                lock (_all)
                {
                    return _stdout.ToString();
                }
            }
        }

        public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan bound)
        {
            var line = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_all)
            {
                if (_stdout.ToString().Split('\n').Select(l => l.TrimEnd('\r')).FirstOrDefault(match) is { } seen)
                {
                    return seen;
                }

                _waiters.Add((match, line));
            }

            var exited = _process.WaitForExitAsync();
            var first = await Task.WhenAny(line.Task, exited).WaitAsync(bound);
            return first == line.Task ? await line.Task : throw new InvalidOperationException($"The process exited first:{Environment.NewLine}{Output}");
        }

        public async Task<int> ExitAsync(TimeSpan bound)
        {
            await _process.WaitForExitAsync().WaitAsync(bound);
            _process.WaitForExit();
            return _process.ExitCode;
        }

        public void Kill()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit();
            }
        }

        public void Dispose()
        {
            Kill();
            _process.Dispose();
        }

        private void Keep(string? line, bool stdout)
        {
            if (line is null)
            {
                return;
            }

            lock (_all)
            {
                _all.AppendLine(line);
                if (!stdout)
                {
                    return;
                }

                _stdout.AppendLine(line);
                foreach (var waiter in _waiters.Where(w => w.Match(line)).ToList())
                {
                    _waiters.Remove(waiter);
                    waiter.Line.TrySetResult(line);
                }
            }
        }
    }
}

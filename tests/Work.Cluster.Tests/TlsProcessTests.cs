using System.Globalization;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Connections.Security;

namespace Work.Cluster.Tests;

/// <summary>
/// Mutual TLS on a real silo process, with certificates from <c>deploy/tls/make-certs.sh</c>: a client holding a
/// certificate from the cluster's authority connects and works; one without a certificate, or with one from another
/// authority, is refused; and so is a client that does not trust the silo's authority.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class TlsProcessTests : IAsyncLifetime
{
    private readonly string _folder = Directory.CreateTempSubdirectory("work-tls-").FullName;
    private SiloProcess _silo = null!;

    private string Ours => Path.Combine(_folder, "ours");

    private string Theirs => Path.Combine(_folder, "theirs");

    private string Gateway => $"127.0.0.1:{_silo.GatewayPort.ToString(CultureInfo.InvariantCulture)}";

    public async Task InitializeAsync()
    {
        foreach (var (dir, client) in new[] { (Ours, "app"), (Theirs, "intruder") })
        {
            var (exit, output, error) = ShellScript.Run(Path.Combine("deploy", "tls", "make-certs.sh"), null, dir, client);
            Assert.True(exit == 0, output + error);
        }

        var ports = SiloProcess.FreePorts(2);
        _silo = SiloProcess.Start(ports[0], ports[1], new Dictionary<string, string>
        {
            ["Work__Silo__Storage"] = "memory",
            ["Work__Tls__Enabled"] = "true",
            ["Work__Tls__CertificatePath"] = Path.Combine(Ours, "silo.crt"),
            ["Work__Tls__KeyPath"] = Path.Combine(Ours, "silo.key"),
            ["Work__Tls__CaPath"] = Path.Combine(Ours, "ca.crt"),
        });

        // Ready once a trusted client gets through (the CLI tries until its timeout).
        var ready = await CliProcessTests.RunAsync([.. Trusted(), "--timeout", "00:00:50", "list"]);
        Assert.True(ready.Exit == 0, ready.Error + _silo.Output);
    }

    public async Task DisposeAsync()
    {
        await _silo.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task AClientWithACertificateFromTheClustersAuthorityWorks()
    {
        var name = ClusterFixture.NewJobName("tls");
        Assert.Equal(0, (await CliProcessTests.RunAsync([.. Trusted(), "define", name, "--handler", "echo"])).Exit);
        Assert.Equal(0, (await CliProcessTests.RunAsync([.. Trusted(), "start", name])).Exit);

        var perform = await CliProcessTests.RunAsync([.. Trusted(), "perform", name]);

        Assert.True(perform.Exit == 0, perform.Error);
        Assert.Contains("Success", perform.Output, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task TwoSilosOnPostgresTalkOverTlsAndServeATrustedClient()
    {
        // Silo-to-silo traffic over TLS too: the silos must probe each other to become active, and runs spread to both.
        var settings = new Dictionary<string, string>
        {
            ["Work__Tls__Enabled"] = "true",
            ["Work__Tls__CertificatePath"] = Path.Combine(Ours, "silo.crt"),
            ["Work__Tls__KeyPath"] = Path.Combine(Ours, "silo.key"),
            ["Work__Tls__CaPath"] = Path.Combine(Ours, "ca.crt"),
        };
        await using var cluster = PostgresSiloCluster.Start(PostgresServer.Shared.CreateDatabase("tls"), 2, settings);
        await cluster.WaitForActiveAsync(2);
        var gateway = $"127.0.0.1:{cluster.Silos[1].GatewayPort.ToString(CultureInfo.InvariantCulture)}";
        string[] trusted = ["--gateway", gateway, "--cluster-id", cluster.ClusterId, "--tls-cert", Path.Combine(Ours, "app.crt"), "--tls-key", Path.Combine(Ours, "app.key"), "--tls-ca", Path.Combine(Ours, "ca.crt")];
        var name = ClusterFixture.NewJobName("tls-cluster");

        Assert.Equal(0, (await CliProcessTests.RunAsync([.. trusted, "--timeout", "00:00:50", "define", name, "--handler", "echo", "--max-workers", "4"])).Exit);
        Assert.Equal(0, (await CliProcessTests.RunAsync([.. trusted, "start", name])).Exit);
        for (var i = 0; i < 6; i++)
        {
            Assert.Equal(0, (await CliProcessTests.RunAsync([.. trusted, "perform", name, "--async"])).Exit);
        }

        await Eventually.WaitUntilAsync(
            () => Task.FromResult(cluster.Silos.All(s => s.Executions.Any(e => e.Job == name))),
            "both silos ran executions of the job");
        var plain = await CliProcessTests.RunAsync("--gateway", gateway, "--cluster-id", cluster.ClusterId, "--timeout", "00:00:03", "list");
        Assert.Equal(3, plain.Exit);
    }

    [Fact]
    public async Task AClientWithoutACertificateIsRefused()
    {
        var result = await CliProcessTests.RunAsync("--gateway", Gateway, "--timeout", "00:00:03", "list");

        Assert.Equal(3, result.Exit);
        Assert.Contains("no gateway answered within 3 s", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AClientWithACertificateFromAnotherAuthorityIsRefusedByTheSilo()
    {
        // A client that trusts any silo and presents a certificate from another authority: the silo refuses it.
        using var intruder = X509Certificate2.CreateFromPemFile(Path.Combine(Theirs, "intruder.crt"), Path.Combine(Theirs, "intruder.key"));
        using var host = Client(intruder, tls => tls.AllowAnyRemoteCertificate());

        await RefusedAsync(host);
    }

    [Fact]
    public async Task ACertificateThatDoesNotChainToTheGivenAuthorityIsABadCommandLine()
    {
        var result = await CliProcessTests.RunAsync(
            "--gateway", Gateway,
            "--tls-cert", Path.Combine(Theirs, "intruder.crt"), "--tls-key", Path.Combine(Theirs, "intruder.key"), "--tls-ca", Path.Combine(Ours, "ca.crt"),
            "list");

        Assert.Equal(2, result.Exit);
        Assert.Contains("does not chain to the authority in --tls-ca", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AClientThatDoesNotTrustTheSilosAuthorityDoesNotConnect()
    {
        // A trusted client certificate, but the client checks the silo against another authority: it refuses the silo.
        using var app = X509Certificate2.CreateFromPemFile(Path.Combine(Ours, "app.crt"), Path.Combine(Ours, "app.key"));
        using var theirs = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(Theirs, "ca.crt"));
        using var host = Client(app, tls => tls.RemoteCertificateValidation = (certificate, _, _) => Work.Cluster.WorkTlsOptions.Trusts(theirs, certificate));

        await RefusedAsync(host);
    }

    [Fact]
    public async Task AMissingAuthorityFileIsABadCommandLine()
    {
        var result = await CliProcessTests.RunAsync(
            "--gateway", Gateway,
            "--tls-cert", Path.Combine(Theirs, "intruder.crt"), "--tls-key", Path.Combine(Theirs, "intruder.key"), "--tls-ca", Path.Combine(Theirs, "nope.crt"),
            "list");

        Assert.Equal(2, result.Exit);
        Assert.Contains("--tls-ca names a file that does not exist", result.Error, StringComparison.Ordinal);
    }

    // The client's start fails at its first connection attempt (it does not try again), well within the bound.
    private static async Task RefusedAsync(IHost host)
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync().WaitAsync(ClusterFixture.SafetyBound));
        Assert.IsNotType<TimeoutException>(error);
    }

    // An Orleans client of the silo over TLS with the given certificate and checks, not started; it gives up at the
    // first failed connection.
    private IHost Client(X509Certificate2 certificate, Action<TlsOptions> configure)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.UseOrleansClient(client => client
            .UseStaticClustering(new IPEndPoint(IPAddress.Loopback, _silo.GatewayPort))
            .UseConnectionRetryFilter((_, _) => Task.FromResult(false))
            .UseTls(certificate, tls =>
            {
                tls.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
                configure(tls);
            }));
        return builder.Build();
    }

    private string[] Trusted() =>
        ["--gateway", Gateway, "--tls-cert", Path.Combine(Ours, "app.crt"), "--tls-key", Path.Combine(Ours, "app.key"), "--tls-ca", Path.Combine(Ours, "ca.crt")];
}

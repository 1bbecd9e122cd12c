using System.Net.Http.Headers;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Work.Grains;
using Work.Hosting;
using Work.Http;
using Work.Silo.Handlers;

namespace Work.Cluster.Tests;

/// <summary>
/// A silo on memory storage inside an ASP.NET Core host serving the HTTP API on a loopback port, with a reader key,
/// an operator key and bearer tokens signed with a test key.
/// </summary>
public sealed class HttpApiFixture : IAsyncLifetime
{
    public const string ReaderKey = "reader-key-for-tests";
    public const string OperatorKey = "operator-key-for-tests";
    public const string Issuer = "work-tests";

    private static readonly byte[] s_signingKey = RandomNumberGenerator.GetBytes(32);
    private WebApplication _app = null!;

    public Uri BaseAddress { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateBuilder();
        builder.Logging.ClearProviders().AddConsole().SetMinimumLevel(LogLevel.Warning);
        var ports = SiloProcess.FreePorts(2);
        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(ports[0], ports[1], serviceId: "http-" + Guid.NewGuid().ToString("N")[..8], clusterId: "http");
            silo.UseWorkMemoryStorage();
            silo.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = TimeSpan.FromSeconds(1));
            silo.Services.Configure<WorkClusterOptions>(o => o.ReminderPeriod = TimeSpan.FromSeconds(2));
            silo.AddWork(work => work.AddSampleHandlers().AddHandler(Probe.Handler, Probe.HandleAsync).UseMetrics().UseHealth());
        });
        builder.Services.AddWorkHttp(new WorkHttpOptions
        {
            Urls = "http://127.0.0.1:0",
            ApiKeys =
            [
                new WorkApiKey { Name = "dashboard", Sha256 = Sha256(ReaderKey), Role = WorkRole.Reader },
                new WorkApiKey { Name = "deployer", Sha256 = Sha256(OperatorKey), Role = WorkRole.Operator },
            ],
            Jwt = new WorkJwtOptions { SigningKey = Convert.ToBase64String(s_signingKey), Issuer = Issuer, Audience = "work" },

            // OpenTelemetry listens to every meter of the product's name in the process, and this process runs many
            // silos, each defining jobs of its own: without room for them all, this silo's series would overflow.
            MetricSeriesLimit = 100_000,
        });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _app = builder.Build();
        _app.UseAuthentication();
        _app.UseAuthorization();
        _app.MapWork();
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        BaseAddress = new Uri(address);
    }

    public async Task DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>A client with no credentials, an API key, or a bearer token.</summary>
    public HttpClient Client(string? apiKey = null, string? bearer = null)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = ClusterFixture.SafetyBound };
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        }

        if (bearer is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        return client;
    }

    /// <summary>A bearer token for <paramref name="role"/>, signed with the fixture's key unless another is given.</summary>
    public static string Token(string role, byte[]? key = null, string audience = "work") => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
    {
        Issuer = Issuer,
        Audience = audience,
        Subject = new ClaimsIdentity([new Claim("sub", "someone"), new Claim("role", role)]),
        Expires = DateTime.UtcNow.AddMinutes(10),
        SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(key ?? s_signingKey), SecurityAlgorithms.HmacSha256),
    });

    public static string Sha256(string key) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
}

[CollectionDefinition(Name)]
public sealed class HttpApiCollection : ICollectionFixture<HttpApiFixture>
{
    public const string Name = "http";
}

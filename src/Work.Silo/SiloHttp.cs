using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Work.Http;

namespace Work.Silo;

/// <summary>The silo's HTTP API, dashboard and health endpoints (<c>Work:Http</c>), read and checked at start.</summary>
internal static class SiloHttp
{
    /// <summary>The options under <c>Work:Http</c>; what is wrong with them goes to <paramref name="failures"/>.</summary>
    public static WorkHttpOptions Read(IConfiguration configuration, List<string> failures)
    {
        var options = WorkHttpOptions.Bind(configuration.GetSection(WorkHttpOptions.SectionName), failures);
        if (options.Enabled)
        {
            failures.AddRange(options.Validate());
        }

        return options;
    }

    /// <summary>The server of a silo that serves no HTTP: it starts and stops, and listens nowhere.</summary>
    internal sealed class NoServer : IServer
    {
        public IFeatureCollection Features { get; } = new FeatureCollection();

        public Task StartAsync<TContext>(IHttpApplication<TContext> application, CancellationToken cancellationToken)
            where TContext : notnull => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public void Dispose()
        {
        }
    }
}

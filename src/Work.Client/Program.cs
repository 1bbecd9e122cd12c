using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Work;
using Work.Client;
using Work.Client.Cli;

IHost? host = null;
var cli = new WorkCli(async (gateway, cancellationToken) =>
{
    var endpoint = IPEndPoint.TryParse(gateway, out var parsed)
        ? parsed
        : throw new FormatException($"--gateway must be host:port with an IP address, like 127.0.0.1:30000; it is '{gateway}'.");
    var builder = Host.CreateApplicationBuilder();
    builder.Logging.ClearProviders();
    builder.UseOrleansClient(client => client
        .UseStaticClustering(endpoint)
        .Configure<ClusterOptions>(o =>
        {
            o.ClusterId = WorkDefaults.ClusterId;
            o.ServiceId = WorkDefaults.ClusterId;
        }));
    host = builder.Build();
    await host.StartAsync(cancellationToken);
    return new WorkClient(host.Services.GetRequiredService<IClusterClient>());
});

try
{
    return await cli.RunAsync(args, Console.Out, Console.Error);
}
finally
{
    if (host is not null)
    {
        await host.StopAsync();
        host.Dispose();
    }
}

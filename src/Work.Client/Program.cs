using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Work.Client;
using Work.Client.Cli;

IHost? host = null;
var cli = new WorkCli(async (address, cancellationToken) =>
{
    var endpoint = IPEndPoint.TryParse(address.Gateway, out var parsed)
        ? parsed
        : throw new FormatException($"--gateway must be host:port with an IP address, like 127.0.0.1:30000; it is '{address.Gateway}'.");
    var builder = Host.CreateApplicationBuilder();
    builder.Logging.ClearProviders();
    builder.UseOrleansClient(client => client
        .UseStaticClustering(endpoint)
        .Configure<ClusterOptions>(o =>
        {
            o.ClusterId = address.ClusterId;
            o.ServiceId = address.ClusterId;
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

using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Work.Client;

namespace Work.Cli;

/// <summary>
/// Connects the command line to a cluster: resolves the gateway (an IP address or a host name, with its port), starts
/// an Orleans client for the cluster's id, and gives up after the address's timeout, saying why: nothing listening,
/// a gateway of another cluster, a name that does not resolve.
/// </summary>
internal sealed class ClusterConnector : IAsyncDisposable
{
    private static readonly TimeSpan s_retryDelay = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan s_stopTimeout = TimeSpan.FromSeconds(2);
    private IHost? _host;

    /// <summary>Why <paramref name="gateway"/> is not <c>host:port</c>, or null when it is.</summary>
    public static string? GatewayProblem(string? gateway)
    {
        if (string.IsNullOrWhiteSpace(gateway))
        {
            return "--gateway must be host:port, like 127.0.0.1:30000 or silo.example:30000; it is empty.";
        }

        return Split(gateway) is null
            ? $"--gateway must be host:port, like 127.0.0.1:30000 or silo.example:30000, with a port from 1 to 65535; it is '{gateway}'."
            : null;
    }

    /// <summary>Connects, or throws <see cref="ClusterUnreachableException"/> saying why it could not within the timeout.</summary>
    public async Task<WorkClient> ConnectAsync(ClusterAddress address, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(address);
        var (host, port) = Split(address.Gateway) ?? throw new ClusterUnreachableException(GatewayProblem(address.Gateway)!);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(address.Timeout);
        Exception? lastError = null;
        try
        {
            var endpoint = new IPEndPoint(await ResolveAsync(host, timeout.Token), port);
            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
            builder.Logging.ClearProviders();
            builder.UseOrleansClient(client => client
                .UseStaticClustering(endpoint)
                .Configure<ClusterOptions>(o =>
                {
                    o.ClusterId = address.ClusterId;
                    o.ServiceId = address.ClusterId;
                })
                .UseConnectionRetryFilter(async (error, token) =>
                {
                    // Kept to say why, and tried again until the timeout.
                    lastError = error;
                    await Task.Delay(s_retryDelay, token);
                    return true;
                }));
            if (address.Tls is { } tls)
            {
                builder.UseOrleansClient(client => client.UseWorkTls(tls));
            }

            _host = builder.Build();
            await _host.StartAsync(timeout.Token).WaitAsync(timeout.Token);
            return new WorkClient(_host.Services.GetRequiredService<IClusterClient>());
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            var why = lastError is null ? "no answer" : $"{lastError.GetType().Name}: {lastError.Message}";
            throw new ClusterUnreachableException(
                $"no gateway answered within {address.Timeout.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s ({why}). " +
                $"Is a silo running there, and is its cluster id '{address.ClusterId}'?");
        }
        catch (SocketException ex)
        {
            throw new ClusterUnreachableException($"the gateway's host '{host}' could not be resolved: {ex.Message}");
        }
    }

    /// <summary>Stops the client, waiting at most two seconds.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_host is null)
        {
            return;
        }

        using var stop = new CancellationTokenSource(s_stopTimeout);
        try
        {
            await _host.StopAsync(stop.Token).WaitAsync(stop.Token);
        }
        catch (OperationCanceledException)
        {
            // A client still trying to connect is dropped with the process.
        }

        _host.Dispose();
    }

    private static (string Host, int Port)? Split(string gateway)
    {
        var colon = gateway.LastIndexOf(':');
        if (colon <= 0 || colon == gateway.Length - 1)
        {
            return null;
        }

        var host = gateway[..colon];
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
        }
        else if (host.Contains(':', StringComparison.Ordinal))
        {
            // An IPv6 address needs brackets: [::1]:30000.
            return null;
        }

        if (host.Length == 0 || host.Any(char.IsWhiteSpace)
            || !int.TryParse(gateway.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            return null;
        }

        return (host, port);
    }

    private static async Task<IPAddress> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(host, out var address))
        {
            return address;
        }

        var addresses = await Dns.GetHostAddressesAsync(host, cancellationToken);
        return addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)
            ?? addresses.FirstOrDefault()
            ?? throw new ClusterUnreachableException($"the gateway's host '{host}' has no address.");
    }
}

/// <summary>The cluster could not be reached; the message says why.</summary>
internal sealed class ClusterUnreachableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ClusterUnreachableException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public ClusterUnreachableException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public ClusterUnreachableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

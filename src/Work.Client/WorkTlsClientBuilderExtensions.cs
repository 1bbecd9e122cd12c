using Orleans.Connections.Security;
using Work.Cluster;

namespace Work.Client;

/// <summary>Mutual TLS for a client's connections to gateways (see <see cref="WorkTlsOptions"/>).</summary>
public static class WorkTlsClientBuilderExtensions
{
    /// <summary>
    /// Connects to gateways over TLS: the client presents its certificate and accepts only gateways whose certificate
    /// chains to the authority in <see cref="WorkTlsOptions.CaPath"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The options are not valid; the message names each problem.</exception>
    public static IClientBuilder UseWorkTls(this IClientBuilder builder, WorkTlsOptions options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        var (certificate, trusted) = options.Load();
        return builder.UseTls(certificate, tls =>
        {
            tls.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
            tls.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
            tls.RemoteCertificateValidation = (peer, _, _) => trusted(peer);
        });
    }
}

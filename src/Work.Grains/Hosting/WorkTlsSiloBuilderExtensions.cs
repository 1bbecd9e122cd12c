using Orleans.Connections.Security;
using Work.Cluster;

namespace Work.Hosting;

/// <summary>Mutual TLS for a silo's connections: to other silos and from clients (see <see cref="WorkTlsOptions"/>).</summary>
public static class WorkTlsSiloBuilderExtensions
{
    /// <summary>
    /// Secures every connection of the silo with TLS: it presents its certificate, requires one from every peer (silo
    /// or client), and accepts only certificates that chain to the authority in <see cref="WorkTlsOptions.CaPath"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The options are not valid; the message names each problem.</exception>
    public static ISiloBuilder UseWorkTls(this ISiloBuilder builder, WorkTlsOptions options)
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

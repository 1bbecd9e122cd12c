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
        var failures = options.Enabled ? options.Validate() : [$"{WorkTlsOptions.SectionName}:{nameof(WorkTlsOptions.Enabled)} is false."];
        if (failures.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", failures), nameof(options));
        }

        var authority = options.LoadAuthority();
        return builder.UseTls(options.LoadCertificate(), tls =>
        {
            tls.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
            tls.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
            tls.RemoteCertificateValidation = (certificate, _, _) => WorkTlsOptions.Trusts(authority, certificate);
        });
    }
}

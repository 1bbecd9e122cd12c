using System.Security.Cryptography.X509Certificates;

namespace Work.Cluster;

/// <summary>
/// Mutual TLS between silos and between clients and gateways, bound from <c>Work:Tls</c>: each side presents a
/// certificate issued by the cluster's own certificate authority and accepts only peers whose certificate chains to
/// it. Host names are not checked: holding a certificate from that authority is what admits a silo or a client.
/// </summary>
public sealed class WorkTlsOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Work:Tls";

    /// <summary>Whether connections use TLS; false by default.</summary>
    public bool Enabled { get; set; }

    /// <summary>
    /// This side's certificate: a PKCS#12 file (<c>.pfx</c>) with its private key, or a PEM certificate whose key is in
    /// <see cref="KeyPath"/>. A silo's needs both the server and client authentication usages; a client's the client one.
    /// </summary>
    public string? CertificatePath { get; set; }

    /// <summary>The PEM private key of a PEM <see cref="CertificatePath"/>; null for a PKCS#12 file.</summary>
    public string? KeyPath { get; set; }

    /// <summary>The PKCS#12 file's password, if it has one.</summary>
    public string? CertificatePassword { get; set; }

    /// <summary>The certificate authority's certificate (PEM or DER) that every peer's certificate must chain to.</summary>
    public string? CaPath { get; set; }

    /// <summary>Every problem with the options, empty when they are valid or TLS is off.</summary>
    public IReadOnlyList<string> Validate()
    {
        var failures = new List<string>();
        if (!Enabled)
        {
            return failures;
        }

        if (string.IsNullOrWhiteSpace(CertificatePath))
        {
            failures.Add($"{SectionName}:{nameof(CertificatePath)} must name this side's certificate (a .pfx, or a PEM with {SectionName}:{nameof(KeyPath)}).");
        }
        else if (!File.Exists(CertificatePath))
        {
            failures.Add($"{SectionName}:{nameof(CertificatePath)} names a file that does not exist: '{CertificatePath}'.");
        }

        if (KeyPath is not null && !File.Exists(KeyPath))
        {
            failures.Add($"{SectionName}:{nameof(KeyPath)} names a file that does not exist: '{KeyPath}'.");
        }

        if (string.IsNullOrWhiteSpace(CaPath))
        {
            failures.Add($"{SectionName}:{nameof(CaPath)} must name the certificate authority that peers' certificates chain to.");
        }
        else if (!File.Exists(CaPath))
        {
            failures.Add($"{SectionName}:{nameof(CaPath)} names a file that does not exist: '{CaPath}'.");
        }

        if (failures.Count == 0)
        {
            try
            {
                using var certificate = LoadCertificate();
                if (!certificate.HasPrivateKey)
                {
                    failures.Add($"{SectionName}:{nameof(CertificatePath)} '{CertificatePath}' has no private key; give it in the file or in {SectionName}:{nameof(KeyPath)}.");
                }

                using var authority = LoadAuthority();
                if (!Trusts(authority, certificate))
                {
                    failures.Add($"{SectionName}:{nameof(CertificatePath)} '{CertificatePath}' does not chain to the authority in {SectionName}:{nameof(CaPath)} '{CaPath}' (or has expired).");
                }
            }
            catch (Exception ex) when (ex is System.Security.Cryptography.CryptographicException or IOException or ArgumentException)
            {
                failures.Add($"{SectionName}: the certificates could not be read: {ex.Message}");
            }
        }

        return failures;
    }

    /// <summary>
    /// This side's certificate and the check every peer's certificate must pass (it chains to the authority), for
    /// Orleans' TLS options; the options are validated first.
    /// </summary>
    /// <exception cref="ArgumentException">TLS is off or the options are not valid; the message names each problem.</exception>
    public (X509Certificate2 Certificate, Func<X509Certificate2, bool> Trusted) Load()
    {
        var failures = Enabled ? Validate() : [$"{SectionName}:{nameof(Enabled)} is false."];
        if (failures.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", failures));
        }

        var authority = LoadAuthority();
        return (LoadCertificate(), peer => Trusts(authority, peer));
    }

    /// <summary>This side's certificate with its private key.</summary>
    public X509Certificate2 LoadCertificate()
    {
        var path = CertificatePath ?? throw new InvalidOperationException($"{SectionName}:{nameof(CertificatePath)} is not set.");
        return KeyPath is { } key
            ? X509Certificate2.CreateFromPemFile(path, key)
            : X509CertificateLoader.LoadPkcs12FromFile(path, CertificatePassword);
    }

    /// <summary>The certificate authority's certificate.</summary>
    public X509Certificate2 LoadAuthority() =>
        X509CertificateLoader.LoadCertificateFromFile(CaPath ?? throw new InvalidOperationException($"{SectionName}:{nameof(CaPath)} is not set."));

    /// <summary>Whether <paramref name="peer"/> chains to <paramref name="authority"/> alone (no system roots, no revocation check).</summary>
    public static bool Trusts(X509Certificate2 authority, X509Certificate2 peer)
    {
        ArgumentNullException.ThrowIfNull(authority);
        ArgumentNullException.ThrowIfNull(peer);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(peer);
    }
}

using System.Net;
using Microsoft.Extensions.Configuration;

namespace Work.Http;

/// <summary>What a caller of the HTTP API may do.</summary>
public enum WorkRole
{
    /// <summary>Reads jobs, executions, history and metrics.</summary>
    Reader,

    /// <summary>Everything a reader may, and defines, deletes, starts, stops, performs and cancels.</summary>
    Operator,
}

/// <summary>An API key the HTTP API accepts: stored as the SHA-256 of the key, never the key itself.</summary>
public sealed class WorkApiKey
{
    /// <summary>Who holds the key: the caller's name in logs and traces.</summary>
    public string Name { get; set; } = "";

    /// <summary>The key's SHA-256 as 64 hexadecimal digits (<c>printf %s KEY | sha256sum</c>).</summary>
    public string Sha256 { get; set; } = "";

    /// <summary>What its holder may do.</summary>
    public WorkRole Role { get; set; } = WorkRole.Reader;
}

/// <summary>Bearer tokens (JWT) the HTTP API accepts, with the role in a claim.</summary>
public sealed class WorkJwtOptions
{
    /// <summary>The token issuer's address (OpenID Connect discovery), or null to check tokens with <see cref="SigningKey"/>.</summary>
    public string? Authority { get; set; }

    /// <summary>The audience tokens must name.</summary>
    public string? Audience { get; set; }

    /// <summary>The issuer tokens must name, with <see cref="SigningKey"/>.</summary>
    public string? Issuer { get; set; }

    /// <summary>A symmetric signing key (base64, at least 32 bytes) for tokens issued without an authority.</summary>
    public string? SigningKey { get; set; }

    /// <summary>The claim that holds the role (<c>reader</c> or <c>operator</c>); <c>role</c> by default.</summary>
    public string RoleClaim { get; set; } = "role";
}

/// <summary>The HTTP API, dashboard and health endpoints, bound from <c>Work:Http</c>.</summary>
public sealed class WorkHttpOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Work:Http";

    /// <summary>Whether the silo serves HTTP; true by default.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Where it listens, separated by semicolons; <c>http://127.0.0.1:8080</c> (loopback only) by default.</summary>
    public string Urls { get; set; } = "http://127.0.0.1:8080";

    /// <summary>
    /// Whether callers without a key or token may use the API as operators. Allowed only when every address in
    /// <see cref="Urls"/> is a loopback one.
    /// </summary>
    public bool AllowAnonymous { get; set; }

    /// <summary>Whether <c>/metrics</c> answers without a key or token (for a scraper that cannot send one); false by default.</summary>
    public bool AnonymousMetrics { get; set; }

    /// <summary>
    /// How many series (distinct tag sets: handler, queue, job name, status) each of the product's instruments keeps
    /// for <c>/metrics</c> and OTLP; 2,000 by default (OpenTelemetry's own limit). Measurements past it are counted in one
    /// series tagged <c>otel_metric_overflow="true"</c>. Raise it when more jobs than that should show one by one: each
    /// series costs memory for the life of the process.
    /// </summary>
    public int MetricSeriesLimit { get; set; } = DefaultMetricSeriesLimit;

    /// <summary>The default <see cref="MetricSeriesLimit"/>.</summary>
    public const int DefaultMetricSeriesLimit = 2_000;

    /// <summary>The largest <see cref="MetricSeriesLimit"/> accepted.</summary>
    public const int MaxMetricSeriesLimit = 1_000_000;

    /// <summary>The API keys accepted, in header <c>X-Api-Key</c> or as <c>Authorization: ApiKey KEY</c>.</summary>
    public List<WorkApiKey> ApiKeys { get; set; } = [];

    /// <summary>Bearer tokens accepted, or null for none.</summary>
    public WorkJwtOptions? Jwt { get; set; }

    /// <summary>
    /// The options bound from <paramref name="section"/> (<c>Work:Http</c>). A role that is neither <c>reader</c> nor
    /// <c>operator</c> goes to <paramref name="failures"/> naming the setting, as does a value that does not bind;
    /// check the rest with <see cref="Validate"/>.
    /// </summary>
    public static WorkHttpOptions Bind(IConfiguration section, List<string> failures)
    {
        ArgumentNullException.ThrowIfNull(section);
        ArgumentNullException.ThrowIfNull(failures);
        var options = new WorkHttpOptions();
        try
        {
            section.Bind(options);
        }
        catch (InvalidOperationException ex)
        {
            failures.Add($"{SectionName}: {ex.Message}");
        }

        foreach (var key in section.GetSection(nameof(ApiKeys)).GetChildren())
        {
            if (key[nameof(WorkApiKey.Role)] is { } role && !(Enum.TryParse<WorkRole>(role, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed) && !char.IsAsciiDigit(role.TrimStart('-').FirstOrDefault())))
            {
                failures.Add($"{SectionName}:{nameof(ApiKeys)}:{key.Key}:{nameof(WorkApiKey.Role)} must be 'reader' or 'operator'; it is '{role}'.");
            }
        }

        return options;
    }

    /// <summary>Every problem with the options, empty when they are valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var failures = new List<string>();
        var urls = Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (urls.Length == 0)
        {
            failures.Add($"{SectionName}:{nameof(Urls)} must name at least one address, like http://127.0.0.1:8080.");
        }

        foreach (var url in urls)
        {
            if (!Uri.TryCreate(url.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal), UriKind.Absolute, out var uri)
                || uri.Scheme is not ("http" or "https"))
            {
                failures.Add($"{SectionName}:{nameof(Urls)} must be http:// or https:// addresses separated by semicolons; '{url}' is not one.");
            }
            else if (AllowAnonymous && !IsLoopback(uri))
            {
                failures.Add($"{SectionName}:{nameof(AllowAnonymous)} is allowed only on loopback addresses; '{url}' is not one. " +
                    $"Give callers API keys ({SectionName}:{nameof(ApiKeys)}) or tokens ({SectionName}:{nameof(Jwt)}) instead.");
            }
        }

        if (MetricSeriesLimit is < 1 or > MaxMetricSeriesLimit)
        {
            failures.Add($"{SectionName}:{nameof(MetricSeriesLimit)} must be from 1 to {MaxMetricSeriesLimit:N0}; it is {MetricSeriesLimit}.");
        }

        for (var i = 0; i < ApiKeys.Count; i++)
        {
            var key = ApiKeys[i];
            var at = $"{SectionName}:{nameof(ApiKeys)}:{i}";
            if (string.IsNullOrWhiteSpace(key.Name))
            {
                failures.Add($"{at}:{nameof(WorkApiKey.Name)} must name the key's holder.");
            }

            if (key.Sha256 is not { Length: 64 } hash || !hash.All(char.IsAsciiHexDigit))
            {
                failures.Add($"{at}:{nameof(WorkApiKey.Sha256)} must be the key's SHA-256 as 64 hexadecimal digits (printf %s KEY | sha256sum).");
            }

            if (!Enum.IsDefined(key.Role))
            {
                failures.Add($"{at}:{nameof(WorkApiKey.Role)} must be 'reader' or 'operator'.");
            }
        }

        if (Jwt is { } jwt)
        {
            if (jwt.Authority is null && jwt.SigningKey is null)
            {
                failures.Add($"{SectionName}:{nameof(Jwt)} needs an {nameof(WorkJwtOptions.Authority)} or a {nameof(WorkJwtOptions.SigningKey)} to check tokens with.");
            }

            if (jwt.SigningKey is { } signingKey && !IsLongBase64(signingKey))
            {
                failures.Add($"{SectionName}:{nameof(Jwt)}:{nameof(WorkJwtOptions.SigningKey)} must be base64 of at least 32 bytes.");
            }

            if (jwt.Authority is { } authority && !Uri.TryCreate(authority, UriKind.Absolute, out _))
            {
                failures.Add($"{SectionName}:{nameof(Jwt)}:{nameof(WorkJwtOptions.Authority)} must be an absolute address; it is '{authority}'.");
            }

            if (string.IsNullOrWhiteSpace(jwt.RoleClaim))
            {
                failures.Add($"{SectionName}:{nameof(Jwt)}:{nameof(WorkJwtOptions.RoleClaim)} must name a claim.");
            }
        }

        return failures;
    }

    private static bool IsLoopback(Uri uri) =>
        uri.IsLoopback || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));

    private static bool IsLongBase64(string value)
    {
        var buffer = new byte[value.Length];
        return Convert.TryFromBase64String(value, buffer, out var written) && written >= 32;
    }
}

using System.Text;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Work.Client;
using Work.Diagnostics;

namespace Work.Http;

/// <summary>
/// Adds the HTTP API, health endpoints and metrics to an ASP.NET Core host that runs a Work silo or is connected to a
/// Work cluster as a client: <see cref="AddWorkHttp(IServiceCollection, IConfiguration)"/> at start-up and
/// <see cref="MapWork"/> on the built application.
/// </summary>
public static class WorkHttpExtensions
{
    /// <summary>The scheme that tells an API key from a bearer token.</summary>
    internal const string Scheme = "Work";

    /// <summary>
    /// Registers authentication (API keys and bearer tokens from <paramref name="configuration"/>, the
    /// <c>Work:Http</c> section; <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is read from the environment), the read and operate policies, OpenAPI, problem details, health checks and
    /// OpenTelemetry metrics with a Prometheus exporter (and OTLP export when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set).
    /// </summary>
    /// <exception cref="ArgumentException">The options are not valid; the message names every problem.</exception>
    public static IServiceCollection AddWorkHttp(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var failures = new List<string>();
        var options = WorkHttpOptions.Bind(configuration, failures);
        failures.AddRange(options.Validate());
        if (failures.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", failures), nameof(configuration));
        }

        return services.AddWorkHttp(options, Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT"));
    }

    /// <summary>Registers the HTTP API's services with options given in code.</summary>
    /// <exception cref="ArgumentException">The options are not valid; the message names every problem.</exception>
    public static IServiceCollection AddWorkHttp(this IServiceCollection services, WorkHttpOptions options, string? otlpEndpoint = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        var failures = options.Validate();
        if (failures.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", failures), nameof(options));
        }

        services.AddSingleton(Options.Create(options));
        services.TryAddSingleton(sp => new WorkClient(sp.GetRequiredService<IGrainFactory>(), sp.GetService<TimeProvider>()));
        services.AddProblemDetails();
        services.AddOpenApi();
        services.AddHealthChecks();

        // A request carrying an API key is checked against the keys, one carrying a bearer token against the token
        // settings, and one carrying neither by the dashboard's session cookie.
        var authentication = services.AddAuthentication(Scheme).AddPolicyScheme(Scheme, "API key, bearer token or dashboard session", scheme =>
            scheme.ForwardDefaultSelector = context =>
                ApiKeyAuthentication.Carries(context.Request) ? ApiKeyAuthentication.SchemeName
                : options.Jwt is not null && context.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? JwtBearerDefaults.AuthenticationScheme
                : DashboardSession.SchemeName);
        authentication.AddScheme<AuthenticationSchemeOptions, ApiKeyAuthentication>(ApiKeyAuthentication.SchemeName, null);
        authentication.AddCookie(DashboardSession.SchemeName, DashboardSession.Configure);
        if (options.Jwt is { } jwt)
        {
            authentication.AddJwtBearer(bearer =>
            {
                // Claims keep the names the token gives them: the role claim is found by its own name.
                bearer.MapInboundClaims = false;
                bearer.Authority = jwt.Authority;
                bearer.Audience = jwt.Audience;
                bearer.TokenValidationParameters.ValidateAudience = jwt.Audience is not null;
                bearer.TokenValidationParameters.RoleClaimType = jwt.RoleClaim;
                bearer.TokenValidationParameters.NameClaimType = "sub";
                if (jwt.SigningKey is { } key)
                {
                    bearer.TokenValidationParameters.IssuerSigningKey = new SymmetricSecurityKey(Convert.FromBase64String(key));
                    bearer.TokenValidationParameters.ValidIssuer = jwt.Issuer;
                    bearer.TokenValidationParameters.ValidateIssuer = jwt.Issuer is not null;
                }
            });
        }

        services.AddAuthorization(authorization => WorkAuthorization.AddPolicies(authorization, options));

        var telemetry = services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(WorkDiagnostics.MeterName, "Microsoft.Orleans", "System.Runtime", "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel")
            .AddView(instrument => instrument.Meter.Name == WorkDiagnostics.MeterName
                ? new MetricStreamConfiguration { CardinalityLimit = options.MetricSeriesLimit }
                : null)
            .AddPrometheusExporter());
        if (!string.IsNullOrWhiteSpace(otlpEndpoint))
        {
            telemetry.WithTracing(tracing => tracing
                .AddSource(WorkDiagnostics.SourceName, "Microsoft.Orleans.Application", "Microsoft.Orleans.Runtime")
                .AddAspNetCoreInstrumentation());
            telemetry.UseOtlpExporter();
        }

        return services;
    }

    /// <summary>
    /// Maps the API under <paramref name="prefix"/> (<c>/api</c>), the dashboard at <c>/dashboard/</c> (its page is
    /// public; what it shows needs a session, opened with a key or token), its OpenAPI document at <c>/openapi/v1.json</c>,
    /// <c>/health/live</c> and <c>/health/ready</c> (anonymous, for probes), and <c>/metrics</c> for Prometheus (reader
    /// role unless <see cref="WorkHttpOptions.AnonymousMetrics"/>). Call after <c>UseAuthentication</c> and
    /// <c>UseAuthorization</c>.
    /// </summary>
    public static IEndpointRouteBuilder MapWork(this IEndpointRouteBuilder endpoints, string prefix = "/api")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var options = endpoints.ServiceProvider.GetRequiredService<IOptions<WorkHttpOptions>>().Value;
        WorkApi.Map(endpoints, prefix);
        DashboardSession.Map(endpoints, prefix);
        DashboardAssets.Map(endpoints, "/dashboard", prefix);
        endpoints.MapOpenApi().RequireAuthorization(WorkAuthorization.Read);

        // Live: the process answers. Ready: every readiness check (membership, storage, the health adapter's error rate).
        endpoints.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false }).AllowAnonymous();
        endpoints.MapHealthChecks("/health/ready", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains("ready") || check.Tags.Contains("work"),
            ResponseWriter = WriteHealthAsync,
        }).AllowAnonymous();

        var metrics = endpoints.MapPrometheusScrapingEndpoint("/metrics");
        if (options.AnonymousMetrics)
        {
            metrics.AllowAnonymous();
        }
        else
        {
            metrics.RequireAuthorization(WorkAuthorization.Read);
        }

        return endpoints;
    }

    // Each check's status and description, so a probe's log says what is not ready.
    private static Task WriteHealthAsync(HttpContext context, Microsoft.Extensions.Diagnostics.HealthChecks.HealthReport report)
    {
        var text = new StringBuilder(report.Status.ToString()).Append('\n');
        foreach (var (name, entry) in report.Entries)
        {
            text.Append(name).Append(": ").Append(entry.Status).Append(" - ").Append(entry.Description ?? entry.Exception?.Message ?? "").Append('\n');
        }

        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(text.ToString());
    }
}

using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Work.Adapters;

/// <summary>Reports the health adapter's state as an ASP.NET Core health check.</summary>
public sealed class JobHealthCheck : IHealthCheck
{
    private readonly JobHealthMonitor _monitor;

    /// <summary>Creates the check over <paramref name="monitor"/>.</summary>
    public JobHealthCheck(JobHealthMonitor monitor) => _monitor = monitor ?? throw new ArgumentNullException(nameof(monitor));

    /// <inheritdoc />
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var snapshot = _monitor.GetSnapshot();
        var data = new Dictionary<string, object>
        {
            ["total"] = snapshot.Total,
            ["errors"] = snapshot.Errors,
            ["errorRate"] = snapshot.ErrorRate,
            ["threshold"] = _monitor.Options.Threshold,
        };
        var description = string.Create(
            CultureInfo.InvariantCulture,
            $"{snapshot.Errors} of {snapshot.Total} executions failed ({snapshot.ErrorRate:P1}; threshold {_monitor.Options.Threshold:P1}, minimum {_monitor.Options.MinimumCount}).");
        return Task.FromResult(snapshot.IsHealthy
            ? HealthCheckResult.Healthy(description, data)
            : new HealthCheckResult(context?.Registration.FailureStatus ?? HealthStatus.Unhealthy, description, data: data));
    }
}

using Work.Pipeline;

namespace Work.Adapters;

/// <summary>Feeds every execution's final status into a <see cref="JobHealthMonitor"/>.</summary>
public sealed class HealthAdapter : IJobAdapter
{
    private readonly JobHealthMonitor _monitor;

    /// <summary>Creates the adapter over <paramref name="monitor"/>.</summary>
    public HealthAdapter(JobHealthMonitor monitor) => _monitor = monitor ?? throw new ArgumentNullException(nameof(monitor));

    /// <inheritdoc />
    public async Task InvokeAsync(JobContext context, JobHandler next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        try
        {
            await next(context);
        }
        finally
        {
            _monitor.Record(context.Status);
        }
    }
}

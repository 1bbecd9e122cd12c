namespace Work.Adapters;

/// <summary>How the health adapter measures its error rate (go-work's two modes).</summary>
public enum HealthMode
{
    /// <summary>Executions that finished within the last <see cref="HealthAdapterOptions.Window"/>.</summary>
    TimeWindow,

    /// <summary>The last <see cref="HealthAdapterOptions.LastN"/> executions.</summary>
    LastN,
}

/// <summary>Options of the health adapter and its health check.</summary>
public sealed class HealthAdapterOptions
{
    /// <summary>The mode; <see cref="HealthMode.TimeWindow"/> by default.</summary>
    public HealthMode Mode { get; set; } = HealthMode.TimeWindow;

    /// <summary>The window of <see cref="HealthMode.TimeWindow"/>; one minute by default.</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How many executions <see cref="HealthMode.LastN"/> looks at; 100 by default.</summary>
    public int LastN { get; set; } = 100;

    /// <summary>Below this many executions the state is healthy whatever the rate; 10 by default.</summary>
    public int MinimumCount { get; set; } = 10;

    /// <summary>Unhealthy when the error rate is above this fraction (0 to 1); 0.25 by default.</summary>
    public double Threshold { get; set; } = 0.25;

    /// <summary>The name the health check is registered under.</summary>
    public string HealthCheckName { get; set; } = "work";

    /// <summary>Every problem with the options, empty when they are valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var failures = new List<string>();
        if (Mode == HealthMode.TimeWindow && Window <= TimeSpan.Zero)
        {
            failures.Add($"Health {nameof(Window)} must be positive; it is {Window}.");
        }

        if (Mode == HealthMode.LastN && LastN < 1)
        {
            failures.Add($"Health {nameof(LastN)} must be at least 1; it is {LastN}.");
        }

        if (MinimumCount < 0)
        {
            failures.Add($"Health {nameof(MinimumCount)} must not be negative; it is {MinimumCount}.");
        }

        if (Mode == HealthMode.LastN && MinimumCount > LastN)
        {
            failures.Add($"Health {nameof(MinimumCount)} ({MinimumCount}) cannot be above {nameof(LastN)} ({LastN}): the state could never turn unhealthy.");
        }

        if (double.IsNaN(Threshold) || Threshold < 0 || Threshold > 1)
        {
            failures.Add($"Health {nameof(Threshold)} must be between 0 and 1; it is {Threshold}.");
        }

        if (string.IsNullOrWhiteSpace(HealthCheckName))
        {
            failures.Add($"Health {nameof(HealthCheckName)} must not be empty.");
        }

        return failures;
    }
}

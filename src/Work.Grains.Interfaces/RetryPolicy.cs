namespace Work;

/// <summary>
/// When and how often a failed execution is tried again: up to <see cref="MaxAttempts"/> attempts in all, waiting
/// <c>InitialDelay × Multiplier^(attempt-1)</c> (at most <see cref="MaxDelay"/>) with ± <see cref="Jitter"/> between
/// them, for the statuses in <see cref="RetryOn"/>. Every attempt, the final failure included, stays in the history.
/// </summary>
[GenerateSerializer, Immutable, Alias("work.retry")]
public sealed record RetryPolicy
{
    /// <summary>No retries: one attempt.</summary>
    public static RetryPolicy None { get; } = new() { MaxAttempts = 1 };

    /// <summary>Attempts in all, the first included; 1 means no retry (the default).</summary>
    [Id(0)]
    public int MaxAttempts { get; init; } = 1;

    /// <summary>The wait before the first retry; 1 second by default.</summary>
    [Id(1)]
    public TimeSpan InitialDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How much each wait grows; 2 by default.</summary>
    [Id(2)]
    public double Multiplier { get; init; } = 2;

    /// <summary>The longest wait; 5 minutes by default.</summary>
    [Id(3)]
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The fraction (0 to 1) by which a wait may randomly be shorter or longer; 0.2 by default.</summary>
    [Id(4)]
    public double Jitter { get; init; } = 0.2;

    /// <summary>The statuses that are retried; 408, 500 and 503 by default. 400 is never retried.</summary>
    [Id(5)]
    public IReadOnlyList<JobStatus> RetryOn { get; init; } = [JobStatus.Timeout, JobStatus.InternalError, JobStatus.Unavailable];

    /// <summary>True when an attempt that ended with <paramref name="status"/> should be tried again.</summary>
    public bool ShouldRetry(JobStatus status, int attempt) =>
        attempt < MaxAttempts && status != JobStatus.BadRequest && RetryOn.Contains(status);

    /// <summary>The wait before attempt <paramref name="nextAttempt"/> (2 or more), with <paramref name="random"/> in [0, 1) for the jitter.</summary>
    public TimeSpan DelayBefore(int nextAttempt, double random)
    {
        var exponent = Math.Max(0, nextAttempt - 2);
        var ticks = Math.Min(InitialDelay.Ticks * Math.Pow(Multiplier, exponent), MaxDelay.Ticks);
        var jittered = ticks * (1 + (Jitter * ((2 * random) - 1)));
        return TimeSpan.FromTicks((long)Math.Clamp(jittered, 0, MaxDelay.Ticks));
    }

    /// <summary>Every problem with the policy, empty when it is valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var failures = new List<string>();
        if (MaxAttempts < 1 || MaxAttempts > JobLimits.MaxAttempts)
        {
            failures.Add($"Retry.MaxAttempts must be between 1 and {JobLimits.MaxAttempts}; it is {MaxAttempts}.");
        }

        if (InitialDelay < TimeSpan.Zero)
        {
            failures.Add($"Retry.InitialDelay must not be negative; it is {InitialDelay}.");
        }

        if (MaxDelay < InitialDelay)
        {
            failures.Add($"Retry.MaxDelay ({MaxDelay}) must not be below Retry.InitialDelay ({InitialDelay}).");
        }

        if (MaxDelay > JobLimits.Horizon)
        {
            failures.Add($"Retry.MaxDelay must be at most {JobLimits.Horizon.TotalDays:0} days; it is {MaxDelay}.");
        }

        if (!double.IsFinite(Multiplier) || Multiplier < 1)
        {
            failures.Add($"Retry.Multiplier must be at least 1; it is {Multiplier}.");
        }

        if (!double.IsFinite(Jitter) || Jitter < 0 || Jitter > 1)
        {
            failures.Add($"Retry.Jitter must be between 0 and 1; it is {Jitter}.");
        }

        if (RetryOn is null)
        {
            failures.Add("Retry.RetryOn must not be null.");
        }

        return failures;
    }
}

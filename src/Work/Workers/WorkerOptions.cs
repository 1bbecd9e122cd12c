namespace Work.Workers;

/// <summary>Options of <see cref="CommonWorker"/>, bound from the <c>Work:Worker</c> configuration section.</summary>
public sealed class WorkerOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Work:Worker";

    /// <summary>How many accepted (asynchronous) executions run at once; 64 by default.</summary>
    public int MaxConcurrency { get; set; } = 64;

    /// <summary>How long <c>StopAsync</c> waits for in-flight executions; 30 seconds by default.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Every problem with the options, empty when they are valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var failures = new List<string>();
        if (MaxConcurrency < 1)
        {
            failures.Add($"{SectionName}:{nameof(MaxConcurrency)} must be at least 1; it is {MaxConcurrency}.");
        }

        if (ShutdownTimeout < TimeSpan.Zero)
        {
            failures.Add($"{SectionName}:{nameof(ShutdownTimeout)} must not be negative; it is {ShutdownTimeout}.");
        }

        return failures;
    }
}

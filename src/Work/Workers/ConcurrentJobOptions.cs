namespace Work.Workers;

/// <summary>How a <see cref="ConcurrentJob"/> runs.</summary>
public sealed class ConcurrentJobOptions
{
    /// <summary>Once, Every or Receive.</summary>
    public PerformWith PerformWith { get; set; } = PerformWith.Once;

    /// <summary>
    /// When true each worker waits for its run before the next (recurring ticks that pass meanwhile are skipped).
    /// When false a worker does not wait, and executions of the job may overlap up to <see cref="MaxWorkers"/>.
    /// </summary>
    public bool Sync { get; set; } = true;

    /// <summary>The interval of <see cref="PerformWith.Every"/>.</summary>
    public TimeSpan Interval { get; set; }

    /// <summary>Whether a recurring worker runs as soon as it starts (the default) or one interval later.</summary>
    public bool RunImmediately { get; set; } = true;

    /// <summary>The most executions of the job at once, and the number of workers; at least 1.</summary>
    public int MaxWorkers { get; set; } = 1;

    /// <summary>Worker k starts k × StartInterval after <c>Start</c>: the ramp. Zero starts all at once.</summary>
    public TimeSpan StartInterval { get; set; }

    /// <summary>The items of <see cref="PerformWith.Receive"/>.</summary>
    public JobSource? Source { get; set; }

    /// <summary>Every problem with the options, empty when they are valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var failures = new List<string>();
        if (!Enum.IsDefined(PerformWith))
        {
            failures.Add($"{nameof(PerformWith)} must be Once, Every or Receive; it is {(int)PerformWith}.");
        }

        if (MaxWorkers < 1)
        {
            failures.Add($"{nameof(MaxWorkers)} must be at least 1; it is {MaxWorkers}.");
        }

        if (StartInterval < TimeSpan.Zero)
        {
            failures.Add($"{nameof(StartInterval)} must not be negative; it is {StartInterval}.");
        }

        if (PerformWith == PerformWith.Every && Interval <= TimeSpan.Zero)
        {
            failures.Add($"{nameof(Interval)} must be positive to perform every interval; it is {Interval}.");
        }

        if (PerformWith == PerformWith.Receive && Source is null)
        {
            failures.Add($"{nameof(Source)} is required to perform for every received item.");
        }

        return failures;
    }
}

namespace Work.Workers;

/// <summary>Options of a recurring job.</summary>
public sealed class EveryOptions
{
    /// <summary>
    /// When true, runs never overlap: the loop waits for each run, and ticks that come while it runs are skipped and
    /// counted. When false (go-work's default), each tick starts a run whether or not the previous one finished.
    /// </summary>
    public bool Sync { get; init; }

    /// <summary>Run once right away (the default) or only at the end of the first interval.</summary>
    public bool RunImmediately { get; init; } = true;

    /// <summary>The name of the job the runs belong to (a metric and log tag).</summary>
    public string? JobName { get; init; }
}

namespace Work.Workers;

/// <summary>Options of a receive loop.</summary>
public sealed class ReceiveOptions
{
    /// <summary>
    /// When true, the loop performs one item at a time and reads the next when it finished. When false (the
    /// default), it starts executions without waiting, at most the worker's MaxConcurrency at once.
    /// </summary>
    public bool Sync { get; init; }

    /// <summary>The name of the job the executions belong to (a metric and log tag).</summary>
    public string? JobName { get; init; }
}

namespace Work.Workers;

/// <summary>Details of one perform call that callers such as a concurrent job or a grain may set.</summary>
public sealed class PerformOptions
{
    /// <summary>The name of the concurrent job or grain the execution belongs to (a metric and log tag).</summary>
    public string? JobName { get; init; }

    /// <summary>The execution id to use; a new one when null.</summary>
    public string? ExecutionId { get; init; }

    /// <summary>The attempt number, 1 for the first.</summary>
    public int Attempt { get; init; } = 1;

    /// <summary>When the execution was due; now when null.</summary>
    public DateTimeOffset? ScheduledAt { get; init; }

    /// <summary>An item for <c>JobContext.Item</c>.</summary>
    public object? Item { get; init; }
}

namespace Work;

/// <summary>Where an execution stands in its job.</summary>
public enum ExecutionPhase
{
    /// <summary>Accepted and waiting: for its due time, a retry, or a free worker.</summary>
    Pending,

    /// <summary>Handed to an executor: running, or waiting there for a slot or its due time.</summary>
    Running,

    /// <summary>Done: its final attempt is in the history.</summary>
    Finished,
}

/// <summary>One execution of a job as it stands: pending, running or finished.</summary>
[GenerateSerializer, Immutable, Alias("work.execution-state")]
public sealed record ExecutionState
{
    /// <summary>The execution's id.</summary>
    [Id(0)]
    public required string ExecutionId { get; init; }

    /// <summary>Where it stands.</summary>
    [Id(1)]
    public ExecutionPhase Phase { get; init; }

    /// <summary>Its current attempt (its last one when finished).</summary>
    [Id(2)]
    public int Attempt { get; init; }

    /// <summary>When its current attempt is (or was) due.</summary>
    [Id(3)]
    public DateTimeOffset DueAt { get; init; }

    /// <summary>The silo running it, while it runs.</summary>
    [Id(4)]
    public string? Executor { get; init; }

    /// <summary>True for a recurring tick.</summary>
    [Id(5)]
    public bool Recurring { get; init; }

    /// <summary>Its final record when finished; otherwise its last finished attempt (a failure before a retry), if any.</summary>
    [Id(6)]
    public JobExecution? Last { get; init; }
}

namespace Work;

/// <summary>The record of one finished execution of a job.</summary>
[GenerateSerializer, Immutable, Alias("work.execution")]
public sealed record JobExecution
{
    /// <summary>The execution's id, unique for every execution and shared by none.</summary>
    [Id(0)]
    public required string ExecutionId { get; init; }

    /// <summary>The handler that ran.</summary>
    [Id(1)]
    public required string Handler { get; init; }

    /// <summary>1 for the first attempt, 2 for the first retry, and so on.</summary>
    [Id(2)]
    public int Attempt { get; init; } = 1;

    /// <summary>The final status.</summary>
    [Id(3)]
    public JobStatus Status { get; init; }

    /// <summary>The error message when the execution failed.</summary>
    [Id(4)]
    public string? Error { get; init; }

    /// <summary>The full name of the exception type when the execution failed with one.</summary>
    [Id(5)]
    public string? ErrorType { get; init; }

    /// <summary>When the execution was due.</summary>
    [Id(6)]
    public DateTimeOffset ScheduledAt { get; init; }

    /// <summary>When the handler started.</summary>
    [Id(7)]
    public DateTimeOffset StartedAt { get; init; }

    /// <summary>When the execution ended (at the deadline for a timeout, even if the handler went on).</summary>
    [Id(8)]
    public DateTimeOffset FinishedAt { get; init; }

    /// <summary>The worker (in a cluster: the silo) that ran it.</summary>
    [Id(9)]
    public string Worker { get; init; } = "";

    /// <summary>The queue of the job.</summary>
    [Id(10)]
    public string Queue { get; init; } = Job.DefaultQueue;

    /// <summary>The id of the source item it handled (a job bound to a source), or null.</summary>
    [Id(11)]
    public long? ItemId { get; init; }

    /// <summary>How long the handler ran.</summary>
    public TimeSpan Duration => FinishedAt - StartedAt;

    /// <summary>How late the start was against the due time (never negative).</summary>
    public TimeSpan Lateness => StartedAt > ScheduledAt ? StartedAt - ScheduledAt : TimeSpan.Zero;
}

namespace Work.Pipeline;

/// <summary>What the executor needs to run one execution of a job.</summary>
internal readonly record struct ExecutionRequest(
    Job Job,
    string ExecutionId,
    int Attempt,
    DateTimeOffset ScheduledAt,
    string? JobName,
    object? Item);

namespace Work;

/// <summary>What a job grain reports about itself.</summary>
[GenerateSerializer, Immutable, Alias("work.job-info")]
public sealed record JobInfo
{
    /// <summary>The job's name.</summary>
    [Id(0)]
    public required string Name { get; init; }

    /// <summary>The definition, or null when the job is not defined.</summary>
    [Id(1)]
    public JobDefinition? Definition { get; init; }

    /// <summary>True between Start and Stop.</summary>
    [Id(2)]
    public bool Started { get; init; }

    /// <summary>Executions running now, across the cluster.</summary>
    [Id(3)]
    public int RunningWorkers { get; init; }

    /// <summary>How many executions the ramp allows at once now (at most MaxWorkers).</summary>
    [Id(4)]
    public int AllowedWorkers { get; init; }

    /// <summary>Executions accepted and waiting: for their due time, a retry, or a free worker.</summary>
    [Id(5)]
    public int Pending { get; init; }

    /// <summary>The next due times, earliest first (at most 10).</summary>
    [Id(6)]
    public IReadOnlyList<DateTimeOffset> NextDueTimes { get; init; } = [];

    /// <summary>Executions finished since the job was defined (every attempt counts).</summary>
    [Id(7)]
    public long Finished { get; init; }

    /// <summary>Recurring ticks skipped (sync overlap, no free worker, or the Skip misfire policy).</summary>
    [Id(8)]
    public long SkippedTicks { get; init; }

    /// <summary>Attempts whose executor went away without reporting (their lease ran out).</summary>
    [Id(9)]
    public long Lost { get; init; }

    /// <summary>The silo the job grain is active on.</summary>
    [Id(10)]
    public string? Silo { get; init; }

    /// <summary>
    /// Why the job cannot run as stored (a definition that breaks today's limits, or a state that could not be read),
    /// or null. Such a job runs nothing new until it is defined again, stopped or deleted.
    /// </summary>
    [Id(11)]
    public string? Problem { get; init; }

    /// <summary>Attempts of <see cref="Finished"/> that ended with status 200; the rest failed, were lost or cancelled.</summary>
    [Id(12)]
    public long Succeeded { get; init; }

    /// <summary>Why the job's executions wait although they are due (no live silo serves its queue), or null.</summary>
    [Id(13)]
    public string? Waiting { get; init; }

    /// <summary>Items of its source the job holds (claimed, running or being acknowledged); 0 for a job bound to none.</summary>
    [Id(14)]
    public int HeldItems { get; init; }
}

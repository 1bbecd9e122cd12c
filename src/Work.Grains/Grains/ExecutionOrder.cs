namespace Work.Grains;

/// <summary>What a job grain sends an executor: one attempt of one execution, under a lease.</summary>
[GenerateSerializer, Immutable, Alias("work.order")]
internal sealed record ExecutionOrder
{
    /// <summary>The job grain's name, where the result is reported.</summary>
    [Id(0)]
    public required string JobName { get; init; }

    /// <summary>The job, with this execution's args and the trace context it was scheduled under.</summary>
    [Id(1)]
    public required Job Job { get; init; }

    /// <summary>The execution id.</summary>
    [Id(2)]
    public required string ExecutionId { get; init; }

    /// <summary>The attempt, 1 for the first.</summary>
    [Id(3)]
    public int Attempt { get; init; } = 1;

    /// <summary>When it was due.</summary>
    [Id(4)]
    public DateTimeOffset ScheduledAt { get; init; }

    /// <summary>The lease's secret: the report and every renewal of this attempt carry it.</summary>
    [Id(5)]
    public long Lease { get; init; }

    /// <summary>
    /// Sent ahead: it waits on the executor and starts in the slot of the job's next run that ends there. An executor
    /// where none of the job's runs is running gives it back at once (<see cref="IJobReportGrain.ReturnAsync"/>).
    /// </summary>
    [Id(6)]
    public bool Queued { get; init; }

    /// <summary>The source item it handles (<c>JobContext.Item</c>), or null.</summary>
    [Id(7)]
    public WorkItem? Item { get; init; }

    /// <summary>The order for an attempt of the job <paramref name="jobName"/> (<paramref name="job"/>) handed over as <paramref name="inFlight"/>.</summary>
    public static ExecutionOrder For(string jobName, Job job, Scheduling.InFlightRun inFlight) => new()
    {
        JobName = jobName,
        Job = inFlight.Run.Args is null && inFlight.Run.TraceParent == job.TraceParent && inFlight.Run.TraceState == job.TraceState
            ? job
            : job with { Args = inFlight.Run.Args ?? job.Args, TraceParent = inFlight.Run.TraceParent, TraceState = inFlight.Run.TraceState },
        ExecutionId = inFlight.Run.ExecutionId,
        Attempt = inFlight.Run.Attempt,
        ScheduledAt = inFlight.Run.DueAt,
        Lease = inFlight.Lease,
        Queued = inFlight.Queued,
        Item = inFlight.Run.Item,
    };
}

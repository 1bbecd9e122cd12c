namespace Work.Scheduling;

/// <summary>The durable state of one job grain.</summary>
[GenerateSerializer, Alias("work.job-state")]
internal sealed class JobState
{
    /// <summary>The definition, null until defined.</summary>
    [Id(0)]
    public JobDefinition? Definition { get; set; }

    /// <summary>True between Start and Stop.</summary>
    [Id(1)]
    public bool Started { get; set; }

    /// <summary>When the job was last started (the ramp counts from here).</summary>
    [Id(2)]
    public DateTimeOffset StartedAt { get; set; }

    /// <summary>Timed executions (at a time, after a delay, retries, recurring ticks) not yet dispatched, earliest due first.</summary>
    [Id(3)]
    public List<PendingRun> Pending { get; set; } = [];

    /// <summary>The recurring schedule while it runs.</summary>
    [Id(4)]
    public RecurringRun? Recurring { get; set; }

    /// <summary>Attempts handed to executors and not yet reported, by execution id.</summary>
    [Id(5)]
    public Dictionary<string, InFlightRun> InFlight { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Finished attempts as stored by earlier versions, in the main state; moved into history segments on activation.
    /// Finished attempts are kept in <see cref="HistorySegment"/>s from <see cref="HistoryHead"/> to <see cref="HistoryTail"/>.
    /// </summary>
    [Id(6)]
    public List<JobExecution> History { get; set; } = [];

    /// <summary>Attempts finished since the job was defined.</summary>
    [Id(7)]
    public long Finished { get; set; }

    /// <summary>Recurring ticks not run.</summary>
    [Id(8)]
    public long SkippedTicks { get; set; }

    /// <summary>Attempts whose lease ran out.</summary>
    [Id(9)]
    public long Lost { get; set; }

    /// <summary>The first stored segment of the ready queue.</summary>
    [Id(10)]
    public long ReadyHead { get; set; }

    /// <summary>How many runs of the head segment were already taken.</summary>
    [Id(11)]
    public int ReadyHeadOffset { get; set; }

    /// <summary>The last stored segment of the ready queue (below ReadyHead when it is empty).</summary>
    [Id(12)]
    public long ReadyTail { get; set; } = -1;

    /// <summary>Ready runs cancelled while still in a stored segment.</summary>
    [Id(13)]
    public HashSet<string> ReadyCancelled { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The first stored segment of the history.</summary>
    [Id(14)]
    public long HistoryHead { get; set; }

    /// <summary>How many records of the head history segment were trimmed away.</summary>
    [Id(15)]
    public int HistoryHeadOffset { get; set; }

    /// <summary>The last stored segment of the history (below HistoryHead when there is none).</summary>
    [Id(16)]
    public long HistoryTail { get; set; } = -1;

    /// <summary>
    /// How many records the tail history segment held when this state was written. Segments are written before the
    /// state that points at them, so storage may hold records this state does not know of yet: they are not loaded.
    /// </summary>
    [Id(17)]
    public int HistoryTailCount { get; set; }

    /// <summary>
    /// How many runs the tail ready segment held when this state was written, as <see cref="HistoryTailCount"/> for
    /// the history; -1 in state written by earlier versions, which load the whole segment.
    /// </summary>
    [Id(18)]
    public int ReadyTailCount { get; set; } = -1;

    /// <summary>
    /// The job's secret key for lease secrets: an attempt's secret is derived from it, its execution id and its attempt
    /// number, so every activation gives the same attempt the same secret (zero in state written by earlier versions).
    /// </summary>
    [Id(19)]
    public long LeaseKey { get; set; }

    /// <summary>
    /// The period of the reminder an earlier version registered for the job, as last written; null when it holds none.
    /// Jobs hold no reminder of their own now (the cluster's watch has one): a job that finds a period here drops that
    /// reminder and clears it.
    /// </summary>
    [Id(20)]
    public TimeSpan? ReminderPeriod { get; set; }

    /// <summary>Attempts finished with status 200 since the job was defined (of <see cref="Finished"/>).</summary>
    [Id(21)]
    public long Succeeded { get; set; }

    /// <summary>Items of the job's source it holds, by the execution id each became, from claim until settled in the source.</summary>
    [Id(22)]
    public Dictionary<string, HeldItem> Items { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// A copy to write, taken at the same moment as the segments it points at: the job goes on changing while a write
    /// is under way, and what is written must be one consistent moment. The records inside are immutable.
    /// </summary>
    public JobState Snapshot() => new()
    {
        Definition = Definition,
        Started = Started,
        StartedAt = StartedAt,
        Pending = [.. Pending],
        Recurring = Recurring,
        InFlight = new Dictionary<string, InFlightRun>(InFlight, StringComparer.Ordinal),
        History = History.Count == 0 ? [] : [.. History],
        Finished = Finished,
        Succeeded = Succeeded,
        SkippedTicks = SkippedTicks,
        Lost = Lost,
        ReadyHead = ReadyHead,
        ReadyHeadOffset = ReadyHeadOffset,
        ReadyTail = ReadyTail,
        ReadyTailCount = ReadyTailCount,
        ReadyCancelled = new HashSet<string>(ReadyCancelled, StringComparer.Ordinal),
        HistoryHead = HistoryHead,
        HistoryHeadOffset = HistoryHeadOffset,
        HistoryTail = HistoryTail,
        HistoryTailCount = HistoryTailCount,
        LeaseKey = LeaseKey,
        ReminderPeriod = ReminderPeriod,
        Items = Items.Count == 0 ? new(StringComparer.Ordinal) : new Dictionary<string, HeldItem>(Items, StringComparer.Ordinal),
    };
}

/// <summary>An accepted execution waiting for its due time or a free worker.</summary>
[GenerateSerializer, Immutable, Alias("work.pending")]
internal sealed record PendingRun
{
    /// <summary>The execution id.</summary>
    [Id(0)]
    public required string ExecutionId { get; init; }

    /// <summary>The attempt this run is.</summary>
    [Id(1)]
    public int Attempt { get; init; } = 1;

    /// <summary>When it is due.</summary>
    [Id(2)]
    public DateTimeOffset DueAt { get; init; }

    /// <summary>Args for this execution, or null for the definition's.</summary>
    [Id(3)]
    public JobArgs? Args { get; init; }

    /// <summary>The trace context it was scheduled under.</summary>
    [Id(4)]
    public string? TraceParent { get; init; }

    /// <summary>The W3C tracestate that goes with <see cref="TraceParent"/>.</summary>
    [Id(5)]
    public string? TraceState { get; init; }

    /// <summary>True for a recurring tick.</summary>
    [Id(6)]
    public bool Recurring { get; init; }

    /// <summary>The source item it handles, or null.</summary>
    [Id(7)]
    public WorkItem? Item { get; init; }
}

/// <summary>An attempt handed to an executor.</summary>
[GenerateSerializer, Immutable, Alias("work.in-flight")]
internal sealed record InFlightRun
{
    /// <summary>What was pending.</summary>
    [Id(0)]
    public required PendingRun Run { get; init; }

    /// <summary>The executor it went to.</summary>
    [Id(1)]
    public required string Executor { get; init; }

    /// <summary>When it was handed over.</summary>
    [Id(2)]
    public DateTimeOffset DispatchedAt { get; init; }

    /// <summary>When it counts as lost unless the executor reports or renews first.</summary>
    [Id(3)]
    public DateTimeOffset LeaseUntil { get; init; }

    /// <summary>True once cancelled: it keeps its slot until reported, and is not retried.</summary>
    [Id(4)]
    public bool Cancelled { get; init; }

    /// <summary>
    /// The lease's secret, sent to the executor only: a report or renewal must carry it, so nobody but the executor
    /// the attempt went to can finish it. Zero for attempts dispatched by earlier versions.
    /// </summary>
    [Id(5)]
    public long Lease { get; init; }

    /// <summary>
    /// Sent ahead: it waits on its executor for the slot of the job's next run that ends there, and holds no slot
    /// until the executor reports that it took one.
    /// </summary>
    [Id(6)]
    public bool Queued { get; init; }
}

/// <summary>
/// A running recurring schedule: grid point k is due at <c>Origin + k × Interval</c>; a cron schedule keeps its next
/// time instead.
/// </summary>
[GenerateSerializer, Immutable, Alias("work.recurring")]
internal sealed record RecurringRun
{
    /// <summary>The schedule.</summary>
    [Id(0)]
    public required EverySchedule Schedule { get; init; }

    /// <summary>Grid point 0.</summary>
    [Id(1)]
    public DateTimeOffset Origin { get; init; }

    /// <summary>The next grid point to run.</summary>
    [Id(2)]
    public long Next { get; init; }

    /// <summary>The next time a cron schedule names (unused for an interval); null when it names none.</summary>
    [Id(3)]
    public DateTimeOffset? NextDue { get; init; }

    /// <summary>The due time of grid point <paramref name="k"/>.</summary>
    public DateTimeOffset DueAt(long k) => Origin + (Schedule.Interval * k);

    /// <summary>When the next tick is due: grid point <see cref="Next"/>, or the cron schedule's <see cref="NextDue"/>.</summary>
    public DateTimeOffset? NextAt => Schedule.Cron is null ? DueAt(Next) : NextDue;
}

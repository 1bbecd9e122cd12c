namespace Work.Grains;

/// <summary>Options of the cluster scheduler, bound from the <c>Work:Cluster</c> configuration section.</summary>
public sealed class WorkClusterOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Work:Cluster";

    /// <summary>The most runs <see cref="RunAhead"/> may allow per executor.</summary>
    public const int MaxRunAhead = 100_000;

    /// <summary>The grain storage the job grains keep their state in.</summary>
    public const string StorageName = "work";

    /// <summary>How long an execution may go unreported before it counts as lost and is run again; 30 s by default.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often executors renew the leases of running executions; 10 s by default. Below LeaseDuration.</summary>
    public TimeSpan LeaseRenewPeriod { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The period of the cluster's one reminder, the job watch's, which wakes every defined job after a silo died or the
    /// cluster restarted if the silos' own calls to it did not; 1 minute by default (Orleans' minimum unless
    /// ReminderOptions.MinimumReminderPeriod is lowered). Jobs hold no reminder each; the precise ticks come from grain timers.
    /// </summary>
    public TimeSpan ReminderPeriod { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long a job's write of dispatches and completions may wait to share one write with what follows; 10 ms by
    /// default, zero to write at once. Accepts, definitions and other calls whose callers wait are written at once.
    /// A silo lost in between runs those executions again (at least once, under the same execution id).
    /// </summary>
    public TimeSpan WriteDelay { get; set; } = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// How long acknowledged source items stay in their table, holding their idempotency keys, before they are purged;
    /// 7 days by default.
    /// </summary>
    public TimeSpan ItemRetention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How many times an execution whose executor was lost is run again beyond its retry policy; 2 by default.</summary>
    public int LostRedeliveries { get; set; } = 2;

    /// <summary>
    /// The shortest recurring interval a job may have; 10 ms by default. Shorter ones are refused when defined or set,
    /// since a job that ticks faster than its writes and dispatches can keep up does nothing useful.
    /// </summary>
    public TimeSpan MinInterval { get; set; } = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// The most executions one job may have accepted and not yet dispatched (due now or later); 1,000,000 by default.
    /// At the limit a perform is refused and nothing is accepted; nothing already accepted is dropped.
    /// </summary>
    public int MaxPendingPerJob { get; set; } = 1_000_000;

    /// <summary>
    /// A job with nothing ready or running (timed runs may be pending) whose next due time is at least this far away
    /// leaves memory, and its silo wakes it shortly before that time; 30 s by default, zero to keep such jobs in memory. Many jobs with
    /// schedules of a minute or more then cost about a hundred bytes each between their runs instead of an activation.
    /// </summary>
    public TimeSpan IdleDeactivation { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How many runs due now a job may send ahead to each executor that holds one of its slots, beyond the slots
    /// themselves; 256 by default, zero to send only what may start. A run sent ahead waits on its executor and starts
    /// in the slot of the job's next run that ends there, without a round trip to the job: the slots stay within
    /// MaxWorkers and turn over at the executor's speed. Runs handed over before their due time (<see cref="EarlyHandOver"/>)
    /// may wait four times as many deep once no run due now is waiting: they all start at their due moment, so with
    /// the default 1,000 short runs due at once under a small cap start with no round trip to the job. Runs sent ahead
    /// are not moved to other silos, so a smaller number spreads long runs more evenly over silos that join later.
    /// </summary>
    public int RunAhead { get; set; } = 256;

    /// <summary>
    /// How long before its due time a run that is due at a given time (PerformAt, PerformIn, a retry) may be handed to
    /// its executor, which starts it at the due time on the silo's precise wake-ups, never before; 10 ms by default,
    /// zero to hand runs over only once due, at most one second. The hand-over's cost then falls before the due time,
    /// so many runs due at the same moment start together. The run holds its slot from the hand-over.
    /// </summary>
    public TimeSpan EarlyHandOver { get; set; } = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// When the silo stops gracefully, how long it waits for the executions running on it to finish and their jobs to
    /// record them, before its grains leave; 15 s by default, zero not to wait. It takes no new executions meanwhile
    /// (they go to other silos) and gives back those queued on it. Executions still running then are signalled to
    /// cancel and run again elsewhere once their leases run out. Keep it below the host's <c>HostOptions.ShutdownTimeout</c>
    /// (30 s by default), which also bounds the rest of the silo's stop; this is checked at start.
    /// </summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// The queues this silo serves: a job's executions go only to live silos serving its <c>Job.Queue</c>. <c>*</c>
    /// (the default) serves every queue. The silo host sets it from <c>Work:Silo:Queues</c>.
    /// </summary>
    public IList<string> Queues { get; set; } = [AnyQueue];

    /// <summary>The queue name that stands for every queue in <see cref="Queues"/>.</summary>
    public const string AnyQueue = "*";

    /// <summary>Every problem with the options, empty when they are valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var failures = new List<string>();
        if (LeaseDuration <= TimeSpan.Zero)
        {
            failures.Add($"{SectionName}:{nameof(LeaseDuration)} must be positive; it is {LeaseDuration}.");
        }

        if (LeaseRenewPeriod <= TimeSpan.Zero || LeaseRenewPeriod >= LeaseDuration)
        {
            failures.Add($"{SectionName}:{nameof(LeaseRenewPeriod)} must be positive and below {nameof(LeaseDuration)} ({LeaseDuration}); it is {LeaseRenewPeriod}.");
        }

        if (ReminderPeriod <= TimeSpan.Zero)
        {
            failures.Add($"{SectionName}:{nameof(ReminderPeriod)} must be positive; it is {ReminderPeriod}.");
        }

        if (WriteDelay < TimeSpan.Zero || WriteDelay >= LeaseRenewPeriod)
        {
            failures.Add($"{SectionName}:{nameof(WriteDelay)} must be zero or more and below {nameof(LeaseRenewPeriod)} ({LeaseRenewPeriod}); it is {WriteDelay}.");
        }

        if (LostRedeliveries < 0 || LostRedeliveries > JobLimits.MaxAttempts)
        {
            failures.Add($"{SectionName}:{nameof(LostRedeliveries)} must be between 0 and {JobLimits.MaxAttempts}; it is {LostRedeliveries}.");
        }

        if (ItemRetention <= TimeSpan.Zero || ItemRetention > TimeSpan.FromDays(3650))
        {
            failures.Add($"{SectionName}:{nameof(ItemRetention)} must be positive and at most 10 years; it is {ItemRetention}.");
        }

        if (MinInterval <= TimeSpan.Zero || MinInterval > TimeSpan.FromHours(1))
        {
            failures.Add($"{SectionName}:{nameof(MinInterval)} must be positive and at most one hour; it is {MinInterval}.");
        }

        if (MaxPendingPerJob < 1)
        {
            failures.Add($"{SectionName}:{nameof(MaxPendingPerJob)} must be at least 1; it is {MaxPendingPerJob}.");
        }

        if (LeaseDuration > TimeSpan.FromDays(1))
        {
            failures.Add($"{SectionName}:{nameof(LeaseDuration)} must be at most one day; it is {LeaseDuration}.");
        }

        if (IdleDeactivation != TimeSpan.Zero && (IdleDeactivation < TimeSpan.FromSeconds(5) || IdleDeactivation > TimeSpan.FromDays(1)))
        {
            failures.Add($"{SectionName}:{nameof(IdleDeactivation)} must be zero (jobs stay in memory) or between 5 seconds and one day; it is {IdleDeactivation}.");
        }

        if (EarlyHandOver < TimeSpan.Zero || EarlyHandOver > TimeSpan.FromSeconds(1))
        {
            failures.Add($"{SectionName}:{nameof(EarlyHandOver)} must be between zero and one second; it is {EarlyHandOver}.");
        }

        if (RunAhead < 0 || RunAhead > MaxRunAhead)
        {
            failures.Add($"{SectionName}:{nameof(RunAhead)} must be between 0 and {MaxRunAhead}; it is {RunAhead}.");
        }

        if (Queues is null || Queues.Count == 0)
        {
            failures.Add($"{SectionName}:{nameof(Queues)} must name at least one queue, or * for every queue.");
        }
        else if (Queues.FirstOrDefault(q => string.IsNullOrWhiteSpace(q) || q.Trim() != q) is { } bad)
        {
            failures.Add($"{SectionName}:{nameof(Queues)} must hold queue names without surrounding spaces; '{bad}' is not one.");
        }

        if (DrainTimeout < TimeSpan.Zero || DrainTimeout > TimeSpan.FromHours(1))
        {
            failures.Add($"{SectionName}:{nameof(DrainTimeout)} must be between zero and one hour; it is {DrainTimeout}.");
        }

        if (ReminderPeriod > TimeSpan.FromDays(1))
        {
            failures.Add($"{SectionName}:{nameof(ReminderPeriod)} must be at most one day; it is {ReminderPeriod}.");
        }

        return failures;
    }
}

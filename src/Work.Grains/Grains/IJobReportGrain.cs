namespace Work.Grains;

/// <summary>
/// What executors tell a job grain (same grain, same key as <see cref="Cluster.IConcurrentJobGrain"/>): attempts that finished,
/// and attempts still running. Every call carries the lease secret the job sent with the order, so only the executor
/// an attempt went to can finish it or keep it alive. Not part of the client contracts.
/// </summary>
[Alias("work.IJobReportGrain")]
internal interface IJobReportGrain : IGrainWithStringKey
{
    /// <summary>
    /// Attempts finished on the silo <paramref name="executor"/>; returns once they count (their workers are free).
    /// Once they are durably recorded, the job confirms them to that silo's executor
    /// (<see cref="IJobExecutorGrain.ConfirmAsync"/>), which renews them and reports them again until then. Reports
    /// for attempts not in flight under their lease are ignored, and confirmed too once what the job holds is durable.
    /// </summary>
    [Alias("Report")]
    Task ReportAsync(string executor, IReadOnlyList<ExecutionReport> reports);

    /// <summary>
    /// Queued attempts the executor on <paramref name="executor"/> gives back unstarted: none of the job's runs was
    /// running there when they came, the job recalled them, or they were cancelled. They wait at the job again, or
    /// finish as cancelled when they were.
    /// </summary>
    [Alias("Return")]
    Task ReturnAsync(string executor, IReadOnlyList<ExecutionLease> runs);

    /// <summary>Attempts still running (or finished and not yet reported), so their leases do not run out.</summary>
    [Alias("Renew")]
    Task RenewAsync(IReadOnlyList<ExecutionLease> leases);

    /// <summary>
    /// Items the job's stream on <paramref name="provider"/> delivered together: taken in as runs once the job is
    /// started, bound to a stream on that provider and has room (<see cref="Scheduling.JobScheduler.StreamRoom"/>),
    /// and durably accepted before this returns true. Returns false when there was no room within a few seconds: the
    /// stream's consumer asks again. An item the job holds already (same idempotency key or stream position) is not
    /// taken twice.
    /// </summary>
    [Alias("AcceptStreamItems")]
    Task<bool> AcceptStreamItemsAsync(string provider, IReadOnlyList<Scheduling.ClaimedItem> items);

    /// <summary>Loads the job, which arms its alarm for its next due time: how a job that left memory while idle is woken.</summary>
    [Alias("Wake")]
    Task WakeAsync();
}

/// <summary>One attempt under its lease, running (or finished and not yet reported) on the silo <c>Executor</c>.</summary>
[GenerateSerializer, Immutable, Alias("work.execution-lease")]
internal sealed record ExecutionLease(
    [property: Id(0)] string ExecutionId,
    [property: Id(1)] int Attempt,
    [property: Id(2)] long Lease,
    [property: Id(3)] string Executor = "");

/// <summary>
/// A finished attempt, reported under its lease, and the queued attempt that took its slot on the executor, if any
/// (<see cref="ExecutionOrder.Queued"/>).
/// </summary>
[GenerateSerializer, Immutable, Alias("work.execution-report")]
internal sealed record ExecutionReport(
    [property: Id(0)] JobExecution Execution,
    [property: Id(1)] long Lease,
    [property: Id(2)] ExecutionLease? Next = null);

/// <summary>An attempt of an execution, by id and number.</summary>
[GenerateSerializer, Immutable, Alias("work.execution-attempt")]
internal sealed record ExecutionAttempt(
    [property: Id(0)] string ExecutionId,
    [property: Id(1)] int Attempt);

namespace Work.Grains;

/// <summary>
/// What executors tell a job grain (same grain, same key as <see cref="Cluster.IConcurrentJobGrain"/>): attempts that finished,
/// and attempts still running. Every call carries the lease secret the job sent with the order, so only the executor
/// an attempt went to can finish it or keep it alive. Not part of the client contracts.
/// </summary>
[Alias("work.IJobReportGrain")]
internal interface IJobReportGrain : IGrainWithStringKey
{
    /// <summary>Attempts finished; returns once they are durably recorded. Reports for attempts not in flight under their lease are ignored.</summary>
    [Alias("Report")]
    Task ReportAsync(IReadOnlyList<ExecutionReport> reports);

    /// <summary>Attempts still running (or finished and not yet reported), so their leases do not run out.</summary>
    [Alias("Renew")]
    Task RenewAsync(IReadOnlyList<ExecutionLease> leases);
}

/// <summary>One attempt under its lease, running (or finished and not yet reported) on the silo <c>Executor</c>.</summary>
[GenerateSerializer, Immutable, Alias("work.execution-lease")]
internal sealed record ExecutionLease(
    [property: Id(0)] string ExecutionId,
    [property: Id(1)] int Attempt,
    [property: Id(2)] long Lease,
    [property: Id(3)] string Executor = "");

/// <summary>A finished attempt, reported under its lease.</summary>
[GenerateSerializer, Immutable, Alias("work.execution-report")]
internal sealed record ExecutionReport(
    [property: Id(0)] JobExecution Execution,
    [property: Id(1)] long Lease);

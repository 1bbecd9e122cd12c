namespace Work.Grains;

/// <summary>
/// Runs executions on one silo (the key is the silo's address; the grain is placed on that silo). A call only hands
/// the execution over: the handler runs on the thread pool and the result is reported to the job grain, so no grain
/// call lasts as long as an execution. Only job grains call it: it is not part of the client contracts.
/// </summary>
[Alias("work.IJobExecutorGrain")]
internal interface IJobExecutorGrain : IGrainWithStringKey
{
    /// <summary>
    /// Starts the executions and returns at once. An order already running here is not started twice. Returns false
    /// when the silo is stopping (<see cref="Hosting.ExecutorDrain"/>): it takes none of them, gives back those it does
    /// not hold already (<see cref="IJobReportGrain.ReturnAsync"/>), and the job sends them elsewhere.
    /// </summary>
    [Alias("Execute")]
    Task<bool> ExecuteAsync(IReadOnlyList<ExecutionOrder> orders);

    /// <summary>Reported attempts of the job <paramref name="jobName"/> that it recorded durably: no more renewing or reporting them.</summary>
    [Alias("Confirm")]
    Task ConfirmAsync(string jobName, IReadOnlyList<ExecutionAttempt> attempts);

    /// <summary>Gives the queued attempts of the job <paramref name="jobName"/> back to it unstarted (its cap was lowered).</summary>
    [Alias("Recall")]
    Task RecallAsync(string jobName);

    /// <summary>
    /// The silo this executor runs on and the queues it serves (<see cref="WorkClusterOptions.Queues"/>; <c>*</c> for
    /// every queue). An executor placed on another silo than its key names (that silo was not known to the caller's
    /// silo yet) says so by its silo, and leaves once idle, so the next call finds the right one.
    /// </summary>
    [Alias("Queues")]
    Task<ServedQueues> QueuesAsync();

    /// <summary>
    /// Which of <paramref name="attempts"/> of the job <paramref name="jobName"/> are here: running, waiting to start,
    /// or finished and not yet confirmed by the job. A job asks before it counts an attempt whose lease ran out as lost,
    /// when the attempt's silo is still alive: its renewals may have gone to an activation that was going away.
    /// </summary>
    [Alias("Held")]
    Task<IReadOnlyList<ExecutionAttempt>> HeldAsync(string jobName, IReadOnlyList<ExecutionAttempt> attempts);

    /// <summary>
    /// Cancels executions here: those queued go back to their job unstarted, first, then the tokens of the others are
    /// signalled (one still waiting for its due time ends unstarted, as cancelled). Returns how many were here.
    /// </summary>
    [Alias("CancelMany")]
    Task<int> CancelAsync(IReadOnlyList<string> executionIds);
}

/// <summary>The queues a silo serves, as its executor answers.</summary>
[GenerateSerializer, Immutable, Alias("work.served-queues")]
internal sealed record ServedQueues(
    [property: Id(0)] string Silo,
    [property: Id(1)] IReadOnlyList<string> Queues);

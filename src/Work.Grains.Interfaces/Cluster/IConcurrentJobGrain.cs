namespace Work.Cluster;

/// <summary>
/// One named job in the cluster (the key is its name): its definition, schedule, in-flight executions and history,
/// kept durably. At most <see cref="JobDefinition.MaxWorkers"/> executions run at once across all silos.
/// Perform before <see cref="StartAsync"/> or after <see cref="StopAsync"/> is an error. Every call to a job whose
/// name breaks <see cref="JobLimits.NameProblem"/> fails with an <see cref="ArgumentException"/> naming the problem,
/// and a call whose job cannot read or write its state fails with a <see cref="JobStorageException"/>.
/// </summary>
[Alias("work.IConcurrentJobGrain")]
public interface IConcurrentJobGrain : IGrainWithStringKey
{
    /// <summary>Defines the job, or updates its definition. A recurring schedule in it runs once the job is started.</summary>
    /// <exception cref="ArgumentException">The definition is not valid or names a handler no silo has; nothing changes.</exception>
    [Alias("Define")]
    Task DefineAsync(JobDefinition definition);

    /// <summary>Starts the job: performs are accepted and the recurring schedule, if any, runs. Idempotent.</summary>
    /// <exception cref="InvalidOperationException">The job is not defined.</exception>
    [Alias("Start")]
    Task StartAsync();

    /// <summary>
    /// Stops the job: cancels its recurring schedule and pending runs and signals in-flight executions; items it took
    /// from its stream and has not started still run (a stream cannot take them back). Idempotent.
    /// </summary>
    [Alias("Stop")]
    Task StopAsync();

    /// <summary>Accepts one execution now (with <paramref name="args"/> instead of the defined ones when given) and returns its id once durably recorded.</summary>
    [Alias("Enqueue")]
    Task<string> EnqueueAsync(JobArgs? args = null);

    /// <summary>Accepts one execution at <paramref name="time"/> (a past time runs now) and returns its id.</summary>
    /// <exception cref="ArgumentException">The time is the default value or beyond <see cref="JobLimits.Horizon"/>.</exception>
    [Alias("PerformAt")]
    Task<string> PerformAtAsync(DateTimeOffset time, JobArgs? args = null);

    /// <summary>Accepts one execution after <paramref name="delay"/> and returns its id.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The delay is not positive or beyond <see cref="JobLimits.Horizon"/>.</exception>
    [Alias("PerformIn")]
    Task<string> PerformInAsync(TimeSpan delay, JobArgs? args = null);

    /// <summary>
    /// Accepts several executions in one call, all or none, and returns their ids in order once durably recorded.
    /// <c>WorkClient</c> sends performs to one job this way when they arrive while an earlier call is under way.
    /// </summary>
    /// <exception cref="ArgumentException">A request is not valid (named by its index), or there are more than <see cref="PerformRequest.MaxPerCall"/>; nothing is accepted.</exception>
    /// <exception cref="InvalidOperationException">The job is not started; nothing is accepted.</exception>
    [Alias("PerformMany")]
    Task<IReadOnlyList<string>> PerformManyAsync(IReadOnlyList<PerformRequest> requests);

    /// <summary>Sets the recurring schedule (replacing any) and runs it while the job is started.</summary>
    /// <exception cref="ArgumentOutOfRangeException">
    /// The interval is below the silos' <c>Work:Cluster:MinInterval</c> (10 ms by default) or beyond <see cref="JobLimits.Horizon"/>.
    /// </exception>
    [Alias("PerformEvery")]
    Task PerformEveryAsync(TimeSpan interval, bool sync = false);

    /// <summary>
    /// Sets the job's recurring schedule to the times a cron expression names (5 fields, or 6 with seconds first) in a
    /// time zone (an IANA id; UTC when null), replacing any interval. See <see cref="CronSchedule"/> for the rules
    /// across daylight-saving changes; the misfire policy applies as for intervals.
    /// </summary>
    /// <exception cref="ArgumentException">The expression or time zone is not valid, or names no time from now on.</exception>
    [Alias("PerformCron")]
    Task PerformCronAsync(string cron, string? timeZone = null, bool sync = false);

    /// <summary>
    /// Waits up to <paramref name="maxWait"/> (at most 20 s, below Orleans' response timeout) for an execution to
    /// finish and returns its record, or null if it is still pending or running. Call again to keep waiting.
    /// </summary>
    /// <exception cref="KeyNotFoundException">No such execution is pending, running or in the history.</exception>
    [Alias("Wait")]
    Task<JobExecution?> WaitAsync(string executionId, TimeSpan maxWait);

    /// <summary>
    /// Cancels one execution (pending: it never runs; running: its token is signalled), or, with null, every pending
    /// and running one. Returns how many were cancelled: 0 for an execution that already finished.
    /// </summary>
    /// <exception cref="KeyNotFoundException">The job has no such execution pending, running or in its history.</exception>
    [Alias("Cancel")]
    Task<int> CancelAsync(string? executionId = null);

    /// <summary>The job's state.</summary>
    [Alias("GetInfo")]
    Task<JobInfo> GetInfoAsync();

    /// <summary>The last <paramref name="count"/> finished executions, newest first.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The count is negative or over <see cref="JobDefinition.MaxHistoryLimit"/>.</exception>
    [Alias("GetHistory")]
    Task<IReadOnlyList<JobExecution>> GetHistoryAsync(int count = 20);

    /// <summary>
    /// Finished executions, newest first: <paramref name="count"/> of them after skipping the newest <paramref name="skip"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">
    /// The skip or count is negative, or together they reach past <see cref="JobDefinition.MaxHistoryLimit"/>.
    /// </exception>
    [Alias("GetHistoryPage")]
    Task<IReadOnlyList<JobExecution>> GetHistoryAsync(int skip, int count);

    /// <summary>Where one execution stands: pending, running, or finished with its record.</summary>
    /// <exception cref="KeyNotFoundException">The job has no such execution pending, running or in its history.</exception>
    [Alias("GetExecution")]
    Task<ExecutionState> GetExecutionAsync(string executionId);

    /// <summary>
    /// Executions not finished: those running first (oldest hand-over first), then those waiting, earliest due first;
    /// <paramref name="count"/> of them after skipping <paramref name="skip"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The skip is negative, or the count is not between 0 and 1,000.</exception>
    [Alias("GetPending")]
    Task<IReadOnlyList<ExecutionState>> GetPendingAsync(int skip, int count);

    /// <summary>
    /// Deletes the job: stops it, cancels what is pending (waiters are told), signals what runs, clears its stored
    /// state and history, and removes it from the job list. Defining it again starts afresh. Idempotent.
    /// </summary>
    [Alias("Delete")]
    Task DeleteAsync();
}

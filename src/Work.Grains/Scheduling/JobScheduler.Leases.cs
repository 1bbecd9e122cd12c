namespace Work.Scheduling;

// Attempts handed to executors: their leases, the secret each carries, reports and renewals.
internal sealed partial class JobScheduler
{
    /// <summary>Records that <paramref name="run"/> went to <paramref name="executor"/>, under a new lease secret.</summary>
    public InFlightRun Dispatched(PendingRun run, string executor, DateTimeOffset now, TimeSpan lease)
    {
        var inFlight = new InFlightRun { Run = run, Executor = executor, DispatchedAt = now, LeaseUntil = now + lease, Lease = _leases() };
        State.InFlight[run.ExecutionId] = inFlight;
        return inFlight;
    }

    /// <summary>
    /// Puts back a run whose hand-over failed, to try again when the cap next allows; a run cancelled meanwhile is
    /// finished as cancelled instead (in <paramref name="finished"/>). Nothing happens when the attempt is no longer in
    /// flight (reported, or given up as lost and dispatched again).
    /// </summary>
    public void Undispatched(PendingRun run, List<JobExecution> finished)
    {
        if (!State.InFlight.TryGetValue(run.ExecutionId, out var inFlight) || inFlight.Run.Attempt != run.Attempt)
        {
            return;
        }

        State.InFlight.Remove(run.ExecutionId);
        if (inFlight.Cancelled)
        {
            var now = _time.GetUtcNow();
            var record = Record(run, JobStatus.NoResponse, "Cancelled before it ran.", CancelledBeforeRun, now, now, "");
            History.Add(record, Definition.HistoryLimit);
            State.Finished++;
            finished.Add(record);
            return;
        }

        Insert(run);
    }

    /// <summary>
    /// Records a report under <paramref name="lease"/>. Returns false when it is not for an attempt in flight under
    /// that lease (a duplicate, one already given up as lost, or one this job never dispatched): such a report changes
    /// nothing, so no execution is counted twice and nobody but its executor can finish an attempt.
    /// </summary>
    public bool Report(JobExecution execution, long lease, List<JobExecution> finished)
    {
        ArgumentNullException.ThrowIfNull(execution);
        if (!State.InFlight.TryGetValue(execution.ExecutionId, out var inFlight)
            || inFlight.Run.Attempt != execution.Attempt
            || (inFlight.Lease != 0 && inFlight.Lease != lease))
        {
            return false;
        }

        State.InFlight.Remove(execution.ExecutionId);
        Finish(inFlight, execution, finished);
        return true;
    }

    /// <summary>Extends the lease of an attempt in flight whose secret is <paramref name="lease"/>; false when there is none.</summary>
    public bool Renew(string executionId, int attempt, long lease, DateTimeOffset now, TimeSpan duration)
    {
        if (!State.InFlight.TryGetValue(executionId, out var inFlight)
            || inFlight.Run.Attempt != attempt
            || (inFlight.Lease != 0 && inFlight.Lease != lease))
        {
            return false;
        }

        State.InFlight[executionId] = inFlight with { LeaseUntil = now + duration };
        return true;
    }

    /// <summary>
    /// Gives every attempt in flight one more lease period: a new activation, which no executor can have renewed with
    /// yet, does not count them lost at once.
    /// </summary>
    public void RenewAll(DateTimeOffset now, TimeSpan duration)
    {
        foreach (var (id, inFlight) in State.InFlight.ToList())
        {
            State.InFlight[id] = inFlight with { LeaseUntil = now + duration };
        }
    }

    /// <summary>How many attempts are in flight on each executor.</summary>
    public Dictionary<string, int> InFlightByExecutor()
    {
        var load = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var inFlight in State.InFlight.Values)
        {
            load[inFlight.Executor] = load.GetValueOrDefault(inFlight.Executor) + 1;
        }

        return load;
    }
}

namespace Work.Scheduling;

// Attempts handed to executors: their leases, the secret each carries, reports and renewals.
internal sealed partial class JobScheduler
{
    /// <summary>
    /// Records that <paramref name="run"/> went to <paramref name="executor"/>, under its lease secret: to start in a
    /// slot of its own, or <paramref name="queued"/> (sent ahead, see <see cref="TakeAhead"/>).
    /// </summary>
    public InFlightRun Dispatched(PendingRun run, string executor, DateTimeOffset now, TimeSpan lease, bool queued = false)
    {
        var inFlight = new InFlightRun
        {
            Run = run, Executor = executor, DispatchedAt = now, LeaseUntil = now + lease, Lease = LeaseFor(run.ExecutionId, run.Attempt), Queued = queued,
        };
        PutInFlight(inFlight);
        if (!queued)
        {
            _idleExecutors.Remove(executor);
        }

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

        RemoveInFlight(inFlight);
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
    /// Records a report under <paramref name="lease"/>. Returns false when it is not for an attempt this job sent under
    /// that lease and has not finished (a duplicate, one already given up as lost, a forged one): such a report changes
    /// nothing, so no execution is counted twice and nobody but its executor can finish an attempt. An attempt the job
    /// holds as waiting is finished too when its lease proves the job sent it: its hand-over failed on the job's side but
    /// reached the executor, or its dispatch was not yet written when the job's silo died.
    /// </summary>
    public bool Report(JobExecution execution, long lease, List<JobExecution> finished)
    {
        ArgumentNullException.ThrowIfNull(execution);
        var (id, attempt) = (execution.ExecutionId, execution.Attempt);
        if (State.InFlight.TryGetValue(id, out var inFlight))
        {
            if (inFlight.Run.Attempt != attempt || (inFlight.Lease != 0 && inFlight.Lease != lease))
            {
                return false;
            }

            RemoveInFlight(inFlight);
            Finish(inFlight, execution, finished);
            return true;
        }

        if (lease != LeaseFor(id, attempt) || TakeWaiting(id, attempt) is not { } run)
        {
            return false;
        }

        Finish(new InFlightRun { Run = run, Executor = execution.Worker, DispatchedAt = execution.StartedAt, Lease = lease }, execution, finished);
        return true;
    }

    /// <summary>
    /// Extends the lease of an attempt in flight under <paramref name="lease"/>. An attempt the job holds as waiting,
    /// whose lease proves the job sent it, is taken back in flight on <paramref name="executor"/> instead of being sent
    /// again. False when there is no such attempt.
    /// </summary>
    public bool Renew(string executionId, int attempt, long lease, string executor, DateTimeOffset now, TimeSpan duration)
    {
        if (State.InFlight.TryGetValue(executionId, out var inFlight))
        {
            if (inFlight.Run.Attempt != attempt || (inFlight.Lease != 0 && inFlight.Lease != lease))
            {
                return false;
            }

            PutInFlight(inFlight with { LeaseUntil = now + duration });
            return true;
        }

        if (lease != LeaseFor(executionId, attempt) || TakeWaiting(executionId, attempt) is not { } run)
        {
            return false;
        }

        PutInFlight(new InFlightRun { Run = run, Executor = executor, DispatchedAt = now, LeaseUntil = now + duration, Lease = lease });
        return true;
    }

    /// <summary>The attempts in flight whose leases have run out by <paramref name="now"/>: the next pump counts them lost.</summary>
    public List<InFlightRun> ExpiredLeases(DateTimeOffset now)
    {
        var expired = new List<InFlightRun>();
        foreach (var inFlight in State.InFlight.Values)
        {
            if (inFlight.LeaseUntil <= now)
            {
                expired.Add(inFlight);
            }
        }

        return expired;
    }

    /// <summary>
    /// Counts an attempt in flight under <paramref name="lease"/> as lost now, as if its lease had run out: its executor
    /// said it does not hold it. It is recorded and run again like any lost attempt (or added to
    /// <paramref name="finished"/>). False when there is no such attempt.
    /// </summary>
    public bool LeaseLapsed(string executionId, int attempt, long lease, DateTimeOffset now, List<JobExecution> finished)
    {
        if (!State.InFlight.TryGetValue(executionId, out var inFlight) || inFlight.Run.Attempt != attempt || inFlight.Lease != lease)
        {
            return false;
        }

        Lose(inFlight, $"The executor on {inFlight.Executor} stopped renewing its lease (last until {inFlight.LeaseUntil:O}) and no longer holds it.", now, finished);
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
            PutInFlight(inFlight with { LeaseUntil = now + duration });
        }
    }

    /// <summary>How many slots the attempts in flight hold on each executor (runs sent ahead hold none).</summary>
    public Dictionary<string, int> InFlightByExecutor()
    {
        var load = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (executor, (held, _)) in _byExecutor)
        {
            if (held > 0)
            {
                load[executor] = held;
            }
        }

        return load;
    }

    // Every change to the attempts in flight goes through these two, which keep the counts of runs sent ahead, in all
    // and per executor.
    private void PutInFlight(InFlightRun inFlight)
    {
        if (State.InFlight.TryGetValue(inFlight.Run.ExecutionId, out var old))
        {
            Count(old, -1);
        }

        State.InFlight[inFlight.Run.ExecutionId] = inFlight;
        Count(inFlight, +1);
    }

    private void RemoveInFlight(InFlightRun inFlight)
    {
        if (State.InFlight.Remove(inFlight.Run.ExecutionId, out var old))
        {
            Count(old, -1);
        }
    }

    private void Count(InFlightRun inFlight, int delta)
    {
        if (inFlight.Queued)
        {
            _queued += delta;
        }

        var (held, queued) = _byExecutor.GetValueOrDefault(inFlight.Executor);
        (held, queued) = inFlight.Queued ? (held, queued + delta) : (held + delta, queued);
        if (held == 0 && queued == 0)
        {
            _byExecutor.Remove(inFlight.Executor);
        }
        else
        {
            _byExecutor[inFlight.Executor] = (held, queued);
        }
    }

    // An attempt's secret: the job's key, its execution id and its attempt number mixed (SplitMix64's finalizer), so
    // it cannot be told without the key, and every activation of the job gives it the same secret.
    private long LeaseFor(string executionId, int attempt)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in executionId)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        var x = hash ^ (ulong)State.LeaseKey ^ ((ulong)attempt * 0x9E3779B97F4A7C15UL);
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        x ^= x >> 31;
        var lease = (long)(x & long.MaxValue);
        return lease == 0 ? 1 : lease;
    }

    // Takes an attempt out of the waiting runs (timed or ready), or null when it is not waiting.
    private PendingRun? TakeWaiting(string executionId, int attempt)
    {
        var index = State.Pending.FindIndex(p => p.ExecutionId == executionId && p.Attempt == attempt);
        if (index >= 0)
        {
            var run = State.Pending[index];
            State.Pending.RemoveAt(index);
            return run;
        }

        // Runs accepted to run now wait in the ready queue as first attempts; retries wait among the timed ones.
        return attempt == 1 ? Ready.Remove(executionId) : null;
    }
}

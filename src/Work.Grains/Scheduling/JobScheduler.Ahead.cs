namespace Work.Scheduling;

// Runs sent ahead: due runs beyond the free slots wait on executors that hold slots, and start in the slot of the next
// run that ends there. A slot changes hands on the executor, without a round trip to the job; the job hears of it in
// the report of the run that ended. The job counts a slot for every attempt in flight that is not queued, so the
// executors' slots never add up to more than the workers allowed: a queued run starts only in a slot the job already
// counts, and the executor never holds a queued run of the job without one of its runs running there.
internal sealed partial class JobScheduler
{
    // Executors that gave queued runs back because nothing of the job ran there: none is sent ahead to them until the
    // job starts a run there again, or the job would send and get back the same runs until the leases of runs it
    // still counts there (on a silo that died, say) run out.
    private readonly HashSet<string> _idleExecutors = new(StringComparer.Ordinal);

    /// <summary>How many times RunAhead may wait on an executor once only runs due later are waiting.</summary>
    public const int EarlyAheadFactor = 4;

    /// <summary>
    /// Takes due runs to send ahead, after <see cref="TakeDue(DateTimeOffset, List{JobExecution}, bool)"/> has taken those
    /// that may start: each goes to an executor holding at least one slot, with fewer runs queued there than the limit
    /// (<see cref="AheadLimit"/>), the one with the fewest queued per slot first, among <paramref name="among"/> when
    /// given. The caller sends them as queued and records each with <see cref="Dispatched"/> (queued: true).
    /// </summary>
    public List<(PendingRun Run, string Executor)> TakeAhead(DateTimeOffset now, IReadOnlyCollection<string>? among = null)
    {
        var ahead = new List<(PendingRun, string)>();
        if (State.Definition is null || Problem is not null || _options.RunAhead == 0 || PendingCount == 0)
        {
            return ahead;
        }

        var executors = AheadRoom();
        if (among is not null)
        {
            // Only executors on silos that serve the job's queue.
            executors.RemoveAll(e => !among.Contains(e.Executor));
        }

        // Runs due now first, under RunAhead; once none is left, runs handed over before their due time, under the
        // deeper limit.
        for (var limit = AheadLimit(now); ; limit = AheadLimit(now))
        {
            var room = executors.Sum(e => Math.Max(0, limit - e.Queued));
            var due = new List<PendingRun>();
            TakeDue(now, room, due);
            foreach (var run in due)
            {
                // The executor with the fewest runs queued per slot it holds, among those with room.
                var best = -1;
                for (var i = 0; i < executors.Count; i++)
                {
                    var (_, held, queued) = executors[i];
                    if (queued < limit
                        && (best < 0 || (long)(queued + 1) * executors[best].Held < (long)(executors[best].Queued + 1) * held))
                    {
                        best = i;
                    }
                }

                var (executor, bestHeld, bestQueued) = executors[best];
                executors[best] = (executor, bestHeld, bestQueued + 1);
                ahead.Add((run, executor));
            }

            if (due.Count == 0 || AheadLimit(now) == limit)
            {
                return ahead;
            }
        }
    }

    /// <summary>
    /// How many runs may wait on an executor: <see cref="Grains.WorkClusterOptions.RunAhead"/> while runs due now are
    /// waiting, four times as many once only runs due later are (handed over before their due time, see
    /// <see cref="Grains.WorkClusterOptions.EarlyHandOver"/>). Those all start at their due moment, where a deeper
    /// queue saves a round trip to the job for every slot that turns over; a steady stream of runs due now refills the
    /// queue as it goes, so a deeper one would only hold more runs in flight.
    /// </summary>
    private int AheadLimit(DateTimeOffset now) =>
        Ready.Count > 0 || (State.Pending.Count > 0 && State.Pending[0].DueAt <= now) ? _options.RunAhead : EarlyAheadFactor * _options.RunAhead;

    /// <summary>
    /// The executor <paramref name="executor"/> started the queued attempt <paramref name="next"/> in the slot of an
    /// attempt of this job that ended there: it holds that slot now. An attempt the job holds as waiting, whose lease
    /// proves the job sent it, is taken back in flight (its dispatch was not written when the job's last activation
    /// died). False when there is no such attempt.
    /// </summary>
    public bool HandedOver(string executor, Grains.ExecutionLease next, DateTimeOffset now, TimeSpan duration)
    {
        if (State.InFlight.TryGetValue(next.ExecutionId, out var inFlight))
        {
            if (inFlight.Run.Attempt != next.Attempt || (inFlight.Lease != 0 && inFlight.Lease != next.Lease))
            {
                return false;
            }

            PutInFlight(inFlight with { Queued = false, LeaseUntil = now + duration });
            return true;
        }

        if (next.Lease != LeaseFor(next.ExecutionId, next.Attempt) || TakeWaiting(next.ExecutionId, next.Attempt) is not { } run)
        {
            return false;
        }

        PutInFlight(new InFlightRun { Run = run, Executor = executor, DispatchedAt = now, LeaseUntil = now + duration, Lease = next.Lease });
        return true;
    }

    /// <summary>
    /// An executor gave back a queued attempt it did not start (none of the job's runs was running there when it
    /// came, the job recalled it, or it was cancelled): it waits again, or is finished as cancelled (in <paramref name="finished"/>)
    /// when it was cancelled meanwhile. False when it is not in flight under that lease.
    /// </summary>
    public bool Returned(Grains.ExecutionLease run, List<JobExecution> finished)
    {
        if (!State.InFlight.TryGetValue(run.ExecutionId, out var inFlight) || inFlight.Run.Attempt != run.Attempt
            || (inFlight.Lease != 0 && inFlight.Lease != run.Lease))
        {
            return false;
        }

        _idleExecutors.Add(inFlight.Executor);
        Undispatched(inFlight.Run, finished);
        return true;
    }

    /// <summary>Executors holding runs sent ahead, for the job to recall them when its cap is lowered.</summary>
    public IReadOnlyList<string> ExecutorsWithQueuedRuns() => _byExecutor.Where(c => c.Value.Queued > 0).Select(c => c.Key).ToList();

    // The executors that hold slots, with how many, and how many runs wait on each.
    private List<(string Executor, int Held, int Queued)> AheadRoom() =>
        _byExecutor.Where(c => c.Value.Held > 0 && !_idleExecutors.Contains(c.Key)).Select(c => (c.Key, c.Value.Held, c.Value.Queued)).ToList();

    // Whether the next run due could be sent ahead.
    private bool CanSendAhead(DateTimeOffset now) =>
        _options.RunAhead > 0 && SlotsInUse > 0
        && ((_queued == 0 && _idleExecutors.Count == 0) || AheadRoom().Exists(e => e.Queued < AheadLimit(now)));
}

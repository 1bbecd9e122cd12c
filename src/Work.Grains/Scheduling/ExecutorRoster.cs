namespace Work.Scheduling;

/// <summary>
/// The executors a job hands runs to: one per live silo, picked by the fewest of the job's runs in flight, ties
/// broken round-robin. The live silos are read from the cluster's membership when it changes; references to
/// executors are made once per silo, since making one costs more than a dispatch.
/// </summary>
internal sealed class ExecutorRoster<TExecutor>(Func<ClusterMembershipSnapshot> membership, string localSilo, Func<string, TExecutor> create)
{
    private readonly Dictionary<string, TExecutor> _executors = new(StringComparer.Ordinal);
    private List<string> _silos = [];
    private MembershipVersion? _version;
    private int _next;

    /// <summary>The active silos, in order; this silo alone when membership knows none.</summary>
    public IReadOnlyList<string> ActiveSilos()
    {
        var snapshot = membership();
        if (_version != snapshot.Version)
        {
            _silos = snapshot.Members.Values
                .Where(m => m.Status == SiloStatus.Active)
                .Select(m => m.SiloAddress.ToParsableString())
                .Order(StringComparer.Ordinal)
                .ToList();
            _version = snapshot.Version;
            foreach (var gone in _executors.Keys.Except(_silos).ToList())
            {
                _executors.Remove(gone);
            }
        }

        return _silos.Count > 0 ? _silos : [localSilo];
    }

    /// <summary>
    /// Picks an executor for each run among <paramref name="among"/> (all live silos by default), counting each pick
    /// into <paramref name="load"/> (runs in flight per silo), and returns the runs by executor.
    /// </summary>
    public Dictionary<string, List<T>> Assign<T>(IEnumerable<T> runs, Dictionary<string, int> load, IReadOnlyList<string>? among = null)
    {
        var silos = among ?? ActiveSilos();
        var batches = new Dictionary<string, List<T>>(StringComparer.Ordinal);
        foreach (var run in runs)
        {
            var silo = Pick(silos, load);
            if (!batches.TryGetValue(silo, out var batch))
            {
                batches[silo] = batch = [];
            }

            batch.Add(run);
        }

        return batches;
    }

    /// <summary>The executor on <paramref name="silo"/>.</summary>
    public TExecutor Executor(string silo)
    {
        if (!_executors.TryGetValue(silo, out var executor))
        {
            _executors[silo] = executor = create(silo);
        }

        return executor;
    }

    // The live silo with the fewest of this job's executions, ties broken round-robin.
    private string Pick(IReadOnlyList<string> silos, Dictionary<string, int> load)
    {
        var best = -1;
        var bestLoad = int.MaxValue;
        for (var i = 0; i < silos.Count; i++)
        {
            var candidate = (_next + i) % silos.Count;
            var count = load.GetValueOrDefault(silos[candidate]);
            if (count < bestLoad)
            {
                best = candidate;
                bestLoad = count;
            }
        }

        _next = (best + 1) % silos.Count;
        load[silos[best]] = bestLoad + 1;
        return silos[best];
    }
}

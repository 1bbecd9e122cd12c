namespace Work.Scheduling;

/// <summary>
/// Which queues each live silo serves, as a job learns them: this silo's from its options, the others' by asking their
/// executors once (a silo's queues are fixed for its life). A silo not yet heard from serves nothing until it answers.
/// </summary>
internal sealed class SiloQueues(string localSilo, IReadOnlyCollection<string> localQueues)
{
    private readonly Dictionary<string, IReadOnlyCollection<string>> _known = new(StringComparer.Ordinal) { [localSilo] = localQueues };
    private readonly HashSet<string> _asking = new(StringComparer.Ordinal);

    /// <summary>
    /// The silos of <paramref name="live"/> that serve <paramref name="queue"/>, and those whose queues are not known
    /// yet and not being asked for (the caller asks them and calls <see cref="Learned"/>).
    /// </summary>
    public (List<string> Serving, List<string> ToAsk) Serving(IReadOnlyList<string> live, string queue)
    {
        var serving = new List<string>();
        var toAsk = new List<string>();
        foreach (var silo in live)
        {
            if (_known.TryGetValue(silo, out var queues))
            {
                if (queues.Contains(Grains.WorkClusterOptions.AnyQueue) || queues.Contains(queue))
                {
                    serving.Add(silo);
                }
            }
            else if (_asking.Add(silo))
            {
                toAsk.Add(silo);
            }
        }

        return (serving, toAsk);
    }

    /// <summary>What <paramref name="silo"/> answered, or null when it could not be asked (it is asked again later).</summary>
    public void Learned(string silo, IReadOnlyCollection<string>? queues)
    {
        _asking.Remove(silo);
        if (queues is not null)
        {
            _known[silo] = queues;
        }
    }
}

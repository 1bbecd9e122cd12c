namespace Work.Scheduling;

/// <summary>
/// Which queues each live silo serves, as a job learns them: this silo's from its options, the others' by asking their
/// executors once (a silo's queues are fixed for its life). A silo not yet heard from serves nothing until it answers;
/// for up to <see cref="HoldFor"/> after asking, the job holds its dispatch for the answer, so its first runs spread
/// over every silo that serves its queue instead of all going to those already known.
/// </summary>
internal sealed class SiloQueues(string localSilo, IReadOnlyCollection<string> localQueues)
{
    /// <summary>How long a job holds its dispatch for a silo's answer.</summary>
    public static readonly TimeSpan HoldFor = TimeSpan.FromSeconds(1);

    private readonly Dictionary<string, IReadOnlyCollection<string>> _known = new(StringComparer.Ordinal) { [localSilo] = localQueues };
    private readonly Dictionary<string, DateTimeOffset> _asking = new(StringComparer.Ordinal);

    /// <summary>
    /// The silos of <paramref name="live"/> that serve <paramref name="queue"/>; those whose queues are not known yet
    /// and not being asked for (the caller asks them and calls <see cref="Learned"/>); and until when to hold the
    /// dispatch for answers still due (null when none is).
    /// </summary>
    public (List<string> Serving, List<string> ToAsk, DateTimeOffset? HoldUntil) Serving(IReadOnlyList<string> live, string queue, DateTimeOffset now)
    {
        var serving = new List<string>();
        var toAsk = new List<string>();
        DateTimeOffset? hold = null;
        foreach (var silo in live)
        {
            if (_known.TryGetValue(silo, out var queues))
            {
                if (queues.Contains(Grains.WorkClusterOptions.AnyQueue) || queues.Contains(queue))
                {
                    serving.Add(silo);
                }

                continue;
            }

            if (!_asking.TryGetValue(silo, out var asked))
            {
                _asking[silo] = asked = now;
                toAsk.Add(silo);
            }

            if (asked + HoldFor > now && (hold is null || asked + HoldFor > hold))
            {
                hold = asked + HoldFor;
            }
        }

        return (serving, toAsk, hold);
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

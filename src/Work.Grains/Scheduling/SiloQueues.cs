namespace Work.Scheduling;

/// <summary>
/// Which queues each live silo serves, as a job learns them: this silo's from its options, the others' by asking their
/// executors (a silo's queues are fixed for its life). A silo not yet heard from serves nothing until it answers. For
/// <see cref="HoldFor"/> after a silo is first asked the job holds its dispatch for the answer, so its first runs
/// spread over every silo that serves its queue instead of all going to those already known; only once per silo, so a
/// silo that cannot answer never holds the job's runs back for longer. A silo that could not answer is asked again
/// no sooner than <see cref="HoldFor"/> later.
/// </summary>
internal sealed class SiloQueues(string localSilo, IReadOnlyCollection<string> localQueues)
{
    /// <summary>How long a job holds its dispatch for a silo's first answer, and how long it waits to ask again.</summary>
    public static readonly TimeSpan HoldFor = TimeSpan.FromSeconds(1);

    private readonly Dictionary<string, IReadOnlyCollection<string>> _known = new(StringComparer.Ordinal) { [localSilo] = localQueues };
    private readonly Dictionary<string, DateTimeOffset> _firstAsked = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _askAgainAt = new(StringComparer.Ordinal);
    private readonly HashSet<string> _asking = new(StringComparer.Ordinal);
    private readonly HashSet<string> _stopping = new(StringComparer.Ordinal);

    /// <summary>
    /// The silos of <paramref name="live"/> that serve <paramref name="queue"/>; those whose queues are not known yet
    /// and are to be asked now (the caller asks them and calls <see cref="Learned"/>); and until when to hold the
    /// dispatch for first answers still due (null when none is).
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

            if (!_firstAsked.TryGetValue(silo, out var first))
            {
                _firstAsked[silo] = first = now;
            }

            if (!_asking.Contains(silo) && (!_askAgainAt.TryGetValue(silo, out var again) || again <= now))
            {
                _asking.Add(silo);
                toAsk.Add(silo);
            }

            var until = first + HoldFor;
            if (until > now && (hold is null || until > hold))
            {
                hold = until;
            }
        }

        return (serving, toAsk, hold);
    }

    /// <summary>
    /// What <paramref name="silo"/> answered at <paramref name="now"/>, or null when it could not be asked (it is
    /// asked again once <see cref="HoldFor"/> has passed).
    /// </summary>
    public void Learned(string silo, IReadOnlyCollection<string>? queues, DateTimeOffset now)
    {
        _asking.Remove(silo);
        if (_stopping.Contains(silo))
        {
            // An answer given before it began to stop.
            return;
        }

        if (queues is null)
        {
            _askAgainAt[silo] = now + HoldFor;
            return;
        }

        _known[silo] = queues;
        _firstAsked.Remove(silo);
        _askAgainAt.Remove(silo);
    }

    /// <summary>
    /// <paramref name="silo"/> is stopping (its executor refused runs): it serves no queue from now on, whatever it
    /// answered before. A silo that stops does not come back under the same address and generation.
    /// </summary>
    public void Stopping(string silo)
    {
        _stopping.Add(silo);
        _known[silo] = [];
        _firstAsked.Remove(silo);
        _askAgainAt.Remove(silo);
    }
}

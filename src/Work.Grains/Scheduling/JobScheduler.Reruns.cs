namespace Work.Scheduling;

// Attempts run again because the one before was counted lost: sent only once a write has stored that loss.
internal sealed partial class JobScheduler
{
    // An activation counts an attempt lost when its lease runs out or its executor no longer holds it. That activation
    // may be a stale one: after a silo dies, Orleans can for a moment keep two activations of a job, and the executor's
    // renewals and report then reach the other one, which finishes the attempt and confirms it, so the executor forgets
    // it. The stale activation's next write fails (the other one wrote), so its decision is never stored, but a run it
    // sent before that write would still run: the same execution twice. So the next attempt of a lost one waits in
    // Pending until a write that holds the loss has succeeded; a stale activation never gets that far.
    private readonly HashSet<(string ExecutionId, int Attempt)> _unwrittenReruns = [];

    /// <summary>How many runs wait for a write to store the loss of the attempt before them.</summary>
    public int UnwrittenReruns => _unwrittenReruns.Count;

    /// <summary>
    /// Marks the reruns that <paramref name="changes"/> stored as free to go. True when any was waiting: the caller
    /// then looks for what is due.
    /// </summary>
    public bool Written(JobChanges changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        var released = false;
        foreach (var rerun in changes.Reruns)
        {
            released |= _unwrittenReruns.Remove(rerun);
        }

        return released;
    }

    private void HoldUntilWritten(PendingRun run) => _unwrittenReruns.Add((run.ExecutionId, run.Attempt));

    private bool IsUnwrittenRerun(PendingRun run) => _unwrittenReruns.Count > 0 && _unwrittenReruns.Contains((run.ExecutionId, run.Attempt));

    // Most writes hold none: those share one empty list.
    private IReadOnlyList<(string ExecutionId, int Attempt)> RerunsToWrite() => _unwrittenReruns.Count == 0 ? [] : [.. _unwrittenReruns];

    // The earliest timed run that may be sent (reruns waiting for a write come first, as they are due at once).
    private PendingRun? FirstSendable()
    {
        foreach (var run in State.Pending)
        {
            if (!IsUnwrittenRerun(run))
            {
                return run;
            }
        }

        return null;
    }
}

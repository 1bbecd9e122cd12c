namespace Work.Grains;

// A silo that stops gracefully (ExecutorDrain): its executors take no more orders, give their queued runs back, and
// let what runs finish and be recorded; what has not by the drain's deadline is abandoned to its lease.
internal sealed partial class JobExecutorGrain
{
    private static readonly Task<bool> s_taken = Task.FromResult(true);
    private static readonly Task<bool> s_refused = Task.FromResult(false);

    // Guards _stopping against orders being taken in: once it is set, nothing more is queued or started here.
    private readonly Lock _gate = new();
    private volatile bool _stopping;
    private volatile bool _abandoned;
    private volatile TaskCompletionSource? _idle;

    /// <summary>Attempts running or waiting here.</summary>
    public int RunningCount => _running.Count;

    /// <summary>Attempts that finished here and that their jobs have not confirmed as recorded.</summary>
    public int UnconfirmedCount => _unreported.Count;

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _drain.Leave(this);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Takes no more orders and gives the queued runs back to their jobs; completes once they are back and nothing
    /// runs here or waits for its job's confirmation.
    /// </summary>
    public Task StopTakingAsync()
    {
        lock (_gate)
        {
            _stopping = true;
        }

        var returns = _lanes.Select(l => ReturnWaitingAsync(l.Key, l.Value)).ToList();
        var idle = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _idle = idle;
        NoteIfIdle();
        returns.Add(idle.Task);
        return Task.WhenAll(returns);
    }

    /// <summary>The drain's deadline passed: what still runs is signalled to cancel, and is not reported when it ends.</summary>
    public void Abandon()
    {
        _abandoned = true;
        foreach (var running in _running.Values)
        {
            running.SignalCancel();
        }
    }

    // Orders that came once the silo began to stop go back to their jobs, which send them elsewhere; one this executor
    // holds already (a hand-over tried again after the first reached it) stays, so it does not run twice.
    private void GiveBackUnheld(IReadOnlyList<ExecutionOrder> orders)
    {
        foreach (var job in orders.Where(o => !Holds(o)).GroupBy(o => o.JobName))
        {
            _ = ReturnAsync(job.Key, job.ToList());
        }
    }

    private bool Holds(ExecutionOrder order)
    {
        var key = Key(order.ExecutionId, order.Attempt);
        return _running.ContainsKey(key) || _unreported.ContainsKey(key);
    }

    // Completes the drain's wait once nothing runs here and every finished attempt is confirmed.
    private void NoteIfIdle()
    {
        if (_idle is { } idle && _running.IsEmpty && _unreported.IsEmpty)
        {
            idle.TrySetResult();
        }
    }

    // An abandoned run ended: it and any run queued behind it leave without a report.
    private void ForgetAbandoned(Running running, JobLane lane)
    {
        Forget(running);
        for (var next = lane.Next(_lanes); next is not null; next = lane.Next(_lanes))
        {
            Forget(next);
        }
    }
}

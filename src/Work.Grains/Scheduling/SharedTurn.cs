namespace Work.Scheduling;

/// <summary>
/// One run of an action shared by every caller that asks for it before it starts: it starts on the next turn of the
/// caller's scheduler (after the calls already queued there), and each caller's task ends with it. Accepts that arrive
/// together share one pump this way: one dispatch per executor and one write for all of them.
/// </summary>
internal sealed class SharedTurn(Func<Task> action)
{
    private TaskCompletionSource? _pending;

    /// <summary>Completes when the run that starts after this call ends; fails if it fails.</summary>
    public Task RunAsync()
    {
        if (_pending is { } pending)
        {
            return pending.Task;
        }

        var next = _pending = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _ = StartAsync(next);
        return next.Task;
    }

    private async Task StartAsync(TaskCompletionSource next)
    {
        await Task.Yield();
        _pending = null;
        try
        {
            await action();
            next.TrySetResult();
        }
        catch (Exception ex)
        {
            next.TrySetException(ex);
        }
    }
}

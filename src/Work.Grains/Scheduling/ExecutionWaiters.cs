namespace Work.Scheduling;

/// <summary>Callers waiting for executions of one job to finish, each for a bounded time.</summary>
internal sealed class ExecutionWaiters(TimeProvider time)
{
    private readonly Dictionary<string, List<TaskCompletionSource<JobExecution>>> _waiters = new(StringComparer.Ordinal);

    /// <summary>How many executions are waited for.</summary>
    public int Count => _waiters.Count;

    /// <summary>The execution's final record once it finishes, or null if it has not within <paramref name="maxWait"/>.</summary>
    public async Task<JobExecution?> WaitAsync(string executionId, TimeSpan maxWait)
    {
        var waiter = new TaskCompletionSource<JobExecution>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_waiters.TryGetValue(executionId, out var list))
        {
            _waiters[executionId] = list = [];
        }

        list.Add(waiter);
        try
        {
            return await waiter.Task.WaitAsync(maxWait < TimeSpan.Zero ? TimeSpan.Zero : maxWait, time);
        }
        catch (TimeoutException)
        {
            return null;
        }
        finally
        {
            if (_waiters.TryGetValue(executionId, out var remaining) && remaining.Remove(waiter) && remaining.Count == 0)
            {
                _waiters.Remove(executionId);
            }
        }
    }

    /// <summary>Answers the waiters of each finished execution.</summary>
    public void Complete(IEnumerable<JobExecution> finished)
    {
        foreach (var execution in finished)
        {
            if (_waiters.Remove(execution.ExecutionId, out var waiters))
            {
                foreach (var waiter in waiters)
                {
                    waiter.TrySetResult(execution);
                }
            }
        }
    }

    /// <summary>Fails every waiter with <paramref name="error"/> (the job was deleted).</summary>
    public void FailAll(Exception error)
    {
        foreach (var waiters in _waiters.Values.ToList())
        {
            foreach (var waiter in waiters)
            {
                waiter.TrySetException(error);
            }
        }

        _waiters.Clear();
    }
}

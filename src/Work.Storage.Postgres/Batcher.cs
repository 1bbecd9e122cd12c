using System.Diagnostics;

namespace Work.Storage.Postgres;

/// <summary>
/// Calls that wait at the same moment, taken together: up to <c>maxBatch</c> at a time, with <c>loops</c> batches on
/// their way at once. A call that finds a batch free starts it at once, on the caller's thread up to the batch's first
/// wait (its statement is on the wire before the caller's turn ends, with no hop to the thread pool); calls that
/// arrive while every batch is on its way wait for one to end and go in its next round. The batch's handler settles
/// every call it is given, also when it fails.
/// </summary>
internal sealed class Batcher<T> : IAsyncDisposable
{
    private readonly Lock _lock = new();
    private readonly Queue<T> _waiting = new();
    private readonly int _maxBatch;
    private readonly int _loops;
    private readonly Func<List<T>, Task> _handle;
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _running;
    private bool _closed;

    public Batcher(int maxBatch, int loops, Func<List<T>, Task> handle)
    {
        _maxBatch = maxBatch;
        _loops = loops;
        _handle = handle;
    }

    /// <summary>Queues <paramref name="call"/>, starting a batch if one is free; false once the batcher is closed.</summary>
    public bool TryAdd(T call)
    {
        List<T> batch;
        lock (_lock)
        {
            if (_closed)
            {
                return false;
            }

            _waiting.Enqueue(call);
            if (_running == _loops)
            {
                return true;
            }

            _running++;
            batch = Take();
        }

        Start(batch);
        return true;
    }

    /// <summary>Takes no more calls and waits for those taken.</summary>
    public async ValueTask DisposeAsync()
    {
        lock (_lock)
        {
            _closed = true;
            if (_running == 0)
            {
                _drained.TrySetResult();
            }
        }

        await _drained.Task;
    }

    // Runs outside the caller's task scheduler (a grain's) and without its context (a batch serves many callers): the
    // batch's continuations go to the thread pool.
    private void Start(List<T> batch)
    {
        var caller = Activity.Current;
        Activity.Current = null;
        try
        {
            using (ExecutionContext.SuppressFlow())
            {
                new Task<Task>(() => RunAsync(batch)).RunSynchronously(TaskScheduler.Default);
            }
        }
        finally
        {
            Activity.Current = caller;
        }
    }

    private async Task RunAsync(List<T> batch)
    {
        while (true)
        {
            try
            {
                await _handle(batch).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                // The handler settles its calls; one that throws instead is a defect, and must not stop the batcher.
                Trace.TraceError($"A batch of {batch.Count} failed unsettled: {ex}");
            }

            lock (_lock)
            {
                if (_waiting.Count == 0)
                {
                    _running--;
                    if (_running == 0 && _closed)
                    {
                        _drained.TrySetResult();
                    }

                    return;
                }

                batch = Take();
            }
        }
    }

    private List<T> Take()
    {
        var batch = new List<T>(Math.Min(_waiting.Count, _maxBatch));
        while (batch.Count < _maxBatch && _waiting.TryDequeue(out var call))
        {
            batch.Add(call);
        }

        return batch;
    }
}

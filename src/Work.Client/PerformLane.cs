using System.Diagnostics;
using Work.Cluster;

namespace Work.Client;

/// <summary>
/// The performs of one client to one job. A perform that finds nothing under way is sent at once; performs that
/// arrive while a call is under way wait for it and then go together in one <see cref="IConcurrentJobGrain.PerformManyAsync"/>
/// call. No timer and no added wait: a lone perform is one call, and a thousand concurrent ones are a few calls, each
/// answered once the job has recorded it durably. A lane that has nothing left to send closes and tells
/// <paramref name="idle"/>, so a client keeps lanes only for jobs it is performing on.
/// </summary>
internal sealed class PerformLane(IConcurrentJobGrain job, Action<PerformLane>? idle = null)
{
    private readonly Lock _lock = new();
    private List<Queued> _queued = [];
    private bool _sending;
    private bool _closed;

    /// <summary>Whether the lane closed after going idle; a closed lane takes no more performs.</summary>
    public bool Closed
    {
        get
        {
            lock (_lock)
            {
                return _closed;
            }
        }
    }

    /// <summary>Sends <paramref name="request"/>: its id once the job recorded it, or null when the lane closed meanwhile.</summary>
    public Task<string>? TryPerform(PerformRequest request)
    {
        // The caller's trace context travels with the request: the call that carries it may carry others too.
        if (request.TraceParent is null && Activity.Current is { IdFormat: ActivityIdFormat.W3C } current)
        {
            request = request with { TraceParent = current.Id, TraceState = current.TraceStateString };
        }

        var queued = new Queued(request, new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously));
        bool start;
        lock (_lock)
        {
            if (_closed)
            {
                return null;
            }

            _queued.Add(queued);
            start = !_sending;
            _sending = true;
        }

        if (start)
        {
            // Sent from here, without a hop to the thread pool, but with no caller's context: the calls it makes are on
            // behalf of every caller queued (each request carries its own trace context).
            var caller = Activity.Current;
            Activity.Current = null;
            try
            {
                using (ExecutionContext.SuppressFlow())
                {
                    _ = SendAsync();
                }
            }
            finally
            {
                Activity.Current = caller;
            }
        }

        return queued.Id.Task;
    }

    private async Task SendAsync()
    {
        while (true)
        {
            List<Queued>? batch;
            lock (_lock)
            {
                if (_queued.Count == 0)
                {
                    // Idle: closed, so a perform arriving now goes to a new lane.
                    _sending = false;
                    _closed = true;
                    batch = null;
                }
                else if (_queued.Count <= PerformRequest.MaxPerCall)
                {
                    batch = _queued;
                    _queued = [];
                }
                else
                {
                    batch = _queued.GetRange(0, PerformRequest.MaxPerCall);
                    _queued.RemoveRange(0, PerformRequest.MaxPerCall);
                }
            }

            if (batch is null)
            {
                idle?.Invoke(this);
                return;
            }

            try
            {
                var ids = await job.PerformManyAsync(batch.ConvertAll(q => q.Request));
                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Id.TrySetResult(ids[i]);
                }
            }
            catch (Exception ex)
            {
                // All or none: the job accepted none of them.
                foreach (var queued in batch)
                {
                    queued.Id.TrySetException(ex);
                }
            }
        }
    }

    private readonly record struct Queued(PerformRequest Request, TaskCompletionSource<string> Id);
}

namespace Work.Tests.Simulation;

/// <summary>
/// A task scheduler that runs nothing by itself: the test runs its queued work items one at a time, on its own thread,
/// picking which one next. Code started on it (and every continuation it awaits, which comes back to it) behaves like
/// a grain activation's: one turn at a time, interleaved at awaits. Picking at random from the queue explores the
/// orders in which calls and storage answers can arrive.
/// </summary>
internal sealed class DeterministicTaskScheduler : TaskScheduler
{
    private readonly Lock _lock = new();
    private readonly List<Task> _queue = [];

    /// <summary>How many work items wait.</summary>
    public int Pending
    {
        get
        {
            lock (_lock)
            {
                return _queue.Count;
            }
        }
    }

    /// <summary>
    /// Starts <paramref name="work"/> on this scheduler; it runs when the test runs it. The returned task completes in
    /// one of this scheduler's turns (an unwrapped task would complete later on the thread pool).
    /// </summary>
    public Task<T> Start<T>(Func<Task<T>> work)
    {
        var done = new TaskCompletionSource<T>();
        _ = Task.Factory.StartNew(
            async () =>
            {
                try
                {
                    done.SetResult(await work());
                }
                catch (Exception ex)
                {
                    done.SetException(ex);
                }
            },
            CancellationToken.None,
            TaskCreationOptions.None,
            this);
        return done.Task;
    }

    /// <inheritdoc cref="Start{T}(Func{Task{T}})"/>
    public Task Start(Func<Task> work) => Start(async () =>
    {
        await work();
        return true;
    });

    /// <summary>Runs one queued work item, chosen by <paramref name="pick"/> (given the count); false when none waits.</summary>
    public bool RunOne(Func<int, int> pick)
    {
        Task task;
        lock (_lock)
        {
            if (_queue.Count == 0)
            {
                return false;
            }

            var index = pick(_queue.Count);
            task = _queue[index];
            _queue.RemoveAt(index);
        }

        // With no synchronization context, awaits come back to this scheduler (a test runner's context would take them).
        var context = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(null);
        try
        {
            TryExecuteTask(task);
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(context);
        }

        return true;
    }

    /// <summary>Runs work items until none waits (at most <paramref name="limit"/>, against livelock).</summary>
    public void RunUntilIdle(Func<int, int> pick, int limit = 100_000)
    {
        for (var i = 0; i < limit && RunOne(pick); i++)
        {
        }

        if (Pending > 0)
        {
            throw new InvalidOperationException($"Still {Pending} work items after {limit}: something keeps queueing work.");
        }
    }

    /// <summary>Forgets every queued work item: the activation died.</summary>
    public void Abandon()
    {
        lock (_lock)
        {
            _queue.Clear();
        }
    }

    protected override void QueueTask(Task task)
    {
        lock (_lock)
        {
            _queue.Add(task);
        }
    }

    // Never inline: every continuation waits its turn, as on an activation.
    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) => false;

    protected override IEnumerable<Task> GetScheduledTasks()
    {
        lock (_lock)
        {
            return _queue.ToList();
        }
    }
}

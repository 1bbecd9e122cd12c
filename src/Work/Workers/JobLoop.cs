namespace Work.Workers;

/// <summary>What a loop performs: every interval, or for every received item.</summary>
public enum JobLoopKind
{
    /// <summary>A recurring job on a fixed grid.</summary>
    Every,

    /// <summary>A job per received item.</summary>
    Receive,
}

/// <summary>
/// A running <c>PerformEvery</c> or <c>PerformReceive</c> loop: its counters, a way to cancel it, and a task that
/// completes when it has ended and its executions have finished.
/// </summary>
public sealed class JobLoop
{
    private readonly CancellationTokenSource _cancel;
    private long _runs;
    private long _skipped;
    private long _nextDueTicks = -1;

    internal JobLoop(string id, JobLoopKind kind, CancellationToken stopping)
    {
        Id = id;
        Kind = kind;
        _cancel = CancellationTokenSource.CreateLinkedTokenSource(stopping);
    }

    /// <summary>The loop's id.</summary>
    public string Id { get; }

    /// <summary>Every or Receive.</summary>
    public JobLoopKind Kind { get; }

    /// <summary>Executions the loop started.</summary>
    public long Runs => Interlocked.Read(ref _runs);

    /// <summary>Recurring ticks not run because the previous run was still going (or the loop fell behind).</summary>
    public long SkippedTicks => Interlocked.Read(ref _skipped);

    /// <summary>The next due time of a recurring loop; null for a receive loop or when it ended.</summary>
    public DateTimeOffset? NextDueAt
    {
        get
        {
            var ticks = Interlocked.Read(ref _nextDueTicks);
            return ticks < 0 || Completion.IsCompleted ? null : new DateTimeOffset(ticks, TimeSpan.Zero);
        }
    }

    /// <summary>Completes when the loop has ended and its executions have finished.</summary>
    public Task Completion { get; private set; } = Task.CompletedTask;

    internal CancellationToken Token => _cancel.Token;

    /// <summary>Stops the loop; executions already started finish normally.</summary>
    public void Cancel() => _cancel.Cancel();

    internal void Run(Func<JobLoop, Task> body) => Completion = RunCoreAsync(body);

    internal void CountRun() => Interlocked.Increment(ref _runs);

    internal void CountSkipped(long ticks) => Interlocked.Add(ref _skipped, ticks);

    internal void SetNextDue(DateTimeOffset due) => Interlocked.Exchange(ref _nextDueTicks, due.UtcTicks);

    private async Task RunCoreAsync(Func<JobLoop, Task> body)
    {
        try
        {
            await Task.Yield();
            await body(this);
        }
        catch (OperationCanceledException) when (_cancel.IsCancellationRequested)
        {
            // Cancelled or stopped: a normal end.
        }
        finally
        {
            _cancel.Dispose();
        }
    }
}

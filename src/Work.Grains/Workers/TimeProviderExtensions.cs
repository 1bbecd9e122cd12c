namespace Work.Workers;

internal static class TimeProviderExtensions
{
    /// <summary>
    /// Waits until the clock reads <paramref name="due"/> or later. The clock is read again after the timer is made,
    /// so a clock that moved on meanwhile (a busy machine, or a test driving a fake clock) cannot push the wait past
    /// the due time.
    /// </summary>
    public static async Task DelayUntilAsync(this TimeProvider time, DateTimeOffset due, CancellationToken cancellationToken)
    {
        var delay = due - time.GetUtcNow();
        if (delay <= TimeSpan.Zero)
        {
            return;
        }

        var elapsed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var timer = time.CreateTimer(static state => ((TaskCompletionSource)state!).TrySetResult(), elapsed, delay, Timeout.InfiniteTimeSpan);
        if (time.GetUtcNow() >= due)
        {
            return;
        }

        await elapsed.Task.WaitAsync(cancellationToken);
    }
}

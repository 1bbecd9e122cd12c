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
        // Timers may fire a little before the wall clock reaches the due time: wait again for the rest, so a
        // scheduled run never starts early.
        for (var delay = due - time.GetUtcNow(); delay > TimeSpan.Zero; delay = due - time.GetUtcNow())
        {
            var elapsed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using var timer = time.CreateTimer(static state => ((TaskCompletionSource)state!).TrySetResult(), elapsed, delay, Timeout.InfiniteTimeSpan);
            if (time.GetUtcNow() >= due)
            {
                return;
            }

            await elapsed.Task.WaitAsync(cancellationToken);
        }
    }
}

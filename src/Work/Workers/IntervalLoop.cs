namespace Work.Workers;

/// <summary>
/// The recurring loop shared by workers and concurrent jobs: ticks on the fixed grid <c>start + k × interval</c>, so
/// lateness never accumulates into drift.
/// </summary>
internal static class IntervalLoop
{
    /// <summary>
    /// Runs until cancelled. <paramref name="tick"/> gets the due time and returns the run's task, or null when it
    /// could not run (counted as skipped). With <paramref name="sync"/> the loop waits for each run and skips, and
    /// counts, the grid points that passed meanwhile. When the loop itself falls behind it runs the latest passed
    /// point once and counts the older ones as skipped.
    /// </summary>
    public static async Task RunAsync(
        TimeProvider time,
        DateTimeOffset start,
        TimeSpan interval,
        bool runImmediately,
        bool sync,
        JobLoop loop,
        Func<DateTimeOffset, Task?> tick)
    {
        var token = loop.Token;
        long k = runImmediately ? 0 : 1;
        while (!token.IsCancellationRequested)
        {
            var due = start + (interval * k);
            loop.SetNextDue(due);
            var now = time.GetUtcNow();
            if (due > now)
            {
                await time.DelayUntilAsync(due, token);
                now = time.GetUtcNow();
            }

            var latest = GridIndexAtOrBefore(start, interval, now);
            if (latest > k)
            {
                loop.CountSkipped(latest - k);
                k = latest;
                due = start + (interval * k);
            }

            var run = tick(due);
            if (run is null)
            {
                loop.CountSkipped(1);
                k++;
                continue;
            }

            loop.CountRun();
            if (!sync)
            {
                k++;
                continue;
            }

            await run;
            var next = Math.Max(k + 1, GridIndexAtOrAfter(start, interval, time.GetUtcNow()));
            loop.CountSkipped(next - (k + 1));
            k = next;
        }
    }

    private static long GridIndexAtOrBefore(DateTimeOffset start, TimeSpan interval, DateTimeOffset now) =>
        now <= start ? 0 : (now - start).Ticks / interval.Ticks;

    private static long GridIndexAtOrAfter(DateTimeOffset start, TimeSpan interval, DateTimeOffset now) =>
        now <= start ? 0 : ((now - start).Ticks + interval.Ticks - 1) / interval.Ticks;
}

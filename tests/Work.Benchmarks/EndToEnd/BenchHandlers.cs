using Work.Pipeline;

namespace Work.Benchmarks.EndToEnd;

/// <summary>Handlers of the end-to-end run, with counters the run reads.</summary>
internal static class BenchHandlers
{
    public const string Noop = "bench-noop";
    public const string Sleep = "bench-sleep";

    private static int s_running;
    private static int s_maxRunning;
    private static long s_noops;
    private static long s_target = long.MaxValue;
    private static TaskCompletionSource s_reached = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public static long Noops => Interlocked.Read(ref s_noops);

    public static int MaxRunning => Volatile.Read(ref s_maxRunning);

    public static void Reset()
    {
        Interlocked.Exchange(ref s_noops, 0);
        Volatile.Write(ref s_maxRunning, 0);
    }

    /// <summary>Completes once <paramref name="count"/> more no-ops have run.</summary>
    public static Task WhenNoopsAsync(long count)
    {
        s_reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Interlocked.Exchange(ref s_target, Interlocked.Read(ref s_noops) + count);
        if (Interlocked.Read(ref s_noops) >= Interlocked.Read(ref s_target))
        {
            s_reached.TrySetResult();
        }

        return s_reached.Task;
    }

    public static Task NoopAsync(JobContext context)
    {
        if (Interlocked.Increment(ref s_noops) >= Interlocked.Read(ref s_target))
        {
            s_reached.TrySetResult();
        }

        return Task.CompletedTask;
    }

    public static async Task SleepAsync(JobContext context)
    {
        var now = Interlocked.Increment(ref s_running);
        var seen = Volatile.Read(ref s_maxRunning);
        while (now > seen && Interlocked.CompareExchange(ref s_maxRunning, now, seen) != seen)
        {
            seen = Volatile.Read(ref s_maxRunning);
        }

        try
        {
            await Task.Delay(context.Args.GetOrDefault("ms", 50), context.CancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref s_running);
        }
    }
}

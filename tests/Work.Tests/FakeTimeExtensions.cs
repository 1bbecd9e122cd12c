using Microsoft.Extensions.Time.Testing;

namespace Work.Tests;

internal static class FakeTimeExtensions
{
    /// <summary>
    /// Advances the clock a step at a time until <paramref name="task"/> completes: for code that creates its timer
    /// at a moment the test cannot observe. Each step yields so the code under test can make progress.
    /// </summary>
    public static async Task AdvanceUntilAsync(this FakeTimeProvider time, TimeSpan step, Task task)
    {
        using var bound = new CancellationTokenSource(Signal.SafetyBound);
        while (!task.IsCompleted)
        {
            bound.Token.ThrowIfCancellationRequested();
            time.Advance(step);
            await Task.Yield();
        }

        await task;
    }
}

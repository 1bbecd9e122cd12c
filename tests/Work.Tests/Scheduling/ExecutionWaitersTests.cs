using Microsoft.Extensions.Time.Testing;
using Work.Scheduling;

namespace Work.Tests.Scheduling;

public sealed class ExecutionWaitersTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero));

    private static JobExecution Done(string id) => new() { ExecutionId = id, Handler = "h", Attempt = 1, Status = JobStatus.Success };

    [Fact]
    public async Task EveryWaiterOfAnExecutionGetsItsRecord()
    {
        var waiters = new ExecutionWaiters(_time);
        var first = waiters.WaitAsync("a", TimeSpan.FromSeconds(10));
        var second = waiters.WaitAsync("a", TimeSpan.FromSeconds(10));
        var other = waiters.WaitAsync("b", TimeSpan.FromSeconds(10));

        waiters.Complete([Done("a")]);

        Assert.Equal("a", (await first)!.ExecutionId);
        Assert.Equal("a", (await second)!.ExecutionId);
        Assert.False(other.IsCompleted);
        Assert.Equal(1, waiters.Count);
    }

    [Fact]
    public async Task AWaitEndsWithNothingWhenItsTimeIsUp()
    {
        var waiters = new ExecutionWaiters(_time);
        var wait = waiters.WaitAsync("a", TimeSpan.FromSeconds(10));

        _time.Advance(TimeSpan.FromSeconds(10));

        Assert.Null(await wait);
        Assert.Equal(0, waiters.Count);
    }

    [Fact]
    public async Task FailAllTellsEveryWaiter()
    {
        var waiters = new ExecutionWaiters(_time);
        var wait = waiters.WaitAsync("a", TimeSpan.FromSeconds(10));

        waiters.FailAll(new KeyNotFoundException("Job 'x' was deleted."));

        var error = await Assert.ThrowsAsync<KeyNotFoundException>(() => wait);
        Assert.Contains("deleted", error.Message, StringComparison.Ordinal);
    }
}

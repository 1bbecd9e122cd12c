using Microsoft.Extensions.Time.Testing;
using Orleans.Storage;
using Work.Scheduling;
using Work.Tests.Simulation;

namespace Work.Tests.Scheduling;

public sealed class GroupCommitTests
{
    private static readonly TimeSpan s_delay = TimeSpan.FromMilliseconds(10);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly DeterministicTaskScheduler _turns = new();
    private readonly List<TaskCompletionSource> _writes = [];
    private readonly List<Exception> _failures = [];
    private bool _retry = true;

    private GroupCommit Create() => new(
        () =>
        {
            var write = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _writes.Add(write);
            return write.Task;
        },
        s_delay,
        new FakeJobTimers(_time, _turns),
        error =>
        {
            _failures.Add(error);
            return _retry;
        });

    private void Run() => _turns.RunUntilIdle(_ => 0);

    private Task Commit(GroupCommit commit) => _turns.Start(commit.CommitAsync);

    [Fact]
    public void ChangesMadeWhileAWriteIsUnderWayShareTheNextWrite()
    {
        var commit = Create();
        var first = Commit(commit);
        Run();
        var later = Enumerable.Range(0, 3).Select(_ => Commit(commit)).ToList();
        Run();

        Assert.Single(_writes);
        _writes[0].SetResult();
        Run();

        Assert.True(first.IsCompletedSuccessfully);
        Assert.Equal(2, _writes.Count);
        Assert.All(later, t => Assert.False(t.IsCompleted));
        _writes[1].SetResult();
        Run();
        Assert.All(later, t => Assert.True(t.IsCompletedSuccessfully));
        Assert.Equal(2, _writes.Count);
        Assert.False(commit.Busy);
    }

    [Fact]
    public void AChangeNobodyWaitsForIsWrittenWithinTheDelay()
    {
        var commit = Create();
        _turns.Start(() =>
        {
            commit.CommitSoon();
            commit.CommitSoon();
            return Task.CompletedTask;
        });
        Run();

        _time.Advance(s_delay - TimeSpan.FromMilliseconds(1));
        Run();
        Assert.Empty(_writes);
        Assert.True(commit.Busy);

        _time.Advance(TimeSpan.FromMilliseconds(1));
        Run();
        Assert.Single(_writes);
    }

    [Fact]
    public void AnUrgentCommitDoesNotWaitForTheDelayAndCarriesWhatWaited()
    {
        var commit = Create();
        _turns.Start(() =>
        {
            commit.CommitSoon();
            return Task.CompletedTask;
        });
        var urgent = Commit(commit);
        Run();

        Assert.Single(_writes);
        _writes[0].SetResult();
        Run();
        Assert.True(urgent.IsCompletedSuccessfully);

        // The delay timer was disarmed with the write: nothing more is written.
        _time.Advance(TimeSpan.FromSeconds(1));
        Run();
        Assert.Single(_writes);
    }

    [Fact]
    public void AFailedWriteFailsItsWaitersAndIsTriedAgainAfterASecondEvenIfNothingChanges()
    {
        var commit = Create();
        var waiter = Commit(commit);
        Run();
        var error = new IOException("the database is down");
        _writes[0].SetException(error);
        Run();

        Assert.Same(error, waiter.Exception!.InnerException);
        Assert.Equal([error], _failures);
        _time.Advance(GroupCommit.RetryDelay - TimeSpan.FromMilliseconds(1));
        Run();
        Assert.Single(_writes);

        _time.Advance(TimeSpan.FromMilliseconds(1));
        Run();
        Assert.Equal(2, _writes.Count);
        _writes[1].SetResult();
        Run();
        Assert.False(commit.Busy);
    }

    [Fact]
    public void AWriteAnotherActivationBeatIsNotTriedAgain()
    {
        _retry = false;
        var commit = Create();
        var waiter = Commit(commit);
        Run();
        _writes[0].SetException(new InconsistentStateException("another activation wrote"));
        Run();
        _time.Advance(TimeSpan.FromMinutes(1));
        Run();

        Assert.IsType<InconsistentStateException>(waiter.Exception!.InnerException);
        Assert.Single(_writes);
    }

    [Fact]
    public void FlushWritesWhatWaitsAndIsDoneAtOnceWhenNothingDoes()
    {
        var commit = Create();
        var idle = _turns.Start(commit.FlushAsync);
        Run();
        Assert.True(idle.IsCompletedSuccessfully);
        Assert.Empty(_writes);

        _turns.Start(() =>
        {
            commit.CommitSoon();
            return Task.CompletedTask;
        });
        var flush = _turns.Start(commit.FlushAsync);
        Run();
        Assert.Single(_writes);
        _writes[0].SetResult();
        Run();
        Assert.True(flush.IsCompletedSuccessfully);
    }
}

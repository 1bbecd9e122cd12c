using Microsoft.Extensions.Time.Testing;
using Work.Grains;
using Work.Scheduling;

namespace Work.Tests.Scheduling;

/// <summary>
/// A job bound to its stream, on a fake clock: it takes an item only while started, bound to that provider and
/// holding fewer than twice its allowed workers; an item it holds is not taken twice; an ended item is forgotten
/// (nothing to settle); stopping keeps the items it took and has not started, deleting drops them.
/// </summary>
public sealed class JobSchedulerStreamItemTests
{
    private static readonly TimeSpan s_lease = TimeSpan.FromSeconds(30);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero));

    private JobScheduler Create(int maxWorkers, int runAhead = 0)
    {
        var scheduler = new JobScheduler("job", new JobState(), _time, new WorkClusterOptions { RunAhead = runAhead, EarlyHandOver = TimeSpan.Zero });
        scheduler.Define(new JobDefinition(new Job("h")) { MaxWorkers = maxWorkers, Receive = ReceiveBinding.FromStream() });
        return scheduler;
    }

    private static WorkItem Item(long sequence, int index = 0, string? key = null) =>
        new() { Source = WorkStreams.ProviderName, Id = sequence, Index = index, IdempotencyKey = key };

    private static ClaimedItem Taken(WorkItem item) => new(item, null);

    private JobExecution Result(PendingRun run, JobStatus status) => new()
    {
        ExecutionId = run.ExecutionId, Handler = "h", Attempt = run.Attempt, Status = status,
        ScheduledAt = run.DueAt, StartedAt = _time.GetUtcNow(), FinishedAt = _time.GetUtcNow(), Worker = "silo-a",
    };

    [Fact]
    public void AJobTakesStreamItemsOnlyWhileStartedBoundToThatProviderAndUnderTwiceItsWorkers()
    {
        var scheduler = Create(maxWorkers: 2);
        var now = _time.GetUtcNow();
        Assert.False(scheduler.StreamRoom(WorkStreams.ProviderName, now));

        scheduler.Start();
        Assert.False(scheduler.StreamRoom("other", now));
        Assert.Equal(0, scheduler.ItemsWanted(now));
        for (var i = 0; i < 4; i++)
        {
            Assert.True(scheduler.StreamRoom(WorkStreams.ProviderName, now));
            Assert.Equal(1, scheduler.AcceptStreamItems([new ClaimedItem(Item(i), JobArgs.From(new { n = i }))]));
        }

        Assert.False(scheduler.StreamRoom(WorkStreams.ProviderName, now));
        var due = scheduler.TakeDue(now, []);
        Assert.Equal([0L, 1L], due.Select(r => r.Item!.Id));
        Assert.Equal(1, due[1].Args!.Get<int>("n"));

        // One ends: it is forgotten, nothing to settle, and there is room for one more.
        scheduler.Dispatched(due[0], "silo-a", now, s_lease);
        var finished = new List<JobExecution>();
        Assert.True(scheduler.Report(Result(due[0], JobStatus.InternalError), scheduler.State.InFlight[due[0].ExecutionId].Lease, finished));
        Assert.False(scheduler.ItemsEnded(finished));
        Assert.Empty(scheduler.ItemsToSettle());
        Assert.Equal(3, scheduler.State.Items.Count);
        Assert.True(scheduler.StreamRoom(WorkStreams.ProviderName, now));
    }

    [Fact]
    public void ABatchPublishedTogetherIsTakenTogether()
    {
        var scheduler = Create(maxWorkers: 1);
        scheduler.Start();
        Assert.Equal(5, scheduler.AcceptStreamItems([.. Enumerable.Range(0, 5).Select(i => Taken(Item(1, index: i)))]));
        Assert.False(scheduler.StreamRoom(WorkStreams.ProviderName, _time.GetUtcNow()));
    }

    [Fact]
    public void AnItemHeldAlreadyIsNotTakenTwiceByKeyOrByPosition()
    {
        var scheduler = Create(maxWorkers: 4);
        scheduler.Start();
        Assert.Equal(1, scheduler.AcceptStreamItems([Taken(Item(7, key: "order-7")), Taken(Item(99, key: "order-7"))]));
        Assert.Equal(0, scheduler.AcceptStreamItems([Taken(Item(99, key: "order-7"))]));
        Assert.Equal(2, scheduler.AcceptStreamItems([Taken(Item(8, index: 1)), Taken(Item(8, index: 1)), Taken(Item(8, index: 2))]));
        Assert.Equal(0, scheduler.AcceptStreamItems([Taken(Item(8, index: 2))]));
        Assert.Equal(3, scheduler.State.Items.Count);
        Assert.Equal(3, scheduler.PendingCount);
    }

    [Fact]
    public void StoppingKeepsTheStreamItemsTakenAndNotStartedAndDeletingDropsThem()
    {
        var scheduler = Create(maxWorkers: 1, runAhead: 1);
        scheduler.Start();
        for (var i = 0; i < 2; i++)
        {
            scheduler.AcceptStreamItems([Taken(Item(i))]);
        }

        var now = _time.GetUtcNow();
        var running = scheduler.TakeDue(now, []).Single();
        scheduler.Dispatched(running, "silo-a", now, s_lease);

        // The second waits on the executor whose slot it will take.
        var (ahead, executor) = scheduler.TakeAhead(now, ["silo-a"]).Single();
        scheduler.Dispatched(ahead, executor, now, s_lease, queued: true);
        scheduler.AcceptStreamItems([Taken(Item(2))]);
        Assert.False(scheduler.StreamRoom(WorkStreams.ProviderName, now));

        // Stopped: the running one is signalled as any running execution; the waiting ones stay and run.
        var cancelled = new List<JobExecution>();
        var signalled = scheduler.Stop(cancelled);
        Assert.Equal([running.ExecutionId], signalled.Select(r => r.Run.ExecutionId));
        Assert.Empty(cancelled);
        Assert.False(scheduler.State.InFlight[ahead.ExecutionId].Cancelled);
        Assert.Equal(1, scheduler.PendingCount);
        Assert.False(scheduler.StreamRoom(WorkStreams.ProviderName, now));

        // Deleted: everything goes, items too.
        scheduler.Delete(cancelled);
        Assert.Single(cancelled);
        Assert.Empty(scheduler.State.Items);
    }
}

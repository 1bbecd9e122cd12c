using Microsoft.Extensions.Time.Testing;
using Work.Grains;
using Work.Scheduling;

namespace Work.Tests.Scheduling;

/// <summary>
/// A job bound to a source, on a fake clock: how many items it wants (twice its allowed workers, less those it
/// holds, none while stopped), each item one run carrying the item, a redelivered item not run twice, and what becomes
/// of each item when its execution ends.
/// </summary>
public sealed class JobSchedulerItemTests
{
    private static readonly TimeSpan s_lease = TimeSpan.FromSeconds(30);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero));

    private JobScheduler Create(int maxWorkers, TimeSpan startInterval = default)
    {
        var scheduler = new JobScheduler("job", new JobState(), _time, new WorkClusterOptions { RunAhead = 0, EarlyHandOver = TimeSpan.Zero });
        scheduler.Define(new JobDefinition(new Job("h")) { MaxWorkers = maxWorkers, StartInterval = startInterval, Receive = new ReceiveBinding("orders") });
        return scheduler;
    }

    private static ClaimedItem Item(long id, int deliveries = 1) =>
        new(new WorkItem { Source = "orders", Id = id, Deliveries = deliveries }, JobArgs.From(new { n = id }));

    private JobExecution Result(PendingRun run, JobStatus status) => new()
    {
        ExecutionId = run.ExecutionId, Handler = "h", Attempt = run.Attempt, Status = status, Error = status == JobStatus.Success ? null : "it broke",
        ScheduledAt = run.DueAt, StartedAt = _time.GetUtcNow(), FinishedAt = _time.GetUtcNow(), Worker = "silo-a",
    };

    [Fact]
    public void AStoppedJobWantsNoItemsAndAStartedOneTwiceItsAllowedWorkersLessWhatItHolds()
    {
        var scheduler = Create(maxWorkers: 4, startInterval: TimeSpan.FromSeconds(10));
        Assert.Equal(0, scheduler.ItemsWanted(_time.GetUtcNow()));
        Assert.Null(scheduler.Receiving);

        scheduler.Start();
        Assert.Equal("orders", scheduler.Receiving!.Source);
        Assert.Equal(2, scheduler.ItemsWanted(_time.GetUtcNow()));

        // The ramp allows more workers: more items.
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(8, scheduler.ItemsWanted(_time.GetUtcNow()));
        Assert.Equal(3, scheduler.AcceptItems([Item(1), Item(2), Item(3)]));
        Assert.Equal(5, scheduler.ItemsWanted(_time.GetUtcNow()));
        Assert.True(scheduler.NeedsWaking);

        scheduler.Stop([]);
        Assert.Equal(0, scheduler.ItemsWanted(_time.GetUtcNow()));
    }

    [Fact]
    public void EachItemBecomesOneRunCarryingItAndARedeliveredItemIsNotRunTwice()
    {
        var scheduler = Create(maxWorkers: 2);
        scheduler.Start();
        scheduler.AcceptItems([Item(10), Item(11)]);

        // Item 10 comes again (its visibility ran out while this job held it): nothing new.
        Assert.Equal(1, scheduler.AcceptItems([Item(10, deliveries: 2), Item(12)]));
        var due = scheduler.TakeDue(_time.GetUtcNow(), []);
        Assert.Equal([10L, 11L], due.Select(r => r.Item!.Id));
        Assert.Equal(10, due[0].Args!.Get<int>("n"));
        Assert.Equal(3, scheduler.State.Items.Count);
    }

    [Fact]
    public void ASuccessIsAcknowledgedAFailurePastRetriesIsDeadAndAStoppedJobsItemsGoBack()
    {
        var scheduler = Create(maxWorkers: 3);
        scheduler.Start();
        scheduler.AcceptItems([Item(1), Item(2), Item(3)]);
        var runs = scheduler.TakeDue(_time.GetUtcNow(), []);
        foreach (var run in runs)
        {
            scheduler.Dispatched(run, "silo-a", _time.GetUtcNow(), s_lease);
        }

        var finished = new List<JobExecution>();
        Assert.True(scheduler.Report(Result(runs[0], JobStatus.Success), scheduler.State.InFlight[runs[0].ExecutionId].Lease, finished));
        Assert.True(scheduler.Report(Result(runs[1], JobStatus.InternalError), scheduler.State.InFlight[runs[1].ExecutionId].Lease, finished));
        Assert.True(scheduler.ItemsEnded(finished));

        // The records name the items.
        Assert.Equal([1L, 2L], finished.Select(e => e.ItemId!.Value));
        var settle = scheduler.ItemsToSettle().ToDictionary(s => s.Item.Item.Id, s => s.Item);
        Assert.Equal(ItemSettlement.Acknowledge, settle[1].Settlement);
        Assert.Equal((ItemSettlement.DeadLetter, JobStatus.InternalError, "it broke"), (settle[2].Settlement, settle[2].Status, settle[2].Error));

        // Stopped while item 3 runs: when it ends, it goes back to the source.
        var stopped = new List<JobExecution>();
        scheduler.Stop(stopped);
        var last = new List<JobExecution>();
        Assert.True(scheduler.Report(Result(runs[2], JobStatus.NoResponse), scheduler.State.InFlight[runs[2].ExecutionId].Lease, last));
        Assert.True(scheduler.ItemsEnded(last));
        Assert.Equal(ItemSettlement.Release, scheduler.ItemsToSettle().Single(s => s.Item.Item.Id == 3).Item.Settlement);

        // Once written to the source, the job forgets them.
        scheduler.ItemsSettled(scheduler.ItemsToSettle().Select(s => s.ExecutionId));
        Assert.Empty(scheduler.State.Items);
        Assert.False(scheduler.NeedsWaking);
    }

    [Fact]
    public void AnItemRetriedByThePolicyStaysHeldUntilItsLastAttempt()
    {
        var scheduler = new JobScheduler("job", new JobState(), _time, new WorkClusterOptions { RunAhead = 0, EarlyHandOver = TimeSpan.Zero }, random: () => 0.5);
        scheduler.Define(new JobDefinition(new Job("h")) { Receive = new ReceiveBinding("orders"), Retry = new RetryPolicy { MaxAttempts = 2, InitialDelay = TimeSpan.FromSeconds(1), Jitter = 0 } });
        scheduler.Start();
        scheduler.AcceptItems([Item(5)]);
        var first = scheduler.TakeDue(_time.GetUtcNow(), []).Single();
        scheduler.Dispatched(first, "silo-a", _time.GetUtcNow(), s_lease);
        var finished = new List<JobExecution>();
        scheduler.Report(Result(first, JobStatus.InternalError), scheduler.State.InFlight[first.ExecutionId].Lease, finished);
        Assert.False(scheduler.ItemsEnded(finished));

        // Still held while its retry waits: one worker, two items at most, one held.
        Assert.Equal(1, scheduler.ItemsWanted(_time.GetUtcNow()));

        _time.Advance(TimeSpan.FromSeconds(1));
        var second = scheduler.TakeDue(_time.GetUtcNow(), []).Single();
        Assert.Equal((2, 5L), (second.Attempt, second.Item!.Id));
        scheduler.Dispatched(second, "silo-a", _time.GetUtcNow(), s_lease);
        scheduler.Report(Result(second, JobStatus.Success), scheduler.State.InFlight[second.ExecutionId].Lease, finished);
        Assert.True(scheduler.ItemsEnded(finished));
        Assert.Equal(ItemSettlement.Acknowledge, scheduler.ItemsToSettle().Single().Item.Settlement);
    }
}

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Orleans.Serialization;
using Orleans.Storage;
using Work.Grains;
using Work.Scheduling;
using Work.Tests.Simulation;

namespace Work.Tests.Scheduling;

/// <summary>The job's store over storage whose every call the test answers.</summary>
public sealed class JobStoreTests
{
    private static readonly Serializer s_serializer = new ServiceCollection()
        .AddSerializer(builder => builder.AddAssembly(typeof(JobState).Assembly).AddAssembly(typeof(Job).Assembly))
        .BuildServiceProvider()
        .GetRequiredService<Serializer>();

    private static readonly GrainId s_job = GrainId.Create("job", "stored");

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly SimulatedGrainStorage _storage = new(s_serializer);
    private readonly DeterministicTaskScheduler _turns = new();

    // Lands every segment write under way, and drops the main state's write (the silo died in between).
    private void LandSegmentsAndLoseTheMainState()
    {
        for (_turns.RunUntilIdle(_ => 0); _storage.Pending.Count > 0; _turns.RunUntilIdle(_ => 0))
        {
            var next = _storage.Pending[0];
            _storage.Resolve(next, next.Description == "write job" ? SimulatedGrainStorage.Outcome.Dropped : SimulatedGrainStorage.Outcome.Lands);
        }
    }

    private static JobExecution Record(string id) => new() { ExecutionId = id, Handler = "h", Attempt = 1, Status = JobStatus.Success };

    // Runs an operation of a store to its end, every storage call landing.
    private T Run<T>(Func<Task<T>> operation)
    {
        var task = _turns.Start(operation);
        while (!task.IsCompleted)
        {
            _turns.RunUntilIdle(_ => 0);
            while (_storage.Pending.Count > 0)
            {
                _storage.Resolve(_storage.Pending[0], SimulatedGrainStorage.Outcome.Lands);
            }
        }

        return task.GetAwaiter().GetResult();
    }

    private void Run(Func<Task> operation) => Run(async () =>
    {
        await operation();
        return true;
    });

    private (JobStore Store, JobScheduler Scheduler) Activate(object owner)
    {
        var store = new JobStore(_storage.For(owner), s_job);
        var stored = Run(store.LoadAsync);
        var scheduler = JobScheduler.Load("stored", stored, _time, new WorkClusterOptions());
        return (store, scheduler);
    }

    private static JobScheduler Started(JobScheduler scheduler)
    {
        if (!scheduler.IsDefined)
        {
            scheduler.Define(new JobDefinition(new Job("h")) { MaxWorkers = 1_000, HistoryLimit = JobDefinition.MaxHistoryLimit });
            scheduler.Start();
        }

        return scheduler;
    }

    private void Write(JobStore store, JobScheduler scheduler) => Run(() => store.WriteAsync(scheduler.TakeChanges()));

    private static List<string> Finish(JobScheduler scheduler, int count)
    {
        var now = DateTimeOffset.UnixEpoch;
        var ids = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var run = scheduler.Accept(now, null, null, null);
            scheduler.TakeDue(now, []);
            var inFlight = scheduler.Dispatched(run, "silo", now, TimeSpan.FromMinutes(1));
            scheduler.Report(Record(run.ExecutionId), inFlight.Lease, []);
            ids.Add(run.ExecutionId);
        }

        return ids;
    }

    [Fact]
    public void WhatIsWrittenIsWhatANewActivationLoads()
    {
        var (store, scheduler) = Activate("first");
        Started(scheduler);
        var finished = Finish(scheduler, 70);
        var waiting = Enumerable.Range(0, ReadyQueue.SegmentSize + 10).Select(_ => scheduler.Accept(_time.GetUtcNow(), null, null, null).ExecutionId).ToList();
        Write(store, scheduler);

        var (_, loaded) = Activate("second");

        Assert.Equal(finished, loaded.History.Records.Select(r => r.ExecutionId));
        Assert.Equal(waiting, loaded.Ready.Runs.Select(r => r.ExecutionId));
        Assert.True(loaded.State.Started);
    }

    [Fact]
    public void RecordsAWriteAppendedWithoutItsMainStateAreNotLoaded()
    {
        var (store, scheduler) = Activate("first");
        Started(scheduler);
        var committed = Finish(scheduler, 10);
        Write(store, scheduler);

        // The next write's segment lands; its main state does not (the silo died in between).
        Finish(scheduler, 5);
        var changes = scheduler.TakeChanges();
        var write = _turns.Start(() => store.WriteAsync(changes));
        _turns.RunUntilIdle(_ => 0);
        Assert.Contains(_storage.Pending, p => p.Description == "write job-history-0");
        LandSegmentsAndLoseTheMainState();

        var (_, loaded) = Activate("second");

        Assert.False(write.IsCompleted);
        Assert.Equal(committed, loaded.History.Records.Select(r => r.ExecutionId));
        Assert.All(committed, id => Assert.False(loaded.IsActive(id)));
    }

    [Fact]
    public void ASegmentSealedAtLoadKeepsItsCommittedLengthOnceANewerOneFollows()
    {
        var (store, scheduler) = Activate("first");
        Started(scheduler);
        var committed = Finish(scheduler, 4);
        Write(store, scheduler);

        // Records appended to the same segment by a write whose main state never landed.
        Finish(scheduler, 3);
        var write = _turns.Start(() => store.WriteAsync(scheduler.TakeChanges()));
        LandSegmentsAndLoseTheMainState();

        // A new activation appends after the committed records, in a segment of its own, and writes.
        var (secondStore, second) = Activate("second");
        var later = Finish(second, 2);
        Write(secondStore, second);

        var (_, third) = Activate("third");
        Assert.False(write.IsCompleted);
        Assert.Equal(committed.Concat(later), third.History.Records.Select(r => r.ExecutionId));
    }

    [Fact]
    public void AnActivationThatLoadedEarlierCannotOverwriteWhatAnotherWrote()
    {
        var (store, scheduler) = Activate("first");
        Started(scheduler);
        Write(store, scheduler);
        var (staleStore, stale) = Activate("stale");

        var acknowledged = scheduler.Accept(_time.GetUtcNow(), null, null, null).ExecutionId;
        Write(store, scheduler);
        stale.Accept(_time.GetUtcNow(), null, null, null);
        var changes = stale.TakeChanges();

        var error = Assert.Throws<InconsistentStateException>(() => Run(() => staleStore.WriteAsync(changes)));

        Assert.Contains("Version conflict", error.Message, StringComparison.Ordinal);
        var (_, loaded) = Activate("third");
        Assert.Equal([acknowledged], loaded.Ready.Runs.Select(r => r.ExecutionId));
    }

    [Fact]
    public void DroppedSegmentsAreDeletedOnlyAfterTheMainStateNoLongerPointsAtThem()
    {
        var (store, scheduler) = Activate("first");
        Started(scheduler);
        for (var i = 0; i < ReadyQueue.SegmentSize + 1; i++)
        {
            scheduler.Accept(_time.GetUtcNow(), null, null, null);
        }

        Write(store, scheduler);
        for (var i = 0; i < ReadyQueue.SegmentSize; i++)
        {
            scheduler.Ready.Dequeue();
        }

        var changes = scheduler.TakeChanges();
        var write = _turns.Start(() => store.WriteAsync(changes));
        _turns.RunUntilIdle(_ => 0);

        // First the main state, then the delete of the segment it no longer points at.
        Assert.Equal("write job", Assert.Single(_storage.Pending).Description);
        _storage.Resolve(_storage.Pending[0], SimulatedGrainStorage.Outcome.Lands);
        _turns.RunUntilIdle(_ => 0);
        Assert.Equal("clear job-ready-0", Assert.Single(_storage.Pending).Description);
        _storage.Resolve(_storage.Pending[0], SimulatedGrainStorage.Outcome.Fails);
        _turns.RunUntilIdle(_ => 0);
        Assert.True(write.IsCompletedSuccessfully);

        // A failed delete is tried again with the next write.
        var next = _turns.Start(() => store.WriteAsync(scheduler.TakeChanges()));
        _turns.RunUntilIdle(_ => 0);
        _storage.Resolve(_storage.Pending[0], SimulatedGrainStorage.Outcome.Lands);
        _turns.RunUntilIdle(_ => 0);
        Assert.Equal("clear job-ready-0", Assert.Single(_storage.Pending).Description);
        _storage.Resolve(_storage.Pending[0], SimulatedGrainStorage.Outcome.Lands);
        _turns.RunUntilIdle(_ => 0);
        Assert.True(next.IsCompletedSuccessfully);
    }
}

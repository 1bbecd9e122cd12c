using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Storage;
using Work.Scheduling;

namespace Work.Cluster.Tests;

/// <summary>
/// Memory storage's job records, as the cluster's silos hold them: a write counts as a whole or not at all, only one
/// activation's write wins, and what an activation reads is its own copy. Called on a silo (values pass by reference
/// to a bucket there) and through the client (every call serialized).
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class MemoryJobRecordsTests(ClusterFixture fixture)
{
    public static TheoryData<string> Callers => ["silo", "client"];

    private IJobRecordStorage Storage(string caller) => caller == "silo"
        ? GrainStorageRecords.For(fixture.Cluster.GetSiloServiceProvider())
        : new MemoryJobRecordStorage(fixture.Grains, fixture.Cluster.Client.ServiceProvider.GetRequiredService<DeepCopier>());

    private static GrainId NewJob(string prefix) => GrainId.Create("concurrentjob", ClusterFixture.NewJobName(prefix));

    private static async Task<GrainState<T>> ReadAsync<T>(IJobRecords records, string name)
        where T : new()
    {
        var state = new GrainState<T>(new T());
        await records.ReadAsync(name, state);
        return state;
    }

    private static JobRecord MainRecord(GrainState<JobState> main) => JobRecord.Of(JobStore.MainStateName, main);

    private static GrainState<HistorySegment> Segment(string executionId) =>
        new(new HistorySegment { Records = [new JobExecution { ExecutionId = executionId, Handler = "h", Attempt = 1, Status = JobStatus.Success }] });

    [Theory]
    [MemberData(nameof(Callers))]
    public async Task WhatAWritePutsIsReadBackAsACopyAndClearedRecordsAreGone(string caller)
    {
        var storage = Storage(caller);
        var job = NewJob("memory-read-back");
        var records = await storage.OpenAsync(job);
        var main = await ReadAsync<JobState>(records, JobStore.MainStateName);
        Assert.Null(main.ETag);
        Assert.False(main.RecordExists);

        var segment = Segment("a");
        main.State = new JobState { ReadyTail = 7 };
        await records.WriteAsync([JobRecord.Of(JobStore.HistorySegmentName(0), segment)], MainRecord(main), []);
        Assert.NotNull(main.ETag);
        Assert.NotNull(segment.ETag);

        // The reader changes what it read: the records held stay as written.
        var again = await storage.OpenAsync(job);
        var read = await ReadAsync<HistorySegment>(again, JobStore.HistorySegmentName(0));
        var readMain = await ReadAsync<JobState>(again, JobStore.MainStateName);
        Assert.Equal("a", Assert.Single(read.State!.Records).ExecutionId);
        Assert.Equal(7, readMain.State!.ReadyTail);
        Assert.Equal(main.ETag, readMain.ETag);
        read.State!.Records.Add(new JobExecution { ExecutionId = "b", Handler = "h" });
        readMain.State!.ReadyTail = 99;
        var third = await storage.OpenAsync(job);
        Assert.Single((await ReadAsync<HistorySegment>(third, JobStore.HistorySegmentName(0))).State!.Records);
        Assert.Equal(7, (await ReadAsync<JobState>(third, JobStore.MainStateName)).State!.ReadyTail);

        main.State = new JobState { ReadyTail = 8 };
        var notCleared = await records.WriteAsync([], MainRecord(main), [JobRecord.Of(JobStore.HistorySegmentName(0), segment)]);
        Assert.Empty(notCleared);
        Assert.Null(segment.ETag);
        var cleared = await ReadAsync<HistorySegment>(await storage.OpenAsync(job), JobStore.HistorySegmentName(0));
        Assert.Null(cleared.ETag);
        Assert.False(cleared.RecordExists);
    }

    [Theory]
    [MemberData(nameof(Callers))]
    public async Task OfTwoActivationsOnlyTheFirstToWriteWinsAndTheLosersWriteLeavesNothing(string caller)
    {
        var storage = Storage(caller);
        var job = NewJob("memory-two");
        var first = await storage.OpenAsync(job);
        var second = await storage.OpenAsync(job);
        var firstMain = await ReadAsync<JobState>(first, JobStore.MainStateName);
        var secondMain = await ReadAsync<JobState>(second, JobStore.MainStateName);

        firstMain.State = new JobState { ReadyTail = 1 };
        await first.WriteAsync([], MainRecord(firstMain), []);
        secondMain.State = new JobState { ReadyTail = 2 };
        var loser = Segment("lost");
        var error = await Assert.ThrowsAsync<InconsistentStateException>(() =>
            second.WriteAsync([JobRecord.Of(JobStore.HistorySegmentName(5), loser)], MainRecord(secondMain), []));

        Assert.Contains(JobStore.MainStateName, error.Message, StringComparison.Ordinal);
        Assert.Null(loser.ETag);
        var now = await storage.OpenAsync(job);
        Assert.Equal(1, (await ReadAsync<JobState>(now, JobStore.MainStateName)).State!.ReadyTail);
        Assert.False((await ReadAsync<HistorySegment>(now, JobStore.HistorySegmentName(5))).RecordExists);

        // The winner goes on writing at the version it holds.
        firstMain.State = new JobState { ReadyTail = 3 };
        await first.WriteAsync([], MainRecord(firstMain), []);
        Assert.Equal(3, (await ReadAsync<JobState>(await storage.OpenAsync(job), JobStore.MainStateName)).State!.ReadyTail);
    }

    [Theory]
    [MemberData(nameof(Callers))]
    public async Task AClearAtAnotherVersionIsReportedAndItsRecordStays(string caller)
    {
        var storage = Storage(caller);
        var job = NewJob("memory-clear");
        var records = await storage.OpenAsync(job);
        var main = await ReadAsync<JobState>(records, JobStore.MainStateName);
        var segment = Segment("kept");
        main.State = new JobState();
        await records.WriteAsync([JobRecord.Of(JobStore.HistorySegmentName(0), segment)], MainRecord(main), []);

        var stale = new GrainState<HistorySegment>(new HistorySegment()) { ETag = "not-its-version" };
        var clear = JobRecord.Of(JobStore.HistorySegmentName(0), stale);
        main.State = new JobState { ReadyTail = 4 };
        var notCleared = await records.WriteAsync([], MainRecord(main), [clear]);

        Assert.Same(clear, Assert.Single(notCleared));
        var now = await storage.OpenAsync(job);
        Assert.Equal(4, (await ReadAsync<JobState>(now, JobStore.MainStateName)).State!.ReadyTail);
        Assert.Equal("kept", Assert.Single((await ReadAsync<HistorySegment>(now, JobStore.HistorySegmentName(0))).State!.Records).ExecutionId);
    }

    [Fact]
    public async Task JobsKeepSeparateRecordsWhicheverSiloWrites()
    {
        var jobs = Enumerable.Range(0, 40).Select(_ => NewJob("memory-many")).ToList();
        await Task.WhenAll(jobs.Select(async (job, i) =>
        {
            var records = await Storage(i % 2 == 0 ? "silo" : "client").OpenAsync(job);
            var main = await ReadAsync<JobState>(records, JobStore.MainStateName);
            main.State = new JobState { ReadyTail = i };
            await records.WriteAsync([], MainRecord(main), []);
        }));

        for (var i = 0; i < jobs.Count; i++)
        {
            Assert.Equal(i, (await ReadAsync<JobState>(await Storage("client").OpenAsync(jobs[i]), JobStore.MainStateName)).State!.ReadyTail);
        }
    }
}

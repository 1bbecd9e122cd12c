using Work.Scheduling;

namespace Work.Tests.Scheduling;

public sealed class HistoryLogTests
{
    private static JobExecution Record(int i) => new() { ExecutionId = $"run-{i:D6}", Handler = "h", Attempt = 1, Status = JobStatus.Success };

    /// <summary>What storage would hold: the main state as last written, and the segments written minus the ones dropped.</summary>
    private sealed class Store
    {
        public SortedDictionary<long, List<JobExecution>> Segments { get; } = [];

        public void Flush(HistoryLog log)
        {
            foreach (var segment in log.TakeDirty())
            {
                Segments[segment.Number] = segment.Items;
            }

            foreach (var number in log.TakeDropped())
            {
                Segments.Remove(number);
            }
        }

        public HistoryLog Reload(JobState state)
        {
            var copy = new JobState
            {
                HistoryHead = state.HistoryHead, HistoryHeadOffset = state.HistoryHeadOffset, HistoryTail = state.HistoryTail, HistoryTailCount = state.HistoryTailCount,
            };
            var log = new HistoryLog(copy);
            log.Load(Segments.Where(s => s.Key >= copy.HistoryHead && s.Key <= copy.HistoryTail).Select(s => (s.Key, s.Value.ToList())), Segments.Keys.Max() + 1);
            return log;
        }
    }

    [Fact]
    public void KeepsTheNewestUpToTheLimitAcrossSegments()
    {
        var log = new HistoryLog(new JobState());
        for (var i = 0; i < 200; i++)
        {
            log.Add(Record(i), limit: 70);
        }

        Assert.Equal(70, log.Count);
        Assert.Equal(Enumerable.Range(130, 70).Select(i => $"run-{i:D6}"), log.Records.Select(r => r.ExecutionId));
        Assert.Equal(["run-000199", "run-000198", "run-000197"], log.Newest(3).Select(r => r.ExecutionId));
        Assert.Equal(70, log.Newest(1_000).Count);
        Assert.Equal("run-000130", log.LastOf("run-000130")!.ExecutionId);
        Assert.Null(log.LastOf("run-000129"));
    }

    [Fact]
    public void AWriteTouchesOnlyTheNewestSegmentAndDropsTrimmedOnes()
    {
        var state = new JobState();
        var log = new HistoryLog(state);
        var store = new Store();
        for (var i = 0; i < HistoryLog.SegmentSize * 3; i++)
        {
            log.Add(Record(i), limit: HistoryLog.SegmentSize * 2);
        }

        store.Flush(log);
        log.Add(Record(100_000), limit: HistoryLog.SegmentSize * 2);
        var dirty = log.TakeDirty();
        var droppedByOne = log.TakeDropped();
        for (var i = 1; i < HistoryLog.SegmentSize; i++)
        {
            log.Add(Record(100_000 + i), limit: HistoryLog.SegmentSize * 2);
        }

        store.Flush(log);

        Assert.Equal(Record(100_000), Assert.Single(Assert.Single(dirty).Items));
        Assert.Empty(droppedByOne);
        Assert.Equal([2L, 3L], store.Segments.Keys);
        Assert.Equal(HistoryLog.SegmentSize * 2, log.Count);
        Assert.Equal(2, state.HistoryHead);
    }

    [Fact]
    public void ReloadedFromStorageItHoldsTheSameRecords()
    {
        var state = new JobState();
        var log = new HistoryLog(state);
        var store = new Store();
        for (var i = 0; i < 150; i++)
        {
            log.Add(Record(i), limit: 45);
            if (i % 7 == 0)
            {
                store.Flush(log);
            }
        }

        store.Flush(log);
        var reloaded = store.Reload(state);

        Assert.Equal(log.Records, reloaded.Records);
        Assert.Equal(45, reloaded.Count);
        reloaded.Add(Record(150), limit: 45);
        Assert.Equal(Enumerable.Range(106, 45).Select(i => $"run-{i:D6}"), reloaded.Records.Select(r => r.ExecutionId));
    }

    [Fact]
    public void SegmentsAFailedWriteWasToDeleteAreDeletedWithTheNextOne()
    {
        var log = new HistoryLog(new JobState());
        for (var i = 0; i < HistoryLog.SegmentSize * 2; i++)
        {
            log.Add(Record(i), limit: HistoryLog.SegmentSize);
        }

        var dropped = log.TakeDropped();
        log.ReturnDropped(dropped);

        Assert.Equal([0L], dropped);
        Assert.Equal(dropped, log.TakeDropped());
        Assert.Empty(log.TakeDropped());
    }

    [Fact]
    public void ALimitOfZeroKeepsNothing()
    {
        var log = new HistoryLog(new JobState());
        for (var i = 0; i < 100; i++)
        {
            log.Add(Record(i), limit: 0);
        }

        Assert.Equal(0, log.Count);
        Assert.Empty(log.Records);
        Assert.Empty(log.Newest(10));
    }

    [Fact]
    public void RecordsKeptInTheMainStateByEarlierVersionsMoveIntoSegments()
    {
        var state = new JobState { History = [Record(1), Record(2)] };
        var log = new HistoryLog(state);

        log.Load([], 0);

        Assert.Empty(state.History);
        Assert.Equal(["run-000001", "run-000002"], log.Records.Select(r => r.ExecutionId));
        Assert.Equal(2, Assert.Single(log.TakeDirty()).Items.Count);
    }
}

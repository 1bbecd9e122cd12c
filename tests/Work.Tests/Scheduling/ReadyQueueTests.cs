using Work.Scheduling;

namespace Work.Tests.Scheduling;

public sealed class ReadyQueueTests
{
    private static PendingRun Run(int i) => new() { ExecutionId = $"run-{i:D6}", DueAt = DateTimeOffset.UnixEpoch.AddSeconds(i) };

    /// <summary>What storage would hold: the segments written, minus the ones dropped.</summary>
    private sealed class Store
    {
        public SortedDictionary<long, List<PendingRun>> Segments { get; } = [];

        public void Flush(ReadyQueue queue)
        {
            foreach (var segment in queue.TakeDirty())
            {
                Segments[segment.Number] = segment.Items;
            }

            foreach (var number in queue.TakeDropped())
            {
                Segments.Remove(number);
            }
        }
    }

    [Fact]
    public void RunsComeOutInOrderAcrossSegments()
    {
        var queue = new ReadyQueue(new JobState());
        var count = (ReadyQueue.SegmentSize * 2) + 10;
        for (var i = 0; i < count; i++)
        {
            queue.Enqueue(Run(i));
        }

        Assert.Equal(count, queue.Count);
        var taken = Enumerable.Range(0, count).Select(_ => queue.Dequeue().ExecutionId).ToList();

        Assert.Equal(Enumerable.Range(0, count).Select(i => $"run-{i:D6}"), taken);
        Assert.Equal(0, queue.Count);
        Assert.Null(queue.Peek());
    }

    [Fact]
    public void AWriteTouchesOnlyTheSegmentsThatChanged()
    {
        var state = new JobState();
        var queue = new ReadyQueue(state);
        var store = new Store();
        for (var i = 0; i < ReadyQueue.SegmentSize * 3; i++)
        {
            queue.Enqueue(Run(i));
        }

        Assert.Equal(3, queue.TakeDirty().Count);

        queue.Enqueue(Run(99_999));
        var dirty = queue.TakeDirty();
        Assert.Equal(state.ReadyTail, Assert.Single(dirty).Number);
        Assert.Single(dirty[0].Items);

        // Taking runs changes no segment, only the head position in the main state.
        for (var i = 0; i < 100; i++)
        {
            queue.Dequeue();
        }

        Assert.Empty(queue.TakeDirty());
        Assert.Equal(100, state.ReadyHeadOffset);
        store.Flush(queue);
    }

    [Fact]
    public void ReloadedQueueContinuesWhereTheStoredHeadWas()
    {
        var state = new JobState();
        var queue = new ReadyQueue(state);
        var store = new Store();
        for (var i = 0; i < ReadyQueue.SegmentSize + 20; i++)
        {
            queue.Enqueue(Run(i));
        }

        store.Flush(queue);
        for (var i = 0; i < ReadyQueue.SegmentSize + 5; i++)
        {
            queue.Dequeue();
        }

        Assert.Equal("run-000517", queue.Remove("run-000517")!.ExecutionId);
        store.Flush(queue);

        // A new activation: the main state and the stored segments.
        var reloaded = new ReadyQueue(state);
        reloaded.Load(store.Segments.Select(s => (s.Key, s.Value)), store.Segments.Keys.Max() + 1);

        Assert.Single(store.Segments);
        Assert.Equal(14, reloaded.Count);
        var rest = Enumerable.Range(0, 14).Select(_ => reloaded.Dequeue().ExecutionId).ToList();
        Assert.Equal(Enumerable.Range(ReadyQueue.SegmentSize + 5, 15).Where(i => i != 517).Select(i => $"run-{i:D6}"), rest);
    }

    [Fact]
    public void ClearDropsEverySegment()
    {
        var state = new JobState();
        var queue = new ReadyQueue(state);
        var store = new Store();
        for (var i = 0; i < 1_000; i++)
        {
            queue.Enqueue(Run(i));
        }

        store.Flush(queue);
        var cleared = queue.Clear();
        store.Flush(queue);

        Assert.Equal(1_000, cleared.Count);
        Assert.Empty(store.Segments);
        Assert.Equal(0, queue.Count);
        queue.Enqueue(Run(5));
        Assert.Equal("run-000005", queue.Dequeue().ExecutionId);
    }
}

namespace Work.Scheduling;

/// <summary>
/// The runs accepted to run now, first in first out, kept in segments of <see cref="SegmentSize"/> so that a durable
/// write touches only the segments that changed: accepting appends to the tail segment; dispatching only moves the
/// head position, which lives in the job's main state. A backlog of any length costs nothing per write.
/// </summary>
internal sealed class ReadyQueue
{
    public const int SegmentSize = 512;

    private readonly JobState _state;
    private readonly StoredSegments<PendingRun> _segments = new(SegmentSize);
    private readonly HashSet<string> _waiting = new(StringComparer.Ordinal);

    public ReadyQueue(JobState state)
    {
        _state = state;
        if (_state.ReadyTail < _state.ReadyHead)
        {
            _state.ReadyHeadOffset = 0;
        }
    }

    public int Count => _waiting.Count;

    /// <summary>The runs waiting, in order.</summary>
    public IEnumerable<PendingRun> Runs
    {
        get
        {
            for (var s = 0; s < _segments.Count; s++)
            {
                var runs = _segments[s].Items;
                for (var i = s == 0 ? _state.ReadyHeadOffset : 0; i < runs.Count; i++)
                {
                    if (!_state.ReadyCancelled.Contains(runs[i].ExecutionId))
                    {
                        yield return runs[i];
                    }
                }
            }
        }
    }

    /// <summary>Rebuilds the queue from stored segments, oldest first; new segments are numbered from <paramref name="nextNumber"/>.</summary>
    public void Load(IEnumerable<(long Number, List<PendingRun> Runs)> segments, long nextNumber)
    {
        _segments.Load(segments, nextNumber);
        if (_segments.Count > 0)
        {
            _state.ReadyHead = _segments.Head.Number;
            _state.ReadyTail = _segments.Tail.Number;
        }

        _waiting.Clear();
        _waiting.UnionWith(Runs.Select(r => r.ExecutionId));
    }

    public void Enqueue(PendingRun run)
    {
        if (_segments.NeedsNewTail)
        {
            var segment = _segments.Open();
            if (_segments.Count == 1)
            {
                _state.ReadyHead = segment.Number;
                _state.ReadyHeadOffset = 0;
            }

            _state.ReadyTail = segment.Number;
        }

        _segments.AddToTail(run);
        _state.ReadyTailCount = _segments.Tail.Items.Count;
        _waiting.Add(run.ExecutionId);
    }

    public PendingRun? Peek()
    {
        SkipCancelled();
        return _waiting.Count == 0 ? null : _segments.Head.Items[_state.ReadyHeadOffset];
    }

    public PendingRun Dequeue()
    {
        var run = Peek() ?? throw new InvalidOperationException("The ready queue is empty.");
        Advance();
        _waiting.Remove(run.ExecutionId);
        return run;
    }

    public bool Contains(string executionId) => _waiting.Contains(executionId);

    /// <summary>Removes one run; it stays in its stored segment, marked cancelled, until that segment is dropped.</summary>
    public PendingRun? Remove(string executionId)
    {
        if (!_waiting.Remove(executionId))
        {
            return null;
        }

        _state.ReadyCancelled.Add(executionId);
        for (var s = _segments.Count - 1; s >= 0; s--)
        {
            if (_segments[s].Items.FindLast(r => r.ExecutionId == executionId) is { } run)
            {
                return run;
            }
        }

        return null;
    }

    /// <summary>Removes every run and returns them.</summary>
    public List<PendingRun> Clear()
    {
        var all = Runs.ToList();
        _segments.DropAll();
        _state.ReadyHead = _state.ReadyTail + 1;
        _state.ReadyHeadOffset = 0;
        _state.ReadyCancelled.Clear();
        _waiting.Clear();
        return all;
    }

    /// <summary>The segments changed since the last call, as copies to write.</summary>
    public List<SegmentWrite<PendingRun>> TakeDirty() => _segments.TakeDirty();

    /// <summary>The number the next new segment gets.</summary>
    public long NextSegment => _segments.NextNumber;

    /// <summary>Marks segments dirty again after a failed write.</summary>
    public void MarkDirty(IEnumerable<long> numbers) => _segments.MarkDirty(numbers);

    /// <summary>The segments fully consumed since the last call, to delete from storage after the main state is written.</summary>
    public List<long> TakeDropped() => _segments.TakeDropped();

    /// <summary>Queues dropped segments again after a write that was to delete them failed.</summary>
    public void ReturnDropped(IEnumerable<long> numbers) => _segments.ReturnDropped(numbers);

    private void SkipCancelled()
    {
        while (_segments.Count > 0)
        {
            var head = _segments.Head;
            if (_state.ReadyHeadOffset < head.Items.Count)
            {
                var id = head.Items[_state.ReadyHeadOffset].ExecutionId;
                if (!_state.ReadyCancelled.Contains(id))
                {
                    return;
                }

                Advance();
            }
            else if (!DropHeadIfDone())
            {
                return;
            }
        }
    }

    private void Advance()
    {
        _state.ReadyHeadOffset++;
        DropHeadIfDone();
    }

    // A consumed head segment is dropped, also when it is the tail: the next run opens a small new segment, where
    // appending to the consumed one would rewrite every run it ever held with each write.
    private bool DropHeadIfDone()
    {
        var head = _segments.Head;
        if (_state.ReadyHeadOffset < head.Items.Count)
        {
            return false;
        }

        foreach (var run in head.Items)
        {
            _state.ReadyCancelled.Remove(run.ExecutionId);
        }

        _segments.DropHead();
        _state.ReadyHeadOffset = 0;
        _state.ReadyHead = _segments.Count > 0 ? _segments.Head.Number : _state.ReadyTail + 1;
        return true;
    }
}

/// <summary>One stored segment of a job's ready queue.</summary>
[GenerateSerializer, Alias("work.ready-segment")]
internal sealed class ReadySegment
{
    /// <summary>The runs, in order.</summary>
    [Id(0)]
    public List<PendingRun> Runs { get; set; } = [];

    /// <summary>The number of the segment before this one; null for the one numbered just below (as earlier versions wrote).</summary>
    [Id(1)]
    public long? Previous { get; set; }

    /// <summary>How many items of the segment before belong to the log; null for all of them.</summary>
    [Id(2)]
    public int? PreviousCount { get; set; }
}

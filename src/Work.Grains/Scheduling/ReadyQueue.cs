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
    private readonly List<Segment> _segments = [];
    private readonly List<long> _dropped = [];
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
                var runs = _segments[s].Runs;
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

    /// <summary>Rebuilds the queue from stored segments, oldest first.</summary>
    public void Load(IEnumerable<(long Number, List<PendingRun> Runs)> segments)
    {
        _segments.Clear();
        foreach (var (number, runs) in segments.OrderBy(s => s.Number))
        {
            _segments.Add(new Segment(number, runs));
        }

        if (_segments.Count > 0)
        {
            _state.ReadyHead = _segments[0].Number;
            _state.ReadyTail = _segments[^1].Number;
        }

        _waiting.Clear();
        _waiting.UnionWith(Runs.Select(r => r.ExecutionId));
    }

    public void Enqueue(PendingRun run)
    {
        if (_segments.Count == 0 || _segments[^1].Runs.Count >= SegmentSize)
        {
            var number = _state.ReadyTail + 1;
            if (_segments.Count == 0)
            {
                _state.ReadyHead = number;
                _state.ReadyHeadOffset = 0;
            }

            _segments.Add(new Segment(number, []));
            _state.ReadyTail = number;
        }

        var tail = _segments[^1];
        tail.Runs.Add(run);
        tail.Dirty = true;
        _waiting.Add(run.ExecutionId);
    }

    public PendingRun? Peek()
    {
        SkipCancelled();
        return _waiting.Count == 0 ? null : _segments[0].Runs[_state.ReadyHeadOffset];
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
        return _segments.SelectMany(s => s.Runs).Last(r => r.ExecutionId == executionId);
    }

    /// <summary>Removes every run and returns them.</summary>
    public List<PendingRun> Clear()
    {
        var all = Runs.ToList();
        foreach (var segment in _segments)
        {
            _dropped.Add(segment.Number);
        }

        _segments.Clear();
        _state.ReadyHead = _state.ReadyTail + 1;
        _state.ReadyHeadOffset = 0;
        _state.ReadyCancelled.Clear();
        _waiting.Clear();
        return all;
    }

    /// <summary>The segments changed since the last call, as copies to write.</summary>
    public List<(long Number, List<PendingRun> Runs)> TakeDirty()
    {
        var dirty = new List<(long, List<PendingRun>)>();
        foreach (var segment in _segments)
        {
            if (segment.Dirty)
            {
                dirty.Add((segment.Number, [.. segment.Runs]));
                segment.Dirty = false;
            }
        }

        return dirty;
    }

    /// <summary>Marks segments dirty again after a failed write.</summary>
    public void MarkDirty(IEnumerable<long> numbers)
    {
        foreach (var segment in _segments.Where(s => numbers.Contains(s.Number)))
        {
            segment.Dirty = true;
        }
    }

    /// <summary>The segments fully consumed since the last call, to delete from storage after the main state is written.</summary>
    public List<long> TakeDropped()
    {
        var dropped = _dropped.ToList();
        _dropped.Clear();
        return dropped;
    }

    private void SkipCancelled()
    {
        while (_segments.Count > 0)
        {
            var head = _segments[0];
            if (_state.ReadyHeadOffset < head.Runs.Count)
            {
                var id = head.Runs[_state.ReadyHeadOffset].ExecutionId;
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

    // A consumed head segment is dropped unless it is the tail with room left, which later runs still fill.
    private bool DropHeadIfDone()
    {
        var head = _segments[0];
        if (_state.ReadyHeadOffset < head.Runs.Count || (_segments.Count == 1 && head.Runs.Count < SegmentSize))
        {
            return false;
        }

        foreach (var run in head.Runs)
        {
            _state.ReadyCancelled.Remove(run.ExecutionId);
        }

        _segments.RemoveAt(0);
        _dropped.Add(head.Number);
        _state.ReadyHeadOffset = 0;
        _state.ReadyHead = _segments.Count > 0 ? _segments[0].Number : _state.ReadyTail + 1;
        return true;
    }

    private sealed class Segment(long number, List<PendingRun> runs)
    {
        public long Number { get; } = number;

        public List<PendingRun> Runs { get; } = runs;

        public bool Dirty { get; set; }
    }
}

/// <summary>One stored segment of a job's ready queue.</summary>
[GenerateSerializer, Alias("work.ready-segment")]
public sealed class ReadySegment
{
    /// <summary>The runs, in order.</summary>
    [Id(0)]
    public List<PendingRun> Runs { get; set; } = [];
}

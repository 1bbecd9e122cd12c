namespace Work.Scheduling;

/// <summary>
/// A job's finished attempts, oldest first, kept in segments of <see cref="SegmentSize"/> so that a durable write
/// touches only the segments that changed: recording appends to the newest segment; trimming to the job's
/// HistoryLimit only moves the oldest position, which lives in the job's main state, and drops whole segments.
/// A write costs the same however long the history is.
/// </summary>
internal sealed class HistoryLog
{
    public const int SegmentSize = 16;

    private readonly JobState _state;
    private readonly StoredSegments<JobExecution> _segments = new(SegmentSize);

    public HistoryLog(JobState state)
    {
        _state = state;
        if (_state.HistoryTail < _state.HistoryHead)
        {
            _state.HistoryHeadOffset = 0;
        }
    }

    /// <summary>How many records are kept.</summary>
    public int Count { get; private set; }

    /// <summary>The records, oldest first.</summary>
    public IEnumerable<JobExecution> Records
    {
        get
        {
            for (var s = 0; s < _segments.Count; s++)
            {
                var records = _segments[s].Items;
                for (var i = s == 0 ? _state.HistoryHeadOffset : 0; i < records.Count; i++)
                {
                    yield return records[i];
                }
            }
        }
    }

    /// <summary>
    /// Rebuilds the log from stored segments, oldest first (the store leaves out records the main state does not know
    /// of); new segments are numbered from <paramref name="nextNumber"/>. Records kept in the main state by earlier
    /// versions are moved to the end of the log, to be written as segments.
    /// </summary>
    public void Load(IEnumerable<(long Number, List<JobExecution> Records)> segments, long nextNumber)
    {
        _segments.Load(segments, nextNumber);
        Count = 0;
        if (_segments.Count > 0)
        {
            _state.HistoryHead = _segments.Head.Number;
            _state.HistoryTail = _segments.Tail.Number;
            _state.HistoryHeadOffset = Math.Min(_state.HistoryHeadOffset, _segments.Head.Items.Count);
            Count = Records.Count();
        }

        if (_state.History.Count > 0)
        {
            var legacy = _state.History;
            _state.History = [];
            foreach (var record in legacy)
            {
                Add(record, int.MaxValue);
            }
        }
    }

    /// <summary>Records <paramref name="execution"/> and forgets the oldest beyond <paramref name="limit"/>.</summary>
    public void Add(JobExecution execution, int limit)
    {
        if (_segments.NeedsNewTail)
        {
            var segment = _segments.Open();
            if (_segments.Count == 1)
            {
                _state.HistoryHead = segment.Number;
                _state.HistoryHeadOffset = 0;
            }

            _state.HistoryTail = segment.Number;
        }

        _segments.AddToTail(execution);
        _state.HistoryTailCount = _segments.Tail.Items.Count;
        Count++;
        Trim(Math.Max(0, limit));
    }

    /// <summary>Forgets every record.</summary>
    public void Clear()
    {
        _segments.DropAll();
        _state.HistoryHead = _state.HistoryTail + 1;
        _state.HistoryHeadOffset = 0;
        Count = 0;
    }

    /// <summary>The newest <paramref name="count"/> records, newest first.</summary>
    public List<JobExecution> Newest(int count)
    {
        var newest = new List<JobExecution>(Math.Clamp(count, 0, Count));
        for (var s = _segments.Count - 1; s >= 0 && newest.Count < count; s--)
        {
            var records = _segments[s].Items;
            var first = s == 0 ? _state.HistoryHeadOffset : 0;
            for (var i = records.Count - 1; i >= first && newest.Count < count; i--)
            {
                newest.Add(records[i]);
            }
        }

        return newest;
    }

    /// <summary>The newest record of <paramref name="executionId"/>, if it is still kept.</summary>
    public JobExecution? LastOf(string executionId)
    {
        for (var s = _segments.Count - 1; s >= 0; s--)
        {
            var records = _segments[s].Items;
            var first = s == 0 ? _state.HistoryHeadOffset : 0;
            for (var i = records.Count - 1; i >= first; i--)
            {
                if (records[i].ExecutionId == executionId)
                {
                    return records[i];
                }
            }
        }

        return null;
    }

    /// <summary>The segments changed since the last call, as copies to write.</summary>
    public List<SegmentWrite<JobExecution>> TakeDirty() => _segments.TakeDirty();

    /// <summary>The number the next new segment gets.</summary>
    public long NextSegment => _segments.NextNumber;

    /// <summary>Marks segments dirty again after a failed write.</summary>
    public void MarkDirty(IEnumerable<long> numbers) => _segments.MarkDirty(numbers);

    /// <summary>The segments trimmed away since the last call, to delete from storage after the main state is written.</summary>
    public List<long> TakeDropped() => _segments.TakeDropped();

    /// <summary>Queues dropped segments again after a write that was to delete them failed.</summary>
    public void ReturnDropped(IEnumerable<long> numbers) => _segments.ReturnDropped(numbers);

    private void Trim(int limit)
    {
        while (Count > limit)
        {
            _state.HistoryHeadOffset++;
            Count--;
            var head = _segments.Head;
            if (_state.HistoryHeadOffset >= head.Items.Count && (_segments.Count > 1 || _segments.NeedsNewTail))
            {
                // A trimmed head segment goes, unless it is this activation's newest with room left, which later records still fill.
                _segments.DropHead();
                _state.HistoryHeadOffset = 0;
                _state.HistoryHead = _segments.Count > 0 ? _segments.Head.Number : _state.HistoryTail + 1;
            }
        }
    }
}

/// <summary>One stored segment of a job's history.</summary>
[GenerateSerializer, Alias("work.history-segment")]
internal sealed class HistorySegment
{
    /// <summary>The records, oldest first.</summary>
    [Id(0)]
    public List<JobExecution> Records { get; set; } = [];

    /// <summary>The number of the segment before this one; null for the one numbered just below (as earlier versions wrote).</summary>
    [Id(1)]
    public long? Previous { get; set; }

    /// <summary>How many items of the segment before belong to the log; null for all of them.</summary>
    [Id(2)]
    public int? PreviousCount { get; set; }
}

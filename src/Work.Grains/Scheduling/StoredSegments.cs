namespace Work.Scheduling;

/// <summary>
/// The segments of a log that storage keeps one record per segment, oldest first, with what a write must carry: the
/// segments changed since the last write, and the segments dropped, to delete once the main state no longer points at
/// them. <see cref="ReadyQueue"/> and <see cref="HistoryLog"/> keep their positions in the job's main state.
/// </summary>
/// <remarks>
/// A segment is only ever rewritten by the activation that created it. Segments loaded from storage are sealed: new
/// items go to a new segment, numbered past every segment storage holds, which names its predecessor. So an activation
/// that loaded an older main state (two activations of one job can meet for a moment while the cluster's membership
/// changes) can never overwrite a segment that another activation's main state points at; its own segments are
/// garbage unless its main state write wins, and the main state's ETag lets only one win.
/// </remarks>
internal sealed class StoredSegments<T>(int size)
{
    private readonly List<Segment> _segments = [];
    private readonly List<long> _dropped = [];
    private long _nextNumber;

    /// <summary>How many items a segment holds.</summary>
    public int Size { get; } = size;

    public int Count => _segments.Count;

    public Segment this[int index] => _segments[index];

    public Segment Head => _segments[0];

    public Segment Tail => _segments[^1];

    /// <summary>True when new items need a new segment: there is none, the newest is full, or it is not this activation's.</summary>
    public bool NeedsNewTail => _segments.Count == 0 || !Tail.Own || Tail.Items.Count >= Size;

    /// <summary>The number the next new segment gets.</summary>
    public long NextNumber => _nextNumber;

    /// <summary>
    /// Replaces the segments with stored ones, oldest first; they are sealed. New segments are numbered from
    /// <paramref name="nextNumber"/>, which must be past every segment storage holds.
    /// </summary>
    public void Load(IEnumerable<(long Number, List<T> Items)> segments, long nextNumber)
    {
        _segments.Clear();
        foreach (var (number, items) in segments)
        {
            _segments.Add(new Segment(number, null, null, items, own: false));
        }

        _nextNumber = Math.Max(nextNumber, _segments.Count > 0 ? Tail.Number + 1 : 0);
    }

    /// <summary>Opens a new segment after the tail and returns it.</summary>
    public Segment Open()
    {
        // The link carries how many items of the segment before belong to the log: storage may hold more in it (a
        // segment sealed at load may have items a write that never counted appended), and once it is no longer the
        // tail, the main state's tail count no longer says.
        var segment = new Segment(_nextNumber++, _segments.Count > 0 ? Tail.Number : null, _segments.Count > 0 ? Tail.Items.Count : null, [], own: true);
        _segments.Add(segment);
        return segment;
    }

    /// <summary>Appends to the tail segment, which must be this activation's.</summary>
    public void AddToTail(T item)
    {
        Tail.Items.Add(item);
        Tail.Dirty = true;
    }

    /// <summary>Drops the head segment.</summary>
    public void DropHead()
    {
        _dropped.Add(Head.Number);
        _segments.RemoveAt(0);
    }

    /// <summary>Drops every segment.</summary>
    public void DropAll()
    {
        _dropped.AddRange(_segments.Select(s => s.Number));
        _segments.Clear();
    }

    /// <summary>The segments changed since the last call, as copies to write.</summary>
    public List<SegmentWrite<T>> TakeDirty()
    {
        var dirty = new List<SegmentWrite<T>>();
        foreach (var segment in _segments)
        {
            if (segment.Dirty)
            {
                dirty.Add(new SegmentWrite<T>(segment.Number, segment.Previous, segment.PreviousCount, [.. segment.Items]));
                segment.Dirty = false;
            }
        }

        return dirty;
    }

    /// <summary>Marks segments dirty again after a failed write.</summary>
    public void MarkDirty(IEnumerable<long> numbers)
    {
        var set = numbers.ToHashSet();
        foreach (var segment in _segments)
        {
            if (set.Contains(segment.Number))
            {
                segment.Dirty = true;
            }
        }
    }

    /// <summary>The segments dropped since the last call, to delete from storage after the main state is written.</summary>
    public List<long> TakeDropped()
    {
        var dropped = _dropped.ToList();
        _dropped.Clear();
        return dropped;
    }

    /// <summary>Queues dropped segments again after a write that was to delete them failed.</summary>
    public void ReturnDropped(IEnumerable<long> numbers) => _dropped.AddRange(numbers);

    /// <summary>The numbers of every segment held, oldest first.</summary>
    public IEnumerable<long> Numbers => _segments.Select(s => s.Number);

    public sealed class Segment(long number, long? previous, int? previousCount, List<T> items, bool own)
    {
        public long Number { get; } = number;

        /// <summary>The segment before it, for a segment this activation created after another.</summary>
        public long? Previous { get; } = previous;

        /// <summary>How many items of the segment before belong to the log.</summary>
        public int? PreviousCount { get; } = previousCount;

        public List<T> Items { get; } = items;

        /// <summary>Created by this activation: the only segments it may rewrite.</summary>
        public bool Own { get; } = own;

        public bool Dirty { get; set; }
    }
}

/// <summary>One segment to write: its number, its predecessor and how many of its items count, and a copy of its items.</summary>
internal sealed record SegmentWrite<T>(long Number, long? Previous, int? PreviousCount, List<T> Items);

namespace Work.Scheduling;

/// <summary>
/// The segments of a log that storage keeps one record per segment, oldest first, with what a write must carry: the
/// segments changed since the last write, and the segments dropped, to delete once the main state no longer points at
/// them. <see cref="ReadyQueue"/> and <see cref="HistoryLog"/> keep their positions in the job's main state.
/// </summary>
internal sealed class StoredSegments<T>(int size)
{
    private readonly List<Segment> _segments = [];
    private readonly List<long> _dropped = [];

    /// <summary>How many items a segment holds.</summary>
    public int Size { get; } = size;

    public int Count => _segments.Count;

    public Segment this[int index] => _segments[index];

    public Segment Head => _segments[0];

    public Segment Tail => _segments[^1];

    /// <summary>True when there is no segment, or the newest is full.</summary>
    public bool NeedsNewTail => _segments.Count == 0 || Tail.Items.Count >= Size;

    /// <summary>Replaces the segments with stored ones.</summary>
    public void Load(IEnumerable<(long Number, List<T> Items)> segments)
    {
        _segments.Clear();
        foreach (var (number, items) in segments.OrderBy(s => s.Number))
        {
            _segments.Add(new Segment(number, items));
        }
    }

    /// <summary>Opens segment <paramref name="number"/> after the tail.</summary>
    public void Open(long number) => _segments.Add(new Segment(number, []));

    /// <summary>Appends to the tail segment.</summary>
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
    public List<(long Number, List<T> Items)> TakeDirty()
    {
        var dirty = new List<(long, List<T>)>();
        foreach (var segment in _segments)
        {
            if (segment.Dirty)
            {
                dirty.Add((segment.Number, [.. segment.Items]));
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

    /// <summary>The segments dropped since the last call, to delete from storage after the main state is written.</summary>
    public List<long> TakeDropped()
    {
        var dropped = _dropped.ToList();
        _dropped.Clear();
        return dropped;
    }

    /// <summary>Queues dropped segments again after a write that was to delete them failed.</summary>
    public void ReturnDropped(IEnumerable<long> numbers) => _dropped.AddRange(numbers);

    public sealed class Segment(long number, List<T> items)
    {
        public long Number { get; } = number;

        public List<T> Items { get; } = items;

        public bool Dirty { get; set; }
    }
}

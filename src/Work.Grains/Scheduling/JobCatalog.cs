namespace Work.Scheduling;

/// <summary>
/// The names of the defined jobs, kept in buckets of at most <see cref="BucketSize"/> names so that a change writes one
/// bucket, not the whole list: defining N jobs costs O(N) in all. A new name goes to the lowest bucket with room;
/// a removed name leaves room in its bucket. Pages are read in ordinal order from a sorted copy made when first asked
/// for after a change.
/// </summary>
internal sealed class JobCatalog
{
    /// <summary>The most names a bucket holds.</summary>
    public const int BucketSize = 256;

    private readonly List<List<string>> _buckets = [];
    private readonly Dictionary<string, int> _bucketOf = new(StringComparer.Ordinal);
    private readonly SortedSet<int> _withRoom = [];
    private readonly SortedSet<int> _changed = [];
    private string[]? _sorted;

    /// <summary>How many names it holds.</summary>
    public int Count => _bucketOf.Count;

    /// <summary>How many buckets it has (some may be empty).</summary>
    public int BucketCount => _buckets.Count;

    /// <summary>True when some bucket changed since the last <see cref="TakeChanges"/>.</summary>
    public bool HasChanges => _changed.Count > 0;

    /// <summary>A catalog over stored buckets, numbered from 0; a name stored twice is kept in its first bucket.</summary>
    public static JobCatalog Load(IEnumerable<IReadOnlyList<string>?> buckets)
    {
        var catalog = new JobCatalog();
        foreach (var names in buckets)
        {
            var number = catalog._buckets.Count;
            var bucket = new List<string>(BucketSize);
            catalog._buckets.Add(bucket);
            foreach (var name in names ?? [])
            {
                if (bucket.Count < BucketSize && catalog._bucketOf.TryAdd(name, number))
                {
                    bucket.Add(name);
                }
                else
                {
                    // Not as stored: written again at the next change.
                    catalog._changed.Add(number);
                }
            }

            if (bucket.Count < BucketSize)
            {
                catalog._withRoom.Add(number);
            }
        }

        return catalog;
    }

    /// <summary>Adds a name; false when it was there.</summary>
    public bool Add(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (_bucketOf.ContainsKey(name))
        {
            return false;
        }

        int number;
        if (_withRoom.Count > 0)
        {
            number = _withRoom.Min;
        }
        else
        {
            number = _buckets.Count;
            _buckets.Add(new List<string>(BucketSize));
            _withRoom.Add(number);
        }

        var bucket = _buckets[number];
        bucket.Add(name);
        if (bucket.Count == BucketSize)
        {
            _withRoom.Remove(number);
        }

        _bucketOf[name] = number;
        _changed.Add(number);
        _sorted = null;
        return true;
    }

    /// <summary>Removes a name; false when it was not there.</summary>
    public bool Remove(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!_bucketOf.Remove(name, out var number))
        {
            return false;
        }

        _buckets[number].Remove(name);
        _withRoom.Add(number);
        _changed.Add(number);
        _sorted = null;
        return true;
    }

    /// <summary>Up to <paramref name="count"/> names after <paramref name="after"/> (null: from the first), in ordinal order.</summary>
    public IReadOnlyList<string> Page(string? after, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var sorted = _sorted ??= Sorted();
        var start = 0;
        if (after is not null)
        {
            var found = Array.BinarySearch(sorted, after, StringComparer.Ordinal);
            start = found >= 0 ? found + 1 : ~found;
        }

        return sorted.AsSpan(start, Math.Min(count, sorted.Length - start)).ToArray();
    }

    /// <summary>The buckets changed since the last call, with their names as they are now; they count as unchanged from here on.</summary>
    public IReadOnlyList<(int Number, string[] Names)> TakeChanges()
    {
        var changes = _changed.Select(number => (number, _buckets[number].ToArray())).ToList();
        _changed.Clear();
        return changes;
    }

    /// <summary>Marks buckets whose write failed as changed again.</summary>
    public void NotWritten(IEnumerable<int> numbers) => _changed.UnionWith(numbers);

    private string[] Sorted()
    {
        var names = _bucketOf.Keys.ToArray();
        Array.Sort(names, StringComparer.Ordinal);
        return names;
    }
}

using System.Globalization;
using Orleans.Storage;

namespace Work.Scheduling;

/// <summary>
/// Where one job keeps its state: the main state and the segments of its ready queue and history, each a record of
/// the job's record storage. A write puts the changed segments, then the main state that points at them (the moment
/// the write counts), then deletes the segments the main state no longer points at: in one transaction on the SQL
/// stores, one call after another on grain storage. Loading follows the main state: records a crashed or losing
/// write left behind are not loaded.
/// </summary>
internal sealed class JobStore
{
    /// <summary>The name of the main state's record (the job grain's persistent state of earlier versions).</summary>
    public const string MainStateName = "job";

    private readonly IJobRecordStorage _storage;
    private readonly GrainId _grain;

    // The records as this activation opened them at load: its writes go through them.
    private IJobRecords? _records;
    private readonly GrainState<JobState> _main = new(new JobState());

    // The segments this activation read or wrote, with their ETags: the ones it may write and delete.
    private readonly Dictionary<long, GrainState<ReadySegment>> _ready = [];
    private readonly Dictionary<long, GrainState<HistorySegment>> _history = [];

    // Segments dropped whose deletion waits for a main state write that no longer points at them.
    private readonly List<long> _readyToDelete = [];
    private readonly List<long> _historyToDelete = [];

    public JobStore(IJobRecordStorage storage, GrainId grain)
    {
        _storage = storage;
        _grain = grain;
    }

    public JobStore(IGrainStorage storage, GrainId grain)
        : this(new GrainStorageRecords(storage), grain)
    {
    }

    /// <summary>True when storage held a main state at load, or one was written since.</summary>
    public bool RecordExists => _main.RecordExists;

    public static string ReadySegmentName(long number) => string.Create(CultureInfo.InvariantCulture, $"job-ready-{number}");

    public static string HistorySegmentName(long number) => string.Create(CultureInfo.InvariantCulture, $"job-history-{number}");

    /// <summary>Reads the main state and the segments it points at.</summary>
    public async Task<StoredJob> LoadAsync()
    {
        _ready.Clear();
        _history.Clear();
        var reader = _records = await _storage.OpenAsync(_grain);
        await reader.ReadAsync(MainStateName, _main);
        var state = _main.State ??= new JobState();
        var ready = await ReadChainAsync(reader, _ready, ReadySegmentName, state.ReadyHead, state.ReadyTail, state.ReadyTailCount, s => s.Runs, s => (s.Previous, s.PreviousCount));
        var history = await ReadChainAsync(reader, _history, HistorySegmentName, state.HistoryHead, state.HistoryTail, state.HistoryTailCount, s => s.Records, s => (s.Previous, s.PreviousCount));
        return new StoredJob(
            state,
            ready,
            await FirstFreeAsync(reader, _ready, ReadySegmentName, state.ReadyTail + 1),
            history,
            await FirstFreeAsync(reader, _history, HistorySegmentName, state.HistoryTail + 1));
    }

    /// <summary>
    /// Writes <paramref name="changes"/>. Throws when the main state was not written; the caller then marks the
    /// segments to write again. Once the main state is written the changes are durable: segments that could not be
    /// deleted are deleted after the next write.
    /// </summary>
    public async Task WriteAsync(JobChanges changes)
    {
        _readyToDelete.AddRange(changes.ReadyDropped);
        _historyToDelete.AddRange(changes.HistoryDropped);
        var segments = changes.Ready.Select(s => Segment(_ready, ReadySegmentName(s.Number), s.Number, new ReadySegment { Runs = s.Items, Previous = s.Previous, PreviousCount = s.PreviousCount }))
            .Concat(changes.History.Select(s => Segment(_history, HistorySegmentName(s.Number), s.Number, new HistorySegment { Records = s.Items, Previous = s.Previous, PreviousCount = s.PreviousCount })))
            .ToList();
        _main.State = changes.State;
        var clears = Clears(_ready, ReadySegmentName, _readyToDelete, isReady: true).Concat(Clears(_history, HistorySegmentName, _historyToDelete, isReady: false)).ToList();
        IReadOnlyList<JobRecord> notCleared;
        try
        {
            notCleared = await (_records ?? throw new InvalidOperationException("The job's records are written after they are loaded.")).WriteAsync(segments, JobRecord.Of(MainStateName, _main), clears.ConvertAll(c => c.Record));
        }
        catch
        {
            // Not written: the main state still points at them, so they are deleted after a later write.
            foreach (var (_, number, isReady) in clears)
            {
                (isReady ? _readyToDelete : _historyToDelete).Add(number);
            }

            throw;
        }

        foreach (var (record, number, isReady) in clears)
        {
            if (notCleared.Contains(record))
            {
                // Tried again after the next write; the main state no longer points at it.
                (isReady ? _readyToDelete : _historyToDelete).Add(number);
            }
            else if (isReady)
            {
                _ready.Remove(number);
            }
            else
            {
                _history.Remove(number);
            }
        }
    }

    /// <summary>
    /// Writes what <paramref name="scheduler"/> changed since its last write, as one moment; when the main state is
    /// not written, its segments are marked to be written again. True when the write freed reruns of lost attempts
    /// (<see cref="JobScheduler.Written"/>): the caller then looks for what is due.
    /// </summary>
    public async Task<bool> WriteAsync(JobScheduler scheduler)
    {
        var changes = scheduler.TakeChanges();
        try
        {
            await WriteAsync(changes);
        }
        catch
        {
            scheduler.NotWritten(changes);
            throw;
        }

        return scheduler.Written(changes);
    }

    // A segment not known here is new: written with no ETag, it fails if another activation wrote it first. It is
    // known from now on, with no ETag until a write of it counts.
    private static JobRecord Segment<T>(Dictionary<long, GrainState<T>> known, string name, long number, T value)
    {
        if (!known.TryGetValue(number, out var segment))
        {
            known[number] = segment = new GrainState<T>(value);
        }

        segment.State = value;
        return JobRecord.Of(name, segment);
    }

    // The segments to delete that storage holds; the ones never written (dropped before their first write, or left by
    // another activation) are forgotten.
    private static List<(JobRecord Record, long Number, bool IsReady)> Clears<T>(Dictionary<long, GrainState<T>> known, Func<long, string> name, List<long> numbers, bool isReady)
    {
        var clears = new List<(JobRecord, long, bool)>();
        foreach (var number in numbers)
        {
            if (known.TryGetValue(number, out var segment) && segment.ETag is not null)
            {
                clears.Add((JobRecord.Of(name(number), segment), number, isReady));
            }
            else
            {
                known.Remove(number);
            }
        }

        numbers.Clear();
        return clears;
    }

    // The segments from the main state's tail back to its head, each naming its predecessor, so segments left by a
    // write that never counted are passed over. Items a segment holds beyond what counts (the main state's count for
    // the tail, the link's count for the others) were appended by a write that never counted, and are left out.
    private static async Task<List<(long Number, List<TItem> Items)>> ReadChainAsync<TSegment, TItem>(
        IJobRecords reader,
        Dictionary<long, GrainState<TSegment>> known,
        Func<long, string> name,
        long head,
        long tail,
        int tailCount,
        Func<TSegment, List<TItem>> items,
        Func<TSegment, (long? Number, int? Count)> previous)
        where TSegment : class, new()
    {
        var chain = new List<(long, List<TItem>)>();
        var number = tail;
        var counts = tailCount;
        while (number >= head)
        {
            var segment = new GrainState<TSegment>(new TSegment());
            await reader.ReadAsync(name(number), segment);
            if (segment.ETag is null)
            {
                // Missing: only earlier versions, which numbered segments one after another, could get here.
                number--;
                counts = -1;
                continue;
            }

            known[number] = segment;
            var value = segment.State ?? new TSegment();
            var list = items(value) ?? [];
            if (counts >= 0 && list.Count > counts)
            {
                list = list[..counts];
            }

            chain.Add((number, list));
            var (before, count) = previous(value);
            number = before ?? number - 1;
            counts = count ?? -1;
        }

        chain.Reverse();
        return chain;
    }

    // New segments are numbered past every segment storage holds: ones a crashed or losing write left behind after
    // the tail are neither loaded nor overwritten.
    private static async Task<long> FirstFreeAsync<TSegment>(IJobRecords reader, Dictionary<long, GrainState<TSegment>> known, Func<long, string> name, long from)
        where TSegment : class, new()
    {
        for (var number = Math.Max(0, from); ; number++)
        {
            if (known.ContainsKey(number))
            {
                continue;
            }

            var segment = new GrainState<TSegment>(new TSegment());
            await reader.ReadAsync(name(number), segment);
            if (segment.ETag is null)
            {
                return number;
            }
        }
    }
}

/// <summary>What a job's storage held: the main state, the segments it points at, and the first free segment numbers.</summary>
internal sealed record StoredJob(
    JobState State,
    List<(long Number, List<PendingRun> Runs)> Ready,
    long NextReadySegment,
    List<(long Number, List<JobExecution> Records)> History,
    long NextHistorySegment);

using System.Globalization;
using Orleans.Storage;

namespace Work.Scheduling;

/// <summary>
/// Where one job keeps its state: the main state and the segments of its ready queue and history, each a record of
/// the grain storage. A write puts the changed segments first, then the main state that points at them (the moment
/// the write counts), then deletes the segments the main state no longer points at. Loading follows the main state:
/// records a crashed or losing write left behind are not loaded.
/// </summary>
internal sealed class JobStore
{
    /// <summary>The name of the main state's record (the job grain's persistent state of earlier versions).</summary>
    public const string MainStateName = "job";

    private readonly IGrainStorage _storage;
    private readonly GrainId _grain;
    private readonly GrainState<JobState> _main = new(new JobState());

    // The segments this activation read or wrote, with their ETags: the ones it may write and delete.
    private readonly Dictionary<long, GrainState<ReadySegment>> _ready = [];
    private readonly Dictionary<long, GrainState<HistorySegment>> _history = [];

    // Segments dropped whose deletion waits for a main state write that no longer points at them.
    private readonly List<long> _readyToDelete = [];
    private readonly List<long> _historyToDelete = [];

    public JobStore(IGrainStorage storage, GrainId grain)
    {
        _storage = storage;
        _grain = grain;
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
        await _storage.ReadStateAsync(MainStateName, _grain, _main);
        var state = _main.State ??= new JobState();
        var ready = await ReadChainAsync(_ready, ReadySegmentName, state.ReadyHead, state.ReadyTail, state.ReadyTailCount, s => s.Runs, s => (s.Previous, s.PreviousCount));
        var history = await ReadChainAsync(_history, HistorySegmentName, state.HistoryHead, state.HistoryTail, state.HistoryTailCount, s => s.Records, s => (s.Previous, s.PreviousCount));
        return new StoredJob(
            state,
            ready,
            await FirstFreeAsync(_ready, ReadySegmentName, state.ReadyTail + 1),
            history,
            await FirstFreeAsync(_history, HistorySegmentName, state.HistoryTail + 1));
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
        await Task.WhenAll(
            changes.Ready.Select(s => WriteSegmentAsync(_ready, ReadySegmentName(s.Number), s.Number, new ReadySegment { Runs = s.Items, Previous = s.Previous, PreviousCount = s.PreviousCount }))
                .Concat(changes.History.Select(s => WriteSegmentAsync(_history, HistorySegmentName(s.Number), s.Number, new HistorySegment { Records = s.Items, Previous = s.Previous, PreviousCount = s.PreviousCount }))));
        _main.State = changes.State;
        await _storage.WriteStateAsync(MainStateName, _grain, _main);
        await Task.WhenAll(
            DeleteSegmentsAsync(_ready, ReadySegmentName, _readyToDelete),
            DeleteSegmentsAsync(_history, HistorySegmentName, _historyToDelete));
    }

    /// <summary>
    /// Writes what <paramref name="scheduler"/> changed since its last write, as one moment; when the main state is
    /// not written, its segments are marked to be written again.
    /// </summary>
    public async Task WriteAsync(JobScheduler scheduler)
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
    }

    private async Task WriteSegmentAsync<T>(Dictionary<long, GrainState<T>> known, string name, long number, T value)
    {
        // A segment not known here is new: written with no ETag, it fails if another activation wrote it first.
        if (!known.TryGetValue(number, out var segment))
        {
            segment = new GrainState<T>(value);
        }

        segment.State = value;
        await _storage.WriteStateAsync(name, _grain, segment);
        known[number] = segment;
    }

    private async Task DeleteSegmentsAsync<T>(Dictionary<long, GrainState<T>> known, Func<long, string> name, List<long> numbers)
    {
        if (numbers.Count == 0)
        {
            return;
        }

        var batch = numbers.ToList();
        numbers.Clear();
        await Task.WhenAll(batch.Select(async number =>
        {
            if (!known.TryGetValue(number, out var segment))
            {
                // Never written (dropped before its first write), or left by another activation: nothing to delete.
                return;
            }

            try
            {
                await _storage.ClearStateAsync(name(number), _grain, segment);
                known.Remove(number);
            }
            catch (Exception)
            {
                // Tried again after the next write; the main state no longer points at it.
                numbers.Add(number);
            }
        }));
    }

    // The segments from the main state's tail back to its head, each naming its predecessor, so segments left by a
    // write that never counted are passed over. Items a segment holds beyond what counts (the main state's count for
    // the tail, the link's count for the others) were appended by a write that never counted, and are left out.
    private async Task<List<(long Number, List<TItem> Items)>> ReadChainAsync<TSegment, TItem>(
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
            await _storage.ReadStateAsync(name(number), _grain, segment);
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
    private async Task<long> FirstFreeAsync<TSegment>(Dictionary<long, GrainState<TSegment>> known, Func<long, string> name, long from)
        where TSegment : class, new()
    {
        for (var number = Math.Max(0, from); ; number++)
        {
            if (known.ContainsKey(number))
            {
                continue;
            }

            var segment = new GrainState<TSegment>(new TSegment());
            await _storage.ReadStateAsync(name(number), _grain, segment);
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

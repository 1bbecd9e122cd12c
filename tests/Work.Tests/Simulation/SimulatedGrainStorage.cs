using System.Globalization;
using Orleans.Serialization;
using Orleans.Storage;
using Work.Scheduling;

namespace Work.Tests.Simulation;

/// <summary>
/// Grain storage with the semantics of the project's ADO.NET SQL (a version per record as the ETag; a write with no
/// ETag inserts and conflicts with any existing record; a clear keeps the record, empty, at a new version), whose
/// every call waits until the test decides what happens to it: it lands, it fails without effect, it lands and still
/// fails (the answer was lost), or it never answers (the caller died). States are stored serialized with Orleans'
/// serializer, as the real providers store them.
/// </summary>
internal sealed class SimulatedGrainStorage(Serializer serializer)
{
    private readonly Dictionary<string, Record> _records = new(StringComparer.Ordinal);
    private readonly List<Operation> _pending = [];

    // The job's journal, for the SQL stores' way of keeping job records: rows by number.
    private readonly SortedDictionary<long, byte[]> _journal = [];

    /// <summary>Told of every write that lands, for a failure's trace.</summary>
    public Action<string>? Written { get; set; }

    private Serializer Serializer => serializer;

    /// <summary>Calls waiting for an answer.</summary>
    public IReadOnlyList<Operation> Pending => _pending;

    /// <summary>The storage one activation (<paramref name="owner"/>) sees: its calls wait for the test.</summary>
    public IGrainStorage For(object owner) => new Client(this, owner);

    /// <summary>Storage that answers at once from what is stored now, to check what a new activation would load.</summary>
    public IGrainStorage Committed() => new Immediate(this);

    /// <summary>The job's journal as one activation (<paramref name="owner"/>) sees it: its calls wait for the test.</summary>
    public IJobRecordStorage Journal(object owner) => new Journaled(this, owner, immediate: false);

    /// <summary>The journal as stored now, answering at once.</summary>
    public IJobRecordStorage CommittedJournal() => new Journaled(this, this, immediate: true);

    /// <summary>Answers a waiting call.</summary>
    public void Resolve(Operation operation, Outcome outcome)
    {
        _pending.Remove(operation);
        switch (outcome)
        {
            case Outcome.Lands:
                try
                {
                    operation.Apply(true);
                    operation.Done.TrySetResult();
                }
                catch (Exception ex)
                {
                    operation.Done.TrySetException(ex);
                }

                break;
            case Outcome.Fails:
                operation.Done.TrySetException(new IOException($"Simulated storage failure: {operation}"));
                break;
            case Outcome.LandsButFails:
                try
                {
                    operation.Apply(false);
                    operation.Done.TrySetException(new IOException($"Simulated lost answer: {operation}"));
                }
                catch (Exception ex)
                {
                    operation.Done.TrySetException(ex);
                }

                break;
            case Outcome.Dropped:
                // The caller died: nothing happens and nobody hears.
                break;
        }
    }

    /// <summary>Answers every waiting call of <paramref name="owner"/>, which died, each landing or not.</summary>
    public void Abandon(object owner, Random random)
    {
        foreach (var operation in _pending.Where(o => o.Owner == owner).ToList())
        {
            Resolve(operation, random.Next(2) == 0 ? Outcome.Lands : Outcome.Dropped);
        }
    }

    private Task Queue(object owner, string description, Action<bool> apply)
    {
        var operation = new Operation(owner, description, apply, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        _pending.Add(operation);
        return operation.Done.Task;
    }

    private void Read<T>(string name, IGrainState<T> state)
    {
        if (!_records.TryGetValue(name, out var record))
        {
            state.State = Activator.CreateInstance<T>();
            state.ETag = null;
            state.RecordExists = false;
            return;
        }

        state.State = record.Payload is null ? Activator.CreateInstance<T>() : serializer.Deserialize<T>(record.Payload);
        state.ETag = record.Version.ToString(CultureInfo.InvariantCulture);
        state.RecordExists = true;
    }

    private void Write<T>(string name, IGrainState<T> state, T value, string? etag, bool updateCaller)
    {
        _records.TryGetValue(name, out var record);
        if (etag is null ? record is not null : record is null || record.Version.ToString(CultureInfo.InvariantCulture) != etag)
        {
            throw new InconsistentStateException($"Version conflict (WriteState) on {name}: ETag {etag ?? "none"}, stored {record?.Version.ToString(CultureInfo.InvariantCulture) ?? "none"}.");
        }

        var version = (record?.Version ?? 0) + 1;
        Written?.Invoke($"{name} v{version}: " + value switch
        {
            Work.Scheduling.JobState main => $"history tail {main.HistoryTail} of {main.HistoryTailCount}, in flight {string.Join(",", main.InFlight.Keys.Select(k => k[^3..]))}",
            Work.Scheduling.HistorySegment segment => $"{segment.Records.Count} records: {string.Join(",", segment.Records.Select(r => r.ExecutionId[^3..] + "/" + r.Attempt))}",
            _ => "",
        });
        _records[name] = new Record(serializer.SerializeToArray(value), version);
        if (updateCaller)
        {
            state.ETag = version.ToString(CultureInfo.InvariantCulture);
            state.RecordExists = true;
        }
    }

    private void Clear<T>(string name, IGrainState<T> state, string? etag, bool updateCaller)
    {
        if (!_records.TryGetValue(name, out var record) || record.Version.ToString(CultureInfo.InvariantCulture) != etag)
        {
            throw new InconsistentStateException($"Version conflict (ClearState) on {name}: ETag {etag ?? "none"}.");
        }

        _records[name] = new Record(null, record.Version + 1);
        if (updateCaller)
        {
            state.ETag = (record.Version + 1).ToString(CultureInfo.InvariantCulture);
            state.RecordExists = false;
            state.State = Activator.CreateInstance<T>();
        }
    }

    public enum Outcome
    {
        Lands,
        Fails,
        LandsButFails,
        Dropped,
    }

    public sealed record Operation(object Owner, string Description, Action<bool> Apply, TaskCompletionSource Done)
    {
        public override string ToString() => Description;
    }

    private sealed record Record(byte[]? Payload, int Version);

    private sealed class Client(SimulatedGrainStorage storage, object owner) : IGrainStorage
    {
        public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
            storage.Queue(owner, $"read {stateName}", _ => storage.Read(stateName, grainState));

        // The state and its ETag are read when the call lands, not when it is made: the ADO.NET provider serializes
        // after it has a connection, so a caller that changes the object meanwhile has that change written.
        public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
            storage.Queue(owner, $"write {stateName}", update => storage.Write(stateName, grainState, grainState.State!, grainState.ETag, update));

        public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
            storage.Queue(owner, $"clear {stateName}", update => storage.Clear(stateName, grainState, grainState.ETag, update));
    }

    // The SQL stores' journal (JobJournal) over rows kept here: a row goes in only while none is numbered as high.
    private sealed class Journaled(SimulatedGrainStorage storage, object owner, bool immediate) : JobJournal(storage.Serializer)
    {
        protected override async Task<List<(long Number, byte[] Payload)>> ReadAsync(GrainId job)
        {
            List<(long, byte[])> rows = [];
            void Read(bool update) => rows = storage._journal.Select(r => (r.Key, r.Value)).ToList();
            if (immediate)
            {
                Read(true);
            }
            else
            {
                await storage.Queue(owner, "read journal", Read);
            }

            return rows;
        }

        protected override Task AppendAsync(GrainId job, long number, byte[] payload, IReadOnlyList<long> dead)
        {
            void Append(bool update)
            {
                if (storage._journal.Count > 0 && storage._journal.Keys.Max() >= number)
                {
                    throw new InconsistentStateException($"Journal row {number} taken (newest {storage._journal.Keys.Max()}).");
                }

                storage._journal[number] = payload;
                foreach (var gone in dead)
                {
                    storage._journal.Remove(gone);
                }

                storage.Written?.Invoke($"journal row {number} ({payload.Length} bytes), {dead.Count} deleted, {storage._journal.Count} rows");
            }

            return storage.Queue(owner, $"append journal row {number}", Append);
        }
    }

    private sealed class Immediate(SimulatedGrainStorage storage) : IGrainStorage
    {
        public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            storage.Read(stateName, grainState);
            return Task.CompletedTask;
        }

        public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
            throw new NotSupportedException("Only for reading what is stored.");

        public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
            throw new NotSupportedException("Only for reading what is stored.");
    }
}

using System.Globalization;
using Orleans.Serialization;
using Orleans.Storage;

namespace Work.Scheduling;

/// <summary>
/// Job records kept as a journal, for the SQL stores: each write of a job appends one row, numbered one past the
/// newest, holding the records it wrote and the names it cleared. So a write is one INSERT and one commit, and a job
/// loads with one query, replaying its rows in order. Rows none of whose records is the newest any more are deleted
/// by a later write of the same job, in its statement, <see cref="DeleteBatch"/> at a time.
/// </summary>
/// <remarks>
/// Only one activation's write wins each number: a row goes in only while the job has no row numbered as high, so an
/// activation that loaded an older journal fails (as <see cref="InconsistentStateException"/>) once another one wrote,
/// even after that one deleted rows: a write deletes only rows below the one it appends.
/// </remarks>
internal abstract class JobJournal(Serializer serializer) : IJobRecordStorage
{
    /// <summary>How many dead rows a job keeps before a write deletes them.</summary>
    public const int DeleteBatch = 32;

    private readonly Serializer _serializer = serializer;

    public async Task<IJobRecords> OpenAsync(GrainId job) => new Opened(this, job, await ReadAsync(job));

    /// <summary>The job's rows, oldest first.</summary>
    protected abstract Task<List<(long Number, byte[] Payload)>> ReadAsync(GrainId job);

    /// <summary>
    /// Appends row <paramref name="number"/> and deletes rows <paramref name="dead"/>, in one statement, unless the
    /// job has a row numbered <paramref name="number"/> or higher: then throws <see cref="InconsistentStateException"/>
    /// and changes nothing.
    /// </summary>
    protected abstract Task AppendAsync(GrainId job, long number, byte[] payload, IReadOnlyList<long> dead);

    private sealed class Opened : IJobRecords
    {
        private readonly JobJournal _journal;
        private readonly GrainId _job;
        private readonly Dictionary<string, (long Row, byte[] Value)> _records = new(StringComparer.Ordinal);

        // How many records each row holds that are the newest of their name; rows with none are dead.
        private readonly Dictionary<long, int> _live = [];
        private readonly List<long> _dead = [];
        private long _newest;

        public Opened(JobJournal journal, GrainId job, List<(long Number, byte[] Payload)> rows)
        {
            _journal = journal;
            _job = job;
            foreach (var (number, payload) in rows)
            {
                var row = journal.Deserialize(payload);
                _live[number] = 0;
                Apply(number, row.Entries);
                _newest = number;
            }
        }

        public Task ReadAsync<T>(string name, IGrainState<T> state) => _records.TryGetValue(name, out var record)
            ? JobRecord.Found(state, _journal._serializer.Deserialize<T>(record.Value)!, record.Row.ToString(CultureInfo.InvariantCulture))
            : JobRecord.Missing(state);

        public async Task<IReadOnlyList<JobRecord>> WriteAsync(IReadOnlyList<JobRecord> segments, JobRecord main, IReadOnlyList<JobRecord> clears)
        {
            var entries = new List<JournalEntry>(segments.Count + 1 + clears.Count);
            foreach (var write in segments.Append(main))
            {
                entries.Add(new JournalEntry { Name = write.Name, Value = write.Serialize(_journal._serializer) });
            }

            foreach (var clear in clears)
            {
                entries.Add(new JournalEntry { Name = clear.Name });
            }

            var number = _newest + 1;

            // Dead rows go a batch at a time: deleting costs a commit about as much as appending does.
            var dead = _dead.Count >= DeleteBatch ? _dead.ToList() : [];
            await _journal.AppendAsync(_job, number, _journal._serializer.SerializeToArray(new JournalRow { Entries = entries }), dead);

            _newest = number;
            _dead.RemoveAll(dead.Contains);
            _live[number] = 0;
            Apply(number, entries);
            foreach (var write in segments.Append(main))
            {
                write.Written(number.ToString(CultureInfo.InvariantCulture));
            }

            foreach (var clear in clears)
            {
                clear.Written(null);
            }

            return [];
        }

        // Makes the row's records the newest of their names; rows left with none become dead (the newest row stays,
        // whatever it holds, until a newer one is written).
        private void Apply(long number, List<JournalEntry> entries)
        {
            foreach (var entry in entries)
            {
                if (_records.Remove(entry.Name, out var old) && _live.TryGetValue(old.Row, out var count))
                {
                    _live[old.Row] = count - 1;
                    if (count == 1 && old.Row != number)
                    {
                        _live.Remove(old.Row);
                        _dead.Add(old.Row);
                    }
                }

                if (entry.Value is { } value)
                {
                    _records[entry.Name] = (number, value);
                    _live[number]++;
                }
            }

            // The row before, if it holds nothing current, was only kept for being the newest.
            if (_newest != number && _live.TryGetValue(_newest, out var before) && before == 0)
            {
                _live.Remove(_newest);
                _dead.Add(_newest);
            }
        }
    }

    private JournalRow Deserialize(byte[] payload) => _serializer.Deserialize<JournalRow>(payload) ?? new JournalRow();
}

/// <summary>One row of a job's journal: the records one write put and the names it cleared.</summary>
[GenerateSerializer, Alias("work.journal-row")]
internal sealed class JournalRow
{
    [Id(0)]
    public List<JournalEntry> Entries { get; set; } = [];
}

/// <summary>A record a journal row put (its value in Orleans' binary format), or cleared (no value).</summary>
[GenerateSerializer, Immutable, Alias("work.journal-entry")]
internal sealed class JournalEntry
{
    [Id(0)]
    public string Name { get; set; } = "";

    [Id(1)]
    public byte[]? Value { get; set; }
}

using Orleans.Concurrency;

namespace Work.Grains;

/// <summary>
/// Holds, in silo memory, the records of the jobs whose ids hash to its key (<see cref="Scheduling.MemoryJobRecordStorage"/>).
/// A write arrives as one call and counts as a whole: every record it puts is at the version the writer read, or
/// nothing is written. Values are kept as given, not copied: callers on this silo pass them as immutable, and
/// writers never change a value once written (a job writes snapshots), so a write costs no serialization here.
/// </summary>
[Alias("work.IMemoryRecordsGrain")]
internal interface IMemoryRecordsGrain : IGrainWithIntegerKey
{
    /// <summary>The records of <paramref name="job"/>: name, value and version.</summary>
    [Alias("Read")]
    Task<Immutable<Dictionary<string, MemoryRecord>>> ReadAsync(string job);

    /// <summary>
    /// Puts and clears the records of <paramref name="job"/>. Writes nothing, and says why in the result's conflict,
    /// when a record to put is held at another version than the writer read: the writer throws, not this grain, so
    /// that Orleans does not take the bucket for the activation in conflict.
    /// </summary>
    [Alias("Write")]
    Task<MemoryWriteResult> WriteAsync(string job, Immutable<MemoryWrite> write);
}

/// <summary>A record as held: its value and version.</summary>
[GenerateSerializer, Immutable, Alias("work.memory-record")]
internal sealed record MemoryRecord([property: Id(0)] object? Value, [property: Id(1)] string ETag);

/// <summary>One write of a job: records to put (with the version read, null for none) and records to clear.</summary>
[GenerateSerializer, Immutable, Alias("work.memory-write")]
internal sealed record MemoryWrite(
    [property: Id(0)] IReadOnlyList<(string Name, object? Value, string? ETag)> Puts,
    [property: Id(1)] IReadOnlyList<(string Name, string? ETag)> Clears);

/// <summary>
/// The new version of every record put, in order, and the records not cleared (held at another version); or, when
/// nothing was written, the conflict that stopped it.
/// </summary>
[GenerateSerializer, Immutable, Alias("work.memory-write-result")]
internal sealed record MemoryWriteResult(
    [property: Id(0)] IReadOnlyList<string> ETags,
    [property: Id(1)] IReadOnlyList<string> NotCleared,
    [property: Id(2)] string? Conflict = null);

/// <summary>
/// The grain behind <see cref="IMemoryRecordsGrain"/>. It never deactivates on its own (its memory is the store); it
/// goes with its silo, and so do the records it held, as with Orleans' memory storage.
/// </summary>
[KeepAlive]
internal sealed class MemoryRecordsGrain : Grain, IMemoryRecordsGrain
{
    private readonly Dictionary<string, Dictionary<string, MemoryRecord>> _jobs = new(StringComparer.Ordinal);

    // Versions are unique to this activation: one that held a record before a silo went away is never matched.
    private readonly string _epoch = Guid.NewGuid().ToString("N")[..12];
    private long _version;

    public Task<Immutable<Dictionary<string, MemoryRecord>>> ReadAsync(string job) =>
        Task.FromResult(new Dictionary<string, MemoryRecord>(_jobs.GetValueOrDefault(job) ?? [], StringComparer.Ordinal).AsImmutable());

    public Task<MemoryWriteResult> WriteAsync(string job, Immutable<MemoryWrite> write)
    {
        var (puts, clears) = (write.Value.Puts, write.Value.Clears);
        _jobs.TryGetValue(job, out var records);

        // A record held at another version than the writer read fails the whole write. One not held at all is taken
        // whatever version the writer read: after a silo that held the records went away, the job writes them again.
        foreach (var (name, _, etag) in puts)
        {
            if (records is not null && records.TryGetValue(name, out var held) && held.ETag != etag)
            {
                return Task.FromResult(new MemoryWriteResult([], [], $"The record {name} of {job} was written by another activation (held at version {held.ETag}, written at {etag ?? "none"})."));
            }
        }

        if (records is null)
        {
            _jobs[job] = records = new(StringComparer.Ordinal);
        }

        var etags = new string[puts.Count];
        for (var i = 0; i < puts.Count; i++)
        {
            var (name, value, _) = puts[i];
            etags[i] = $"{_epoch}-{++_version}";
            records[name] = new MemoryRecord(value, etags[i]);
        }

        var notCleared = new List<string>();
        foreach (var (name, etag) in clears)
        {
            if (!records.TryGetValue(name, out var held))
            {
                continue;
            }

            if (held.ETag == etag)
            {
                records.Remove(name);
            }
            else
            {
                notCleared.Add(name);
            }
        }

        if (records.Count == 0)
        {
            _jobs.Remove(job);
        }

        return Task.FromResult(new MemoryWriteResult(etags, notCleared));
    }
}

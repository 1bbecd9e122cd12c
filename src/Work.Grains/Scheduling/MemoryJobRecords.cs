using Orleans.Concurrency;
using Orleans.Serialization;
using Orleans.Storage;
using Work.Grains;

namespace Work.Scheduling;

/// <summary>
/// Job records kept in silo memory (<c>UseWorkMemoryStorage</c>), in <see cref="Buckets"/> grains keyed by a hash of
/// the job's id. A write is one call carrying every record it puts and clears, and it counts as a whole. Values pass
/// by reference to a bucket on the same silo: they are copied once, when an activation reads them, never on a write.
/// Nothing survives the silo that holds a bucket.
/// </summary>
internal sealed class MemoryJobRecordStorage(IGrainFactory grains, DeepCopier copier) : IJobRecordStorage
{
    /// <summary>How many bucket grains hold the records of all jobs.</summary>
    public const int Buckets = 16;

    public async Task<IJobRecords> OpenAsync(GrainId job)
    {
        var bucket = grains.GetGrain<IMemoryRecordsGrain>(job.GetUniformHashCode() % Buckets);
        var key = job.ToString();
        var held = await bucket.ReadAsync(key);
        return new Opened(bucket, key, held.Value, copier);
    }

    private sealed class Opened(IMemoryRecordsGrain bucket, string job, Dictionary<string, MemoryRecord> held, DeepCopier copier) : IJobRecords
    {
        // The activation changes what it reads: it gets its own copy, and the held value stays as written.
        public Task ReadAsync<T>(string name, IGrainState<T> state) => held.TryGetValue(name, out var record)
            ? JobRecord.Found(state, copier.Copy((T)record.Value!), record.ETag)
            : JobRecord.Missing(state);

        public async Task<IReadOnlyList<JobRecord>> WriteAsync(IReadOnlyList<JobRecord> segments, JobRecord main, IReadOnlyList<JobRecord> clears)
        {
            var puts = segments.Append(main).ToList();
            var write = new MemoryWrite(puts.ConvertAll(p => (p.Name, p.Value, p.ETag)), [.. clears.Select(c => (c.Name, c.ETag))]);
            var result = await bucket.WriteAsync(job, write.AsImmutable());
            if (result.Conflict is { } conflict)
            {
                throw new InconsistentStateException(conflict);
            }

            for (var i = 0; i < puts.Count; i++)
            {
                puts[i].Written(result.ETags[i]);
            }

            var notCleared = new List<JobRecord>();
            foreach (var clear in clears)
            {
                if (result.NotCleared.Contains(clear.Name))
                {
                    notCleared.Add(clear);
                }
                else
                {
                    clear.Written(null);
                }
            }

            return notCleared;
        }
    }
}

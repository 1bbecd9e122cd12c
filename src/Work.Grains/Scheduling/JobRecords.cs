using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Storage;

namespace Work.Scheduling;

/// <summary>
/// Where jobs keep their records (a main state and the segments it points at). A write names the segments it changed,
/// the main state that makes them count, and the segments the main state no longer points at. The SQL stores keep a
/// journal: each write is one appended row, so one commit; over Orleans grain storage the segments are written first,
/// then the main state, then the clears. Either way a write that throws did not make its main state count.
/// </summary>
internal interface IJobRecordStorage
{
    /// <summary>Opens one job's records for an activation: a SQL store reads them all here, in one query.</summary>
    Task<IJobRecords> OpenAsync(GrainId job);
}

/// <summary>One job's records, opened by its activation.</summary>
internal interface IJobRecords
{
    /// <summary>Fills <paramref name="state"/> with the record <paramref name="name"/> as opened; its ETag stays null when there is none.</summary>
    Task ReadAsync<T>(string name, IGrainState<T> state);

    /// <summary>
    /// Writes <paramref name="segments"/> and <paramref name="main"/>, each at the version its state holds (none: new),
    /// and clears <paramref name="clears"/>. Throws <see cref="InconsistentStateException"/> when another activation
    /// wrote meanwhile. Returns the clears that could not be done, to try again later.
    /// </summary>
    Task<IReadOnlyList<JobRecord>> WriteAsync(IReadOnlyList<JobRecord> segments, JobRecord main, IReadOnlyList<JobRecord> clears);
}

/// <summary>One record to write or clear: a name and the grain state (value and ETag) it is kept in.</summary>
internal abstract class JobRecord(string name)
{
    public string Name { get; } = name;

    /// <summary>The version read or last written; null when storage has none.</summary>
    public abstract string? ETag { get; }

    /// <summary>The value, for stores that keep it as it is; never changed once written.</summary>
    public abstract object? Value { get; }

    /// <summary>The value in Orleans' binary format, for stores that keep bytes.</summary>
    public abstract byte[] Serialize(Serializer serializer);

    /// <summary>Tells the state its new version once the write counts (null: cleared).</summary>
    public abstract void Written(string? etag);

    /// <summary>Writes the record through Orleans grain storage.</summary>
    public abstract Task WriteAsync(IGrainStorage storage, GrainId job);

    /// <summary>Clears the record through Orleans grain storage.</summary>
    public abstract Task ClearAsync(IGrainStorage storage, GrainId job);

    public static JobRecord Of<T>(string name, IGrainState<T> state) => new Typed<T>(name, state);

    /// <summary>Fills <paramref name="state"/> with a record a store read: its value and version.</summary>
    public static Task Found<T>(IGrainState<T> state, T value, string etag)
    {
        state.State = value;
        state.ETag = etag;
        state.RecordExists = true;
        return Task.CompletedTask;
    }

    /// <summary>Marks <paramref name="state"/> as read with no record stored; its value stays as it was.</summary>
    public static Task Missing<T>(IGrainState<T> state)
    {
        state.ETag = null;
        state.RecordExists = false;
        return Task.CompletedTask;
    }

    private sealed class Typed<T>(string name, IGrainState<T> state) : JobRecord(name)
    {
        public override string? ETag => state.ETag;

        public override object? Value => state.State;

        public override byte[] Serialize(Serializer serializer) => serializer.SerializeToArray(state.State);

        public override void Written(string? etag)
        {
            state.ETag = etag;
            state.RecordExists = etag is not null;
        }

        public override Task WriteAsync(IGrainStorage storage, GrainId job) => storage.WriteStateAsync(Name, job, state);

        public override Task ClearAsync(IGrainStorage storage, GrainId job) => storage.ClearStateAsync(Name, job, state);
    }
}

/// <summary>Job records kept as Orleans grain states (memory storage, or any grain storage provider): one call per record.</summary>
internal sealed class GrainStorageRecords(IGrainStorage storage) : IJobRecordStorage
{
    /// <summary>
    /// The work storage's job records: a SQL store's journal (one transaction a write) when one is registered,
    /// otherwise the work grain storage, record by record.
    /// </summary>
    public static IJobRecordStorage For(IServiceProvider services) =>
        services.GetKeyedService<IJobRecordStorage>(Grains.WorkClusterOptions.StorageName)
            ?? new GrainStorageRecords(services.GetRequiredKeyedService<IGrainStorage>(Grains.WorkClusterOptions.StorageName));

    public Task<IJobRecords> OpenAsync(GrainId job) => Task.FromResult<IJobRecords>(new Opened(storage, job));

    private sealed class Opened(IGrainStorage storage, GrainId job) : IJobRecords
    {
        public Task ReadAsync<T>(string name, IGrainState<T> state) => storage.ReadStateAsync(name, job, state);

        public async Task<IReadOnlyList<JobRecord>> WriteAsync(IReadOnlyList<JobRecord> segments, JobRecord main, IReadOnlyList<JobRecord> clears)
        {
            // Each awaited on its own, so every continuation runs where the caller's turns run.
            await Task.WhenAll(segments.Select(async s => await s.WriteAsync(storage, job)));
            await main.WriteAsync(storage, job);
            var failed = new List<JobRecord>();
            await Task.WhenAll(clears.Select(async clear =>
            {
                try
                {
                    await clear.ClearAsync(storage, job);
                }
                catch (Exception)
                {
                    lock (failed)
                    {
                        failed.Add(clear);
                    }
                }
            }));
            return failed;
        }
    }
}

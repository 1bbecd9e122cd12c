using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using Orleans.Storage;
using Work.Cluster;
using Work.Scheduling;

namespace Work.Grains;

/// <summary>
/// The names of the defined jobs in the work storage, as a <see cref="JobCatalog"/> of buckets: a change writes the
/// buckets it touched and a small index, and changes that arrive together share one write. Another activation's write
/// (possible for a moment while silos join or leave) makes this one read storage again and apply its changes there.
/// </summary>
[Reentrant]
internal sealed partial class JobCatalogGrain(ILogger<JobCatalogGrain> logger) : Grain, IJobCatalogGrain
{
    /// <summary>The index's record: how many buckets there are.</summary>
    public const string IndexName = "catalog-index";

    /// <summary>The record the catalog of earlier versions kept all names in; read once when there is no index.</summary>
    public const string LegacyName = "catalog";

    private const int WriteAttempts = 5;

    private IJobRecordStorage _storage = null!;
    private IJobRecords _records = null!;
    private GroupCommit _commit = null!;
    private JobCatalog _catalog = new();
    private GrainState<CatalogIndex> _index = new(new CatalogIndex());
    private Dictionary<int, GrainState<CatalogBucket>> _buckets = [];

    // Changes applied in memory that no write has stored yet, oldest first: applied again after a reload.
    private readonly List<(bool Add, string Name)> _unwritten = [];

    public static string BucketName(int number) => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"catalog-bucket-{number}");

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _storage = GrainStorageRecords.For(ServiceProvider);
        _commit = new GroupCommit(WriteAsync, TimeSpan.Zero, new GrainJobTimers(this), error =>
        {
            LogWriteFailed(logger, error);
            return true;
        });
        await LoadAsync();
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        try
        {
            await _commit.FlushAsync().WaitAsync(cancellationToken);
        }
        catch (Exception ex)
        {
            LogWriteFailed(logger, ex);
        }
    }

    public Task AddAsync(string name)
    {
        if (JobLimits.NameProblem(name) is { } problem)
        {
            throw new ArgumentException(problem, nameof(name));
        }

        return Change(add: true, name);
    }

    public Task RemoveAsync(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return Change(add: false, name);
    }

    public Task<IReadOnlyList<string>> ListAsync(string? after, int count)
    {
        if (count is < 1 or > IJobCatalogGrain.MaxPageSize)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, $"A page of job names holds 1 to {IJobCatalogGrain.MaxPageSize} names; {count} were asked for.");
        }

        return Task.FromResult(_catalog.Page(after, count));
    }

    public Task<int> CountAsync() => Task.FromResult(_catalog.Count);

    // A change that changes nothing still waits for the write under way, which may be storing it.
    private Task Change(bool add, string name)
    {
        if (add ? _catalog.Add(name) : _catalog.Remove(name))
        {
            _unwritten.Add((add, name));
        }

        return _commit.Busy || _catalog.HasChanges ? _commit.CommitAsync() : Task.CompletedTask;
    }

    private async Task LoadAsync()
    {
        var records = await _storage.OpenAsync(GrainContext.GrainId);
        var index = new GrainState<CatalogIndex>(new CatalogIndex());
        await records.ReadAsync(IndexName, index);
        index.State ??= new CatalogIndex();
        var buckets = new Dictionary<int, GrainState<CatalogBucket>>();
        var names = new List<IReadOnlyList<string>?>();
        for (var number = 0; number < index.State.Buckets; number++)
        {
            var bucket = new GrainState<CatalogBucket>(new CatalogBucket());
            await records.ReadAsync(BucketName(number), bucket);
            buckets[number] = bucket;
            names.Add(bucket.State?.Names);
        }

        var catalog = JobCatalog.Load(names);
        if (!index.RecordExists)
        {
            // Stored by an earlier version as one list: kept in buckets from the next write on.
            var legacy = new GrainState<JobCatalogState>(new JobCatalogState());
            await ServiceProvider.GetRequiredKeyedService<IGrainStorage>(WorkClusterOptions.StorageName).ReadStateAsync(LegacyName, GrainContext.GrainId, legacy);
            foreach (var name in legacy.State?.Names ?? [])
            {
                catalog.Add(name);
            }
        }

        foreach (var (add, name) in _unwritten)
        {
            _ = add ? catalog.Add(name) : catalog.Remove(name);
        }

        (_records, _index, _buckets, _catalog) = (records, index, buckets, catalog);
    }

    private async Task WriteAsync()
    {
        for (var attempt = 1; ; attempt++)
        {
            var taken = _unwritten.Count;
            var changes = _catalog.TakeChanges();
            if (changes.Count == 0 && (_index.State?.Buckets ?? 0) == _catalog.BucketCount)
            {
                // Only waited for the write under way (a change that changed nothing): nothing to store.
                return;
            }

            var segments = changes.Select(change =>
            {
                if (!_buckets.TryGetValue(change.Number, out var bucket))
                {
                    _buckets[change.Number] = bucket = new GrainState<CatalogBucket>(new CatalogBucket());
                }

                bucket.State = new CatalogBucket { Names = change.Names };
                return JobRecord.Of(BucketName(change.Number), bucket);
            }).ToList();
            _index.State = new CatalogIndex { Buckets = _catalog.BucketCount };
            try
            {
                await _records.WriteAsync(segments, JobRecord.Of(IndexName, _index), []);
                _unwritten.RemoveRange(0, taken);
                return;
            }
            catch (InconsistentStateException ex) when (attempt < WriteAttempts)
            {
                // Another activation wrote meanwhile: take what it stored and apply this one's changes to it.
                LogConflict(logger, ex);
                await LoadAsync();
            }
            catch (Exception)
            {
                _catalog.NotWritten(changes.Select(c => c.Number));
                throw;
            }
        }
    }

    [LoggerMessage(EventId = 2310, Level = LogLevel.Warning, Message = "The job catalog could not be written; it tries again")]
    private static partial void LogWriteFailed(ILogger logger, Exception error);

    [LoggerMessage(EventId = 2311, Level = LogLevel.Information, Message = "The job catalog was written by another activation meanwhile; it reads it again")]
    private static partial void LogConflict(ILogger logger, Exception error);
}

/// <summary>The catalog's index: how many buckets it has.</summary>
[GenerateSerializer, Alias("work.catalog-index")]
internal sealed class CatalogIndex
{
    [Id(0)]
    public int Buckets { get; set; }
}

/// <summary>One bucket of the catalog's names.</summary>
[GenerateSerializer, Alias("work.catalog-bucket")]
internal sealed class CatalogBucket
{
    [Id(0)]
    public string[] Names { get; set; } = [];
}

/// <summary>The catalog's state in earlier versions: every name in one record.</summary>
[GenerateSerializer, Alias("work.catalog-state")]
internal sealed class JobCatalogState
{
    [Id(0)]
    public SortedSet<string> Names { get; set; } = new(StringComparer.Ordinal);
}

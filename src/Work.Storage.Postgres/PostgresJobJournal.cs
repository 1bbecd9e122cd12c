using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Configuration;
using Orleans.Serialization;
using Orleans.Storage;
using Work.Scheduling;

namespace Work.Storage.Postgres;

/// <summary>
/// Jobs' journals in PostgreSQL (table work_job_journal): a job loads with one query, and each write is one INSERT.
/// Loads and writes of many jobs that wait at the same moment go together: one query for up to <see cref="MaxBatch"/>
/// loads, and one round trip and one commit for up to <see cref="MaxBatch"/> writes (<see cref="Loops"/> batches of
/// each on their way at once), so many jobs activating or writing at once (a silo starting, 100,000 jobs defined) cost
/// a few round trips instead of one each. A batch of writes is one implicit transaction: if one of its statements
/// fails (two activations of a job raced for a row), each is tried again on its own, so only that job's write fails.
/// Loads go through connections of their own that plan each load for the jobs it names (see
/// <see cref="CreateDataSource"/>).
/// </summary>
internal sealed class PostgresJobJournal : JobJournal, IAsyncDisposable, IDisposable
{
    /// <summary>The most loads or writes one batch carries.</summary>
    public const int MaxBatch = 128;

    /// <summary>How many batches of loads, and of writes, may be on their way at once.</summary>
    public const int Loops = 2;

    internal const string ReadSql = "SELECT job, number, payload FROM work_job_journal WHERE service_id = $1 AND job = ANY($2) ORDER BY job, number";

    // The row goes in only while the job has none numbered as high.
    private const string AppendSql = """
        INSERT INTO work_job_journal (service_id, job, number, payload, written_on)
        SELECT $1, $2, $3, $4, now()
        WHERE NOT EXISTS (SELECT 1 FROM work_job_journal WHERE service_id = $1 AND job = $2 AND number >= $3)
        """;

    // The same, deleting dead rows (all below it) in the same statement: one write in DeleteBatch of the job's. The
    // others leave the DELETE out, which costs a commit about a tenth of its rate even when it deletes nothing.
    private const string AppendAndDeleteSql = """
        WITH dead AS (
            DELETE FROM work_job_journal WHERE service_id = $1 AND job = $2 AND number = ANY($5))

        """ + AppendSql;

    private readonly NpgsqlDataSource _data;
    private readonly NpgsqlDataSource _loads;
    private readonly string _serviceId;
    private readonly Batcher<Read> _reads;
    private readonly Batcher<Append> _appends;

    /// <param name="data">The connections writes go through (<see cref="CreateDataSource"/>).</param>
    /// <param name="loads">The connections loads go through (<see cref="CreateDataSource"/> with planEachCall).</param>
    /// <param name="serializer">Serializes the records.</param>
    /// <param name="cluster">Names the service whose journals these are.</param>
    public PostgresJobJournal(NpgsqlDataSource data, NpgsqlDataSource loads, Serializer serializer, IOptions<ClusterOptions> cluster)
        : base(serializer)
    {
        _data = data;
        _loads = loads;
        _serviceId = cluster.Value.ServiceId;
        _reads = new Batcher<Read>(MaxBatch, Loops, ReadAsync);
        _appends = new Batcher<Append>(MaxBatch, Loops, WriteAsync);
    }

    /// <summary>Takes no more writes and waits for those taken (the silo has stopped: its jobs wrote what they had).</summary>
    public async ValueTask DisposeAsync()
    {
        await _reads.DisposeAsync();
        await _appends.DisposeAsync();
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>
    /// The journal's connections: its statements are prepared on each connection after their second use, since
    /// planning one costs about as much as the commit it waits for; and a connection going back to the pool is not
    /// reset (its statements change no session state), which saves the server a reset statement on every write.
    /// </summary>
    /// <param name="connectionString">The server and database.</param>
    /// <param name="planEachCall">
    /// True for the connections loads go through: the server plans every call of a prepared statement for its values
    /// and the table as it is then (plan_cache_mode force_custom_plan). A load names its jobs in an array, and a plan
    /// kept from when the table was nearly empty scans all of the service's rows for them (on a new database, defining
    /// 100,000 jobs took 88 s instead of 35 s in about one run of three). Writes keep their plans: each names its row
    /// by the whole key.
    /// </param>
    public static NpgsqlDataSource CreateDataSource(string connectionString, bool planEachCall = false)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        if (builder.ConnectionStringBuilder.MaxAutoPrepare == 0)
        {
            builder.ConnectionStringBuilder.MaxAutoPrepare = 8;
        }

        builder.ConnectionStringBuilder.NoResetOnClose = true;
        if (planEachCall)
        {
            builder.ConnectionStringBuilder.Options = $"{builder.ConnectionStringBuilder.Options} -c plan_cache_mode=force_custom_plan".Trim();
        }

        return builder.Build();
    }

    protected override Task<List<(long Number, byte[] Payload)>> ReadAsync(GrainId job)
    {
        var read = new Read(job.ToString());
        return _reads.TryAdd(read) ? read.Done.Task : throw Closed();
    }

    // One query for every job in the batch.
    private async Task ReadAsync(List<Read> reads)
    {
        try
        {
            var byJob = reads.ToLookup(r => r.Job, StringComparer.Ordinal);
            var rows = byJob.ToDictionary(g => g.Key, _ => new List<(long, byte[])>(), StringComparer.Ordinal);
            await using (var command = _loads.CreateCommand(ReadSql))
            {
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _serviceId });
                command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. rows.Keys] });
                await using var reader = await command.ExecuteReaderAsync();
                while (await reader.ReadAsync())
                {
                    rows[reader.GetString(0)].Add((reader.GetInt64(1), reader.GetFieldValue<byte[]>(2)));
                }
            }

            foreach (var read in reads)
            {
                // Each caller gets its own list: a job read twice in one batch (two activations) must not share one.
                read.Done.TrySetResult([.. rows[read.Job]]);
            }
        }
        catch (Exception ex)
        {
            foreach (var read in reads)
            {
                read.Done.TrySetException(ex);
            }
        }
    }

    protected override async Task AppendAsync(GrainId job, long number, byte[] payload, IReadOnlyList<long> dead)
    {
        var append = new Append(job, number, payload, dead);
        if (!_appends.TryAdd(append))
        {
            throw Closed();
        }

        if (await append.Done.Task != 1)
        {
            throw new InconsistentStateException($"Job state of {job} was written by another activation (journal row {number} taken).");
        }
    }

    // A batch of writes in one round trip.
    private async Task WriteAsync(List<Append> batch)
    {
        try
        {
            var inserted = await InsertAsync(batch);
            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].Done.TrySetResult(inserted[i]);
            }
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            // The whole batch was rolled back for one job's race: each goes again alone, and the one that lost the
            // race finds its number taken (a conflict, not a database error), also when it was alone.
            foreach (var append in batch)
            {
                await WriteAloneAsync(append);
            }
        }
        catch (Exception ex)
        {
            foreach (var append in batch)
            {
                append.Done.TrySetException(ex);
            }
        }
    }

    private async Task WriteAloneAsync(Append append)
    {
        try
        {
            append.Done.TrySetResult((await InsertAsync([append]))[0]);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            append.Done.TrySetResult(0);
        }
        catch (Exception ex)
        {
            append.Done.TrySetException(ex);
        }
    }

    // One statement per write, sent together: without a transaction of its own, the batch commits as one.
    private async Task<int[]> InsertAsync(List<Append> appends)
    {
        await using var batch = _data.CreateBatch();
        foreach (var append in appends)
        {
            var command = new NpgsqlBatchCommand(append.Dead.Count > 0 ? AppendAndDeleteSql : AppendSql);
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _serviceId });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = append.Job.ToString() });
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = append.Number });
            command.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = append.Payload });
            if (append.Dead.Count > 0)
            {
                command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = [.. append.Dead] });
            }

            batch.BatchCommands.Add(command);
        }

        await batch.ExecuteNonQueryAsync();
        var inserted = new int[appends.Count];
        for (var i = 0; i < inserted.Length; i++)
        {
            inserted[i] = batch.BatchCommands[i].RecordsAffected;
        }

        return inserted;
    }

    private static ObjectDisposedException Closed() => new(nameof(PostgresJobJournal), "The job journal is closed: its silo is stopping.");

    private sealed record Read(string Job)
    {
        public TaskCompletionSource<List<(long Number, byte[] Payload)>> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed record Append(GrainId Job, long Number, byte[] Payload, IReadOnlyList<long> Dead)
    {
        public TaskCompletionSource<int> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

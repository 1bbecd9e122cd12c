using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Configuration;
using Orleans.Serialization;
using Orleans.Storage;
using Work.Scheduling;

namespace Work.Storage.Postgres;

/// <summary>
/// Jobs' journals in PostgreSQL (table work_job_journal): a job loads with one query, and each write is one INSERT.
/// Writes of many jobs that wait at the same moment go together: one round trip and one commit for up to
/// <see cref="MaxBatch"/> of them (<see cref="Writers"/> such batches on their way at once), so many jobs writing at
/// once cost a few commits instead of one each. A batch is one implicit transaction: if one of its statements fails
/// (two activations of a job raced for a row), each is tried again on its own, so only that job's write fails.
/// </summary>
internal sealed class PostgresJobJournal : JobJournal, IAsyncDisposable, IDisposable
{
    /// <summary>The most writes one batch carries.</summary>
    public const int MaxBatch = 128;

    /// <summary>How many batches may be on their way at once.</summary>
    public const int Writers = 2;

    private const string ReadSql = "SELECT number, payload FROM work_job_journal WHERE service_id = $1 AND job = $2 ORDER BY number";

    // The row goes in only while the job has none numbered as high; the rows deleted are all below it.
    private const string AppendSql = """
        WITH dead AS (
            DELETE FROM work_job_journal WHERE service_id = $1 AND job = $2 AND number = ANY($5))
        INSERT INTO work_job_journal (service_id, job, number, payload, written_on)
        SELECT $1, $2, $3, $4, now()
        WHERE NOT EXISTS (SELECT 1 FROM work_job_journal WHERE service_id = $1 AND job = $2 AND number >= $3)
        """;

    private readonly NpgsqlDataSource _data;
    private readonly string _serviceId;
    private readonly Channel<Append> _appends = Channel.CreateUnbounded<Append>(new UnboundedChannelOptions { SingleReader = false });
    private readonly Task[] _writers;

    public PostgresJobJournal(NpgsqlDataSource data, Serializer serializer, IOptions<ClusterOptions> cluster)
        : base(serializer)
    {
        _data = data;
        _serviceId = cluster.Value.ServiceId;
        _writers = [.. Enumerable.Range(0, Writers).Select(_ => Task.Run(WriteAsync))];
    }

    /// <summary>Takes no more writes and waits for those taken (the silo has stopped: its jobs wrote what they had).</summary>
    public async ValueTask DisposeAsync()
    {
        _appends.Writer.TryComplete();
        await Task.WhenAll(_writers);
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>
    /// The journal's connections: its statements are prepared on each connection after their second use, since
    /// planning one costs about as much as the commit it waits for.
    /// </summary>
    public static NpgsqlDataSource CreateDataSource(string connectionString)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        if (builder.ConnectionStringBuilder.MaxAutoPrepare == 0)
        {
            builder.ConnectionStringBuilder.MaxAutoPrepare = 8;
        }

        return builder.Build();
    }

    protected override async Task<List<(long Number, byte[] Payload)>> ReadAsync(GrainId job)
    {
        var rows = new List<(long, byte[])>();
        await using var command = _data.CreateCommand(ReadSql);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _serviceId });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = job.ToString() });
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetInt64(0), reader.GetFieldValue<byte[]>(1)));
        }

        return rows;
    }

    protected override async Task AppendAsync(GrainId job, long number, byte[] payload, IReadOnlyList<long> dead)
    {
        var append = new Append(job, number, payload, dead);
        if (!_appends.Writer.TryWrite(append))
        {
            throw new ObjectDisposedException(nameof(PostgresJobJournal), "The job journal is closed: its silo is stopping.");
        }

        if (await append.Done.Task != 1)
        {
            throw new InconsistentStateException($"Job state of {job} was written by another activation (journal row {number} taken).");
        }
    }

    // Takes what waits (at most MaxBatch) and writes it in one round trip; a lone write goes at once.
    private async Task WriteAsync()
    {
        var batch = new List<Append>(MaxBatch);
        while (await _appends.Reader.WaitToReadAsync())
        {
            while (batch.Count < MaxBatch && _appends.Reader.TryRead(out var append))
            {
                batch.Add(append);
            }

            if (batch.Count == 0)
            {
                continue;
            }

            try
            {
                var inserted = await InsertAsync(batch);
                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Done.TrySetResult(inserted[i]);
                }
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation && batch.Count > 1)
            {
                // The whole batch was rolled back for one job's race: each goes again alone.
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

            batch.Clear();
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
            var command = new NpgsqlBatchCommand(AppendSql);
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _serviceId });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = append.Job.ToString() });
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = append.Number });
            command.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = append.Payload });
            command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = [.. append.Dead] });
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

    private sealed record Append(GrainId Job, long Number, byte[] Payload, IReadOnlyList<long> Dead)
    {
        public TaskCompletionSource<int> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

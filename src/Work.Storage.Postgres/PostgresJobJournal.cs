using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Configuration;
using Orleans.Serialization;
using Orleans.Storage;
using Work.Scheduling;

namespace Work.Storage.Postgres;

/// <summary>Jobs' journals in PostgreSQL (table work_job_journal): a job loads with one query, and each write is one INSERT.</summary>
internal sealed class PostgresJobJournal(NpgsqlDataSource data, Serializer serializer, IOptions<ClusterOptions> cluster) : JobJournal(serializer)
{
    private const string ReadSql = "SELECT number, payload FROM work_job_journal WHERE service_id = $1 AND job = $2 ORDER BY number";

    // The row goes in only while the job has none numbered as high; the rows deleted are all below it.
    private const string AppendSql = """
        WITH dead AS (
            DELETE FROM work_job_journal WHERE service_id = $1 AND job = $2 AND number = ANY($5))
        INSERT INTO work_job_journal (service_id, job, number, payload, written_on)
        SELECT $1, $2, $3, $4, now()
        WHERE NOT EXISTS (SELECT 1 FROM work_job_journal WHERE service_id = $1 AND job = $2 AND number >= $3)
        """;

    private readonly string _serviceId = cluster.Value.ServiceId;

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
        await using var command = data.CreateCommand(ReadSql);
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
        await using var command = data.CreateCommand(AppendSql);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _serviceId });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = job.ToString() });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = number });
        command.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = payload });
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = [.. dead] });
        int inserted;
        try
        {
            inserted = await command.ExecuteNonQueryAsync();
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            inserted = 0;
        }

        if (inserted != 1)
        {
            throw new InconsistentStateException($"Job state of {job} was written by another activation (journal row {number} taken).");
        }
    }
}

using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Serialization;
using Orleans.Storage;
using Work.Scheduling;

namespace Work.Storage.Sqlite;

/// <summary>
/// Jobs' journals in SQLite (table work_job_journal). Microsoft.Data.Sqlite works synchronously underneath, so the
/// database is used from two threads of this store's own, never from the silo's: a reader, and a writer that takes
/// every write waiting and commits them in one transaction (each in a savepoint of its own, so one job's conflict
/// leaves the others' writes in).
/// </summary>
internal sealed class SqliteJobJournal : JobJournal, IDisposable
{
    private const int MaxWritesPerCommit = 256;

    private readonly string _connectionString;
    private readonly string _serviceId;
    private readonly BlockingCollection<Append> _appends = [];
    private readonly BlockingCollection<Read> _reads = [];
    private readonly Thread _writer;
    private readonly Thread _reader;

    // The writer thread's prepared statements, for its current connection.
    private Statements? _statements;

    public SqliteJobJournal(SqliteDatabase database, Serializer serializer, IOptions<ClusterOptions> cluster)
        : base(serializer)
    {
        _connectionString = database.ConnectionString;
        _serviceId = cluster.Value.ServiceId;
        _writer = new Thread(WriteLoop) { IsBackground = true, Name = "Work SQLite journal writer" };
        _reader = new Thread(ReadLoop) { IsBackground = true, Name = "Work SQLite journal reader" };
        _writer.Start();
        _reader.Start();
    }

    public void Dispose()
    {
        _appends.CompleteAdding();
        _reads.CompleteAdding();
        _writer.Join();
        _reader.Join();
        _appends.Dispose();
        _reads.Dispose();
    }

    protected override Task<List<(long Number, byte[] Payload)>> ReadAsync(GrainId job)
    {
        var read = new Read(job.ToString());
        _reads.Add(read);
        return read.Done.Task;
    }

    protected override Task AppendAsync(GrainId job, long number, byte[] payload, IReadOnlyList<long> dead)
    {
        var append = new Append(job.ToString(), number, payload, dead);
        _appends.Add(append);
        return append.Done.Task;
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        return connection;
    }

    private void ReadLoop()
    {
        SqliteConnection? connection = null;
        try
        {
            foreach (var read in _reads.GetConsumingEnumerable())
            {
                try
                {
                    connection ??= Open();
                    using var command = connection.CreateCommand();
                    command.CommandText = "SELECT number, payload FROM work_job_journal WHERE service_id = $service AND job = $job ORDER BY number";
                    command.Parameters.AddWithValue("$service", _serviceId);
                    command.Parameters.AddWithValue("$job", read.Job);
                    var rows = new List<(long, byte[])>();
                    using (var reader = command.ExecuteReader())
                    {
                        while (reader.Read())
                        {
                            rows.Add((reader.GetInt64(0), (byte[])reader.GetValue(1)));
                        }
                    }

                    read.Done.TrySetResult(rows);
                }
                catch (Exception ex)
                {
                    connection?.Dispose();
                    connection = null;
                    read.Done.TrySetException(ex);
                }
            }
        }
        finally
        {
            connection?.Dispose();
        }
    }

    private void WriteLoop()
    {
        SqliteConnection? connection = null;
        var batch = new List<Append>();
        try
        {
            while (!_appends.IsCompleted)
            {
                batch.Clear();
                if (!_appends.TryTake(out var first, Timeout.Infinite))
                {
                    continue;
                }

                batch.Add(first);
                while (batch.Count < MaxWritesPerCommit && _appends.TryTake(out var next))
                {
                    batch.Add(next);
                }

                try
                {
                    connection ??= Open();
                    Commit(connection, batch);
                }
                catch (Exception ex)
                {
                    connection?.Dispose();
                    connection = null;
                    foreach (var append in batch)
                    {
                        append.Done.TrySetException(ex);
                    }
                }
            }
        }
        catch (InvalidOperationException) when (_appends.IsCompleted)
        {
            // Disposed while waiting.
        }
        finally
        {
            connection?.Dispose();
        }
    }

    // One transaction for the whole batch; each write in a savepoint, rolled back alone when the job's journal moved on.
    // A lone write needs no savepoint: its conflict rolls the transaction back. The statements are prepared once per
    // connection.
    private void Commit(SqliteConnection connection, List<Append> batch)
    {
        var statements = _statements is { } prepared && prepared.Connection == connection ? prepared : _statements = new Statements(connection, _serviceId);
        var conflicts = new List<Append>();
        using (var transaction = connection.BeginTransaction(deferred: false))
        {
            statements.Enlist(transaction);
            if (batch.Count == 1)
            {
                if (statements.TryAppend(batch[0]))
                {
                    transaction.Commit();
                }
                else
                {
                    transaction.Rollback();
                    conflicts.Add(batch[0]);
                }
            }
            else
            {
                foreach (var append in batch)
                {
                    transaction.Save("append");
                    if (statements.TryAppend(append))
                    {
                        transaction.Release("append");
                    }
                    else
                    {
                        transaction.Rollback("append");
                        transaction.Release("append");
                        conflicts.Add(append);
                    }
                }

                transaction.Commit();
            }
        }

        foreach (var append in batch)
        {
            if (conflicts.Contains(append))
            {
                append.Done.TrySetException(new InconsistentStateException(
                    $"Job state of {append.Job} was written by another activation (journal row {append.Number} taken)."));
            }
            else
            {
                append.Done.TrySetResult();
            }
        }
    }

    // The writer's statements on its connection, prepared once and bound again for every write.
    private sealed class Statements
    {
        private readonly SqliteCommand _check;
        private readonly SqliteCommand _insert;
        private readonly SqliteCommand _delete;

        public Statements(SqliteConnection connection, string serviceId)
        {
            Connection = connection;
            _check = Command(connection, serviceId, "SELECT EXISTS (SELECT 1 FROM work_job_journal WHERE service_id = $service AND job = $job AND number >= $number)", "$number");
            _insert = Command(
                connection,
                serviceId,
                "INSERT INTO work_job_journal (service_id, job, number, payload, written_on) VALUES ($service, $job, $number, $payload, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
                "$number",
                "$payload");
            _delete = Command(connection, serviceId, "DELETE FROM work_job_journal WHERE service_id = $service AND job = $job AND number IN (SELECT value FROM json_each($dead))", "$dead");
        }

        public SqliteConnection Connection { get; }

        public void Enlist(SqliteTransaction transaction)
        {
            _check.Transaction = transaction;
            _insert.Transaction = transaction;
            _delete.Transaction = transaction;
        }

        public bool TryAppend(Append append)
        {
            _check.Parameters["$job"].Value = append.Job;
            _check.Parameters["$number"].Value = append.Number;
            if (Convert.ToInt64(_check.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) != 0)
            {
                return false;
            }

            _insert.Parameters["$job"].Value = append.Job;
            _insert.Parameters["$number"].Value = append.Number;
            _insert.Parameters["$payload"].Value = append.Payload;
            _insert.ExecuteNonQuery();
            if (append.Dead.Count > 0)
            {
                _delete.Parameters["$job"].Value = append.Job;
                _delete.Parameters["$dead"].Value = "[" + string.Join(',', append.Dead) + "]";
                _delete.ExecuteNonQuery();
            }

            return true;
        }

        private static SqliteCommand Command(SqliteConnection connection, string serviceId, string text, params string[] more)
        {
            var command = connection.CreateCommand();
            command.CommandText = text;
            command.Parameters.AddWithValue("$service", serviceId);
            command.Parameters.Add("$job", SqliteType.Text);
            foreach (var name in more)
            {
                command.Parameters.Add(name, name == "$payload" ? SqliteType.Blob : name == "$number" ? SqliteType.Integer : SqliteType.Text);
            }

            return command;
        }
    }

    private sealed record Read(string Job)
    {
        public TaskCompletionSource<List<(long Number, byte[] Payload)>> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed record Append(string Job, long Number, byte[] Payload, IReadOnlyList<long> Dead)
    {
        // Completed on the writer thread without a hop to the thread pool: the jobs that wait on it continue on their
        // own activations' schedulers anyway, so the writer only queues their continuations.
        public TaskCompletionSource Done { get; } = new();
    }
}

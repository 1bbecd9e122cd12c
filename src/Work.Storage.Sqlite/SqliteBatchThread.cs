using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;

namespace Work.Storage.Sqlite;

/// <summary>
/// Runs statements on a SQLite file from one thread of its own, so that the driver's blocking calls never hold up
/// the silo's thread pool. What is queued meanwhile runs in one transaction (one commit), each item in a savepoint of
/// its own: an item that throws is rolled back alone and fails only its caller. A thread for reads begins its
/// transactions deferred, so they take no write lock and never hold up a writer.
/// </summary>
internal sealed class SqliteBatchThread : IDisposable
{
    /// <summary>The most items one transaction takes.</summary>
    public const int MaxBatch = 256;

    private readonly string _connectionString;
    private readonly bool _reads;
    private readonly BlockingCollection<Item> _queue = [];
    private readonly Thread _thread;

    public SqliteBatchThread(string connectionString, string name, bool reads = false)
    {
        _connectionString = connectionString;
        _reads = reads;
        _thread = new Thread(Run) { IsBackground = true, Name = name };
        _thread.Start();
    }

    /// <summary>Runs <paramref name="work"/> in the next transaction; completes once that transaction committed.</summary>
    public Task<T> RunAsync<T>(Func<SqliteCommand, T> work)
    {
        var item = new Item<T>(work);
        _queue.Add(item);
        return item.Done.Task;
    }

    public void Dispose()
    {
        _queue.CompleteAdding();
        _thread.Join();
        _queue.Dispose();
    }

    private void Run()
    {
        SqliteConnection? connection = null;
        try
        {
            foreach (var first in _queue.GetConsumingEnumerable())
            {
                var batch = new List<Item> { first };
                while (batch.Count < MaxBatch && _queue.TryTake(out var more))
                {
                    batch.Add(more);
                }

                try
                {
                    if (connection is null)
                    {
                        connection = new SqliteConnection(_connectionString);
                        connection.Open();
                    }

                    Commit(connection, batch);
                }
                catch (Exception ex)
                {
                    // The connection or the commit failed: every item of the batch fails, and the next batch opens anew.
                    connection?.Dispose();
                    connection = null;
                    foreach (var item in batch)
                    {
                        item.Fail(ex);
                    }
                }
            }
        }
        finally
        {
            connection?.Dispose();
        }
    }

    private void Commit(SqliteConnection connection, List<Item> batch)
    {
        var failed = new Dictionary<Item, Exception>();
        using (var transaction = connection.BeginTransaction(deferred: _reads))
        {
            foreach (var item in batch)
            {
                transaction.Save("item");
                try
                {
                    using var command = connection.CreateCommand();
                    command.Transaction = transaction;
                    item.Execute(command);
                    transaction.Release("item");
                }
                catch (Exception ex)
                {
                    // This item's statement or its own code failed: only it is undone.
                    transaction.Rollback("item");
                    transaction.Release("item");
                    failed[item] = ex;
                }
            }

            transaction.Commit();
        }

        foreach (var item in batch)
        {
            if (failed.TryGetValue(item, out var error))
            {
                item.Fail(error);
            }
            else
            {
                item.Complete();
            }
        }
    }

    private abstract class Item
    {
        public abstract void Execute(SqliteCommand command);

        public abstract void Complete();

        public abstract void Fail(Exception error);
    }

    private sealed class Item<T>(Func<SqliteCommand, T> work) : Item
    {
        private T _result = default!;

        public TaskCompletionSource<T> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override void Execute(SqliteCommand command) => _result = work(command);

        public override void Complete() => Done.TrySetResult(_result);

        public override void Fail(Exception error) => Done.TrySetException(error);
    }
}

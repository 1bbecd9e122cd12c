using System.Diagnostics;
using Work.Client;
using Work.Cluster;

namespace Work.Benchmarks.EndToEnd;

// One durable perform at a time against the disk's own INSERT+COMMIT loop.
internal static partial class EndToEndRun
{
    // One perform at a time, each awaited until it is durable, against a loop of single-row INSERTs (each its own
    // commit) on the same disk: PostgreSQL through Npgsql on the same server, or SQLite through Microsoft.Data.Sqlite in
    // a file beside the silo's (WAL, as the silo's). Short windows alternate, so both meet the disk in the same state
    // (its commit rate drifts by a factor of two or more within a minute on a shared VM); three pairs unmeasured while
    // the JIT settles, then the median of eleven pairs' ratios, beside the median rates.
    private static async Task DurableOneAtATimeAsync(IGrainFactory grains, IInserts baselineInserts)
    {
        var window = TimeSpan.FromSeconds(1);
        var client = new WorkClient(grains);
        await DefineAsync(grains.GetGrain<IConcurrentJobGrain>("bench-durable"), BenchHandlers.Noop, 64);
        await using var inserts = baselineInserts;
        await inserts.PrepareAsync();
        var insertRates = new List<double>();
        var performs = new List<double>();
        var ratios = new List<double>();
        for (var round = -3; round < 11; round++)
        {
            var insertRate = await ForAsync(window, inserts.InsertAsync);
            var performRate = await ForAsync(window, () => client.EnqueueAsync("bench-durable"));
            if (round >= 0)
            {
                insertRates.Add(insertRate);
                performs.Add(performRate);
                ratios.Add(performRate / insertRate);
            }
        }

        static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
        var spread = ratios.Order().ToList();
        Report(
            "7. one durable perform at a time",
            $"{Median(performs):N0}/s",
            $"{inserts.Name} INSERT+COMMIT loop {Median(insertRates):N0}/s, ratio {Median(ratios):0.00} (pairs {spread[0]:0.00}-{spread[^1]:0.00}; target >= 0.5)");

        static async Task<double> ForAsync(TimeSpan window, Func<Task> call)
        {
            var watch = Stopwatch.StartNew();
            var count = 0;
            while (watch.Elapsed < window)
            {
                await call();
                count++;
            }

            return count / watch.Elapsed.TotalSeconds;
        }
    }

    private interface IInserts : IAsyncDisposable
    {
        string Name { get; }

        Task PrepareAsync();

        Task InsertAsync();
    }

    private sealed class PostgresInserts(string connectionString) : IInserts
    {
        private static readonly byte[] s_payload = new byte[200];
        private readonly Npgsql.NpgsqlDataSource _data = Npgsql.NpgsqlDataSource.Create(connectionString);

        public string Name => "Npgsql";

        public async Task PrepareAsync()
        {
            await using var create = _data.CreateCommand("CREATE TABLE IF NOT EXISTS bench_insert (id bigserial PRIMARY KEY, payload bytea NOT NULL)");
            await create.ExecuteNonQueryAsync();
        }

        public async Task InsertAsync()
        {
            await using var insert = _data.CreateCommand("INSERT INTO bench_insert (payload) VALUES ($1)");
            insert.Parameters.Add(new Npgsql.NpgsqlParameter { Value = s_payload });
            await insert.ExecuteNonQueryAsync();
        }

        public ValueTask DisposeAsync() => _data.DisposeAsync();
    }

    private sealed class SqliteInserts(string path) : IInserts
    {
        private static readonly byte[] s_payload = new byte[200];
        private readonly Microsoft.Data.Sqlite.SqliteConnection _connection = new($"Data Source={path}");

        public string Name => "Microsoft.Data.Sqlite";

        public async Task PrepareAsync()
        {
            await _connection.OpenAsync();
            await using var create = _connection.CreateCommand();
            create.CommandText = "PRAGMA journal_mode = WAL; CREATE TABLE IF NOT EXISTS bench_insert (id INTEGER PRIMARY KEY, payload BLOB NOT NULL)";
            await create.ExecuteNonQueryAsync();
        }

        public async Task InsertAsync()
        {
            await using var insert = _connection.CreateCommand();
            insert.CommandText = "INSERT INTO bench_insert (payload) VALUES ($payload)";
            insert.Parameters.AddWithValue("$payload", s_payload);
            await insert.ExecuteNonQueryAsync();
        }

        public ValueTask DisposeAsync() => _connection.DisposeAsync();
    }
}

using Microsoft.Data.Sqlite;
using Work.Scheduling;

namespace Work.Storage.Sqlite;

/// <summary>
/// Item sources in the SQLite file (work_items, work_dead_items; see Sqlite-Items.sql), used from threads of this
/// store's own: one writes (what comes together commits together), one reads. SQLite has one writer at a time, so a
/// claim needs no row locks: it is one transaction of the writer.
/// </summary>
internal sealed class SqliteItemStore : ItemStore, IDisposable
{
    private const string ClaimedSql = """
        SELECT id FROM work_items WHERE source = $source AND acked_at IS NULL AND visible_at <= $now ORDER BY id LIMIT $count
        """;

    // Extends held items' invisibility, or (at now) releases them.
    private const string VisibleAtSql = "UPDATE work_items SET visible_at = $at WHERE source = $source AND id = $id AND acked_at IS NULL";

    private readonly SqliteBatchThread _writer;
    private readonly SqliteBatchThread _reader;

    public SqliteItemStore(SqliteDatabase database)
    {
        _writer = new SqliteBatchThread(database.ConnectionString, "Work SQLite items writer");
        _reader = new SqliteBatchThread(database.ConnectionString, "Work SQLite items reader", reads: true);
    }

    public void Dispose()
    {
        _writer.Dispose();
        _reader.Dispose();
    }

    public override Task<IReadOnlyList<EnqueuedItem>> EnqueueAsync(string source, IReadOnlyList<ItemRequest> items, DateTimeOffset now) =>
        _writer.RunAsync<IReadOnlyList<EnqueuedItem>>(command =>
        {
            command.CommandText = """
                INSERT INTO work_items (source, args, idempotency_key, enqueued_at, visible_at) VALUES ($source, $args, $key, $now, $now)
                ON CONFLICT (source, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
                RETURNING id
                """;
            var args = command.Parameters.Add("$args", SqliteType.Text);
            var key = command.Parameters.Add("$key", SqliteType.Text);
            command.Parameters.AddWithValue("$source", source);
            command.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
            var inserted = new List<long?>(items.Count);
            var taken = new List<string>();
            foreach (var item in items)
            {
                args.Value = (object?)item.Args?.ToJson() ?? DBNull.Value;
                key.Value = (object?)item.IdempotencyKey ?? DBNull.Value;
                var id = command.ExecuteScalar();
                inserted.Add(id is long value ? value : null);
                if (id is null && item.IdempotencyKey is { } k)
                {
                    taken.Add(k);
                }
            }

            var existing = new Dictionary<string, long>(StringComparer.Ordinal);
            command.Parameters.Clear();
            command.CommandText = "SELECT id FROM work_items WHERE source = $source AND idempotency_key = $key";
            command.Parameters.AddWithValue("$source", source);
            key = command.Parameters.Add("$key", SqliteType.Text);
            foreach (var k in taken.Distinct(StringComparer.Ordinal))
            {
                key.Value = k;
                if (command.ExecuteScalar() is long id)
                {
                    existing[k] = id;
                }
            }

            return Resolve(items, inserted, existing);
        });

    public override Task<List<ClaimedItem>> ClaimAsync(string source, int count, int maxDeliveries, DateTimeOffset now, DateTimeOffset invisibleUntil) =>
        _writer.RunAsync(command =>
        {
            command.Parameters.AddWithValue("$source", source);
            command.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
            command.Parameters.AddWithValue("$count", Math.Min(count, MaxClaim));
            command.Parameters.AddWithValue("$max", maxDeliveries);
            command.Parameters.AddWithValue("$until", invisibleUntil.ToUnixTimeMilliseconds());
            command.Parameters.AddWithValue("$error", DeliveriesError(maxDeliveries));

            // Those delivered too often go to the dead letter table first; the rest of the oldest visible are claimed.
            command.CommandText = $"""
                INSERT OR IGNORE INTO work_dead_items (id, source, args, idempotency_key, enqueued_at, deliveries, dead_at, job, status, error)
                SELECT id, source, args, idempotency_key, enqueued_at, deliveries, $now, NULL, 0, $error FROM work_items
                WHERE id IN ({ClaimedSql}) AND deliveries >= $max;
                DELETE FROM work_items WHERE id IN ({ClaimedSql}) AND deliveries >= $max;
                """;
            command.ExecuteNonQuery();
            command.CommandText = $"""
                UPDATE work_items SET visible_at = $until, deliveries = deliveries + 1 WHERE id IN ({ClaimedSql})
                RETURNING id, args, idempotency_key, enqueued_at, deliveries
                """;
            var claimed = new List<ClaimedItem>();
            using (var reader = command.ExecuteReader())
            {
                while (reader.Read())
                {
                    var item = new WorkItem
                    {
                        Source = source,
                        Id = reader.GetInt64(0),
                        IdempotencyKey = reader.IsDBNull(2) ? null : reader.GetString(2),
                        EnqueuedAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3)),
                        Deliveries = reader.GetInt32(4),
                    };
                    claimed.Add(new ClaimedItem(item, reader.IsDBNull(1) ? null : JobArgs.Parse(reader.GetString(1))));
                }
            }

            claimed.Sort((a, b) => a.Item.Id.CompareTo(b.Item.Id));
            return claimed;
        });

    public override Task ExtendAsync(string source, IReadOnlyList<long> ids, DateTimeOffset invisibleUntil) =>
        _writer.RunAsync(command => ForEach(command, source, ids, VisibleAtSql, invisibleUntil));

    public override Task SettleAsync(string source, string job, IReadOnlyList<HeldItem> items, DateTimeOffset now) =>
        _writer.RunAsync(command =>
        {
            ForEach(command, source, Ids(items, ItemSettlement.Acknowledge), "UPDATE work_items SET acked_at = $at WHERE source = $source AND id = $id AND acked_at IS NULL", now);
            ForEach(command, source, Ids(items, ItemSettlement.Release), VisibleAtSql, now);
            command.Parameters.Clear();
            command.CommandText = """
                INSERT OR IGNORE INTO work_dead_items (id, source, args, idempotency_key, enqueued_at, deliveries, dead_at, job, status, error)
                SELECT id, source, args, idempotency_key, enqueued_at, deliveries, $at, $job, $status, $error FROM work_items
                WHERE source = $source AND id = $id AND acked_at IS NULL;
                DELETE FROM work_items WHERE source = $source AND id = $id AND acked_at IS NULL;
                """;
            command.Parameters.AddWithValue("$source", source);
            command.Parameters.AddWithValue("$at", now.ToUnixTimeMilliseconds());
            command.Parameters.AddWithValue("$job", job);
            var id = command.Parameters.Add("$id", SqliteType.Integer);
            var status = command.Parameters.Add("$status", SqliteType.Integer);
            var error = command.Parameters.Add("$error", SqliteType.Text);
            foreach (var dead in items.Where(i => i.Settlement == ItemSettlement.DeadLetter))
            {
                id.Value = dead.Item.Id;
                status.Value = (int)dead.Status;
                error.Value = (object?)dead.Error ?? DBNull.Value;
                command.ExecuteNonQuery();
            }

            return 0;
        });

    public override Task<SourceInfo> InfoAsync(string source, DateTimeOffset now) =>
        _reader.RunAsync(command =>
        {
            command.CommandText = """
                SELECT
                    coalesce(sum(acked_at IS NULL AND visible_at <= $now), 0),
                    coalesce(sum(acked_at IS NULL AND visible_at > $now), 0),
                    coalesce(sum(acked_at IS NOT NULL), 0),
                    (SELECT count(*) FROM work_dead_items WHERE source = $source)
                FROM work_items WHERE source = $source
                """;
            command.Parameters.AddWithValue("$source", source);
            command.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
            using var reader = command.ExecuteReader();
            reader.Read();
            return new SourceInfo { Source = source, Ready = reader.GetInt64(0), Claimed = reader.GetInt64(1), Acknowledged = reader.GetInt64(2), Dead = reader.GetInt64(3) };
        });

    public override Task<IReadOnlyList<DeadItem>> DeadAsync(string source, int count) =>
        _reader.RunAsync<IReadOnlyList<DeadItem>>(command =>
        {
            command.CommandText = """
                SELECT id, args, idempotency_key, enqueued_at, deliveries, dead_at, job, status, error
                FROM work_dead_items WHERE source = $source ORDER BY dead_at DESC, id DESC LIMIT $count
                """;
            command.Parameters.AddWithValue("$source", source);
            command.Parameters.AddWithValue("$count", count);
            var dead = new List<DeadItem>();
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                dead.Add(new DeadItem
                {
                    Item = new WorkItem
                    {
                        Source = source,
                        Id = reader.GetInt64(0),
                        IdempotencyKey = reader.IsDBNull(2) ? null : reader.GetString(2),
                        EnqueuedAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3)),
                        Deliveries = reader.GetInt32(4),
                    },
                    Args = reader.IsDBNull(1) ? null : JobArgs.Parse(reader.GetString(1)),
                    DeadAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5)),
                    Job = reader.IsDBNull(6) ? null : reader.GetString(6),
                    Status = (JobStatus)reader.GetInt32(7),
                    Error = reader.IsDBNull(8) ? null : reader.GetString(8),
                });
            }

            return dead;
        });

    public override Task<int> PurgeAsync(string source, DateTimeOffset before) =>
        _writer.RunAsync(command =>
        {
            command.CommandText = "DELETE FROM work_items WHERE source = $source AND acked_at < $before";
            command.Parameters.AddWithValue("$source", source);
            command.Parameters.AddWithValue("$before", before.ToUnixTimeMilliseconds());
            return command.ExecuteNonQuery();
        });

    private static List<long> Ids(IReadOnlyList<HeldItem> items, ItemSettlement settlement) =>
        items.Where(i => i.Settlement == settlement).Select(i => i.Item.Id).ToList();

    private static int ForEach(SqliteCommand command, string source, IReadOnlyList<long> ids, string sql, DateTimeOffset at)
    {
        command.Parameters.Clear();
        command.CommandText = sql;
        command.Parameters.AddWithValue("$source", source);
        command.Parameters.AddWithValue("$at", at.ToUnixTimeMilliseconds());
        var id = command.Parameters.Add("$id", SqliteType.Integer);
        foreach (var value in ids)
        {
            id.Value = value;
            command.ExecuteNonQuery();
        }

        return ids.Count;
    }
}

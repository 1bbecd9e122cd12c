using Npgsql;
using NpgsqlTypes;
using Work.Scheduling;

namespace Work.Storage.Postgres;

/// <summary>Item sources in PostgreSQL (work_items, work_dead_items; see Postgres-Items.sql).</summary>
internal sealed class PostgresItemStore(NpgsqlDataSource data) : ItemStore
{
    // Each row gets its id first, so results line up with the requests; a taken key inserts nothing.
    private const string EnqueueSql = """
        WITH input AS (
            SELECT nextval(pg_get_serial_sequence('work_items', 'id')) AS id, t.args, t.key, t.n
            FROM unnest($2::jsonb[], $3::text[]) WITH ORDINALITY AS t(args, key, n)),
        inserted AS (
            INSERT INTO work_items (id, source, args, idempotency_key, enqueued_at, visible_at)
            SELECT id, $1, args, key, $4, $4 FROM input ORDER BY n
            ON CONFLICT (source, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
            RETURNING id)
        SELECT inserted.id, existing.id, input.key
        FROM input
        LEFT JOIN inserted ON inserted.id = input.id
        LEFT JOIN work_items existing ON inserted.id IS NULL AND existing.source = $1 AND existing.idempotency_key = input.key
        ORDER BY input.n
        """;

    private const string ClaimSql = """
        WITH picked AS (
            SELECT id, deliveries FROM work_items
            WHERE source = $1 AND acked_at IS NULL AND visible_at <= $3
            ORDER BY id
            LIMIT $2
            FOR UPDATE SKIP LOCKED),
        gone AS (
            DELETE FROM work_items w USING picked p
            WHERE w.id = p.id AND p.deliveries >= $4
            RETURNING w.id, w.source, w.args, w.idempotency_key, w.enqueued_at, w.deliveries),
        dead AS (
            INSERT INTO work_dead_items (id, source, args, idempotency_key, enqueued_at, deliveries, dead_at, job, status, error)
            SELECT id, source, args, idempotency_key, enqueued_at, deliveries, $3, NULL, 0, $6 FROM gone
            ON CONFLICT (id) DO NOTHING)
        UPDATE work_items w SET visible_at = $5, deliveries = w.deliveries + 1
        FROM picked p
        WHERE w.id = p.id AND p.deliveries < $4
        RETURNING w.id, w.args::text, w.idempotency_key, w.enqueued_at, w.deliveries
        """;

    // Extends held items' invisibility, or (at now) releases them.
    private const string VisibleAtSql = "UPDATE work_items SET visible_at = $3 WHERE source = $1 AND id = ANY($2) AND acked_at IS NULL";

    private const string AckSql = "UPDATE work_items SET acked_at = $3 WHERE source = $1 AND id = ANY($2) AND acked_at IS NULL";

    private const string DeadSql = """
        WITH gone AS (
            DELETE FROM work_items w USING unnest($2::bigint[], $3::integer[], $4::text[]) AS o(id, status, error)
            WHERE w.source = $1 AND w.id = o.id AND w.acked_at IS NULL
            RETURNING w.id, w.source, w.args, w.idempotency_key, w.enqueued_at, w.deliveries, o.status, o.error)
        INSERT INTO work_dead_items (id, source, args, idempotency_key, enqueued_at, deliveries, dead_at, job, status, error)
        SELECT id, source, args, idempotency_key, enqueued_at, deliveries, $5, $6, status, error FROM gone
        ON CONFLICT (id) DO NOTHING
        """;

    private const string InfoSql = """
        SELECT
            count(*) FILTER (WHERE acked_at IS NULL AND visible_at <= $2),
            count(*) FILTER (WHERE acked_at IS NULL AND visible_at > $2),
            count(*) FILTER (WHERE acked_at IS NOT NULL),
            (SELECT count(*) FROM work_dead_items WHERE source = $1)
        FROM work_items WHERE source = $1
        """;

    private const string DeadListSql = """
        SELECT id, args::text, idempotency_key, enqueued_at, deliveries, dead_at, job, status, error
        FROM work_dead_items WHERE source = $1 ORDER BY dead_at DESC, id DESC LIMIT $2
        """;

    private const string PurgeSql = "DELETE FROM work_items WHERE source = $1 AND acked_at < $2";

    public override async Task<IReadOnlyList<EnqueuedItem>> EnqueueAsync(string source, IReadOnlyList<ItemRequest> items, DateTimeOffset now)
    {
        await using var command = data.CreateCommand(EnqueueSql);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = source });
        command.Parameters.Add(new NpgsqlParameter<string?[]> { TypedValue = items.Select(i => i.Args?.ToJson()).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb });
        command.Parameters.Add(new NpgsqlParameter<string?[]> { TypedValue = items.Select(i => i.IdempotencyKey).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now.ToUniversalTime() });
        var inserted = new List<long?>(items.Count);
        var existing = new Dictionary<string, long>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            inserted.Add(reader.IsDBNull(0) ? null : reader.GetInt64(0));
            if (!reader.IsDBNull(1))
            {
                existing.TryAdd(reader.GetString(2), reader.GetInt64(1));
            }
        }

        return Resolve(items, inserted, existing);
    }

    public override async Task<List<ClaimedItem>> ClaimAsync(string source, int count, int maxDeliveries, DateTimeOffset now, DateTimeOffset invisibleUntil)
    {
        await using var command = data.CreateCommand(ClaimSql);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = source });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = Math.Min(count, MaxClaim) });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now.ToUniversalTime() });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = maxDeliveries });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = invisibleUntil.ToUniversalTime() });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = DeliveriesError(maxDeliveries) });
        var claimed = new List<ClaimedItem>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var item = new WorkItem
            {
                Source = source,
                Id = reader.GetInt64(0),
                IdempotencyKey = reader.IsDBNull(2) ? null : reader.GetString(2),
                EnqueuedAt = reader.GetFieldValue<DateTimeOffset>(3),
                Deliveries = reader.GetInt32(4),
            };
            claimed.Add(new ClaimedItem(item, reader.IsDBNull(1) ? null : JobArgs.Parse(reader.GetString(1))));
        }

        // The statement returns rows in no set order: the oldest run first.
        claimed.Sort((a, b) => a.Item.Id.CompareTo(b.Item.Id));
        return claimed;
    }

    public override async Task ExtendAsync(string source, IReadOnlyList<long> ids, DateTimeOffset invisibleUntil)
    {
        await using var command = data.CreateCommand(VisibleAtSql);
        AddIds(command.Parameters, source, ids, invisibleUntil);
        await command.ExecuteNonQueryAsync();
    }

    public override async Task SettleAsync(string source, string job, IReadOnlyList<HeldItem> items, DateTimeOffset now)
    {
        // One batch: one round trip, one implicit transaction.
        await using var batch = data.CreateBatch();
        var acknowledged = items.Where(i => i.Settlement == ItemSettlement.Acknowledge).Select(i => i.Item.Id).ToList();
        var released = items.Where(i => i.Settlement == ItemSettlement.Release).Select(i => i.Item.Id).ToList();
        var dead = items.Where(i => i.Settlement == ItemSettlement.DeadLetter).ToList();
        if (acknowledged.Count > 0)
        {
            var ack = new NpgsqlBatchCommand(AckSql);
            AddIds(ack.Parameters, source, acknowledged, now);
            batch.BatchCommands.Add(ack);
        }

        if (released.Count > 0)
        {
            var release = new NpgsqlBatchCommand(VisibleAtSql);
            AddIds(release.Parameters, source, released, now);
            batch.BatchCommands.Add(release);
        }

        if (dead.Count > 0)
        {
            var letter = new NpgsqlBatchCommand(DeadSql);
            letter.Parameters.Add(new NpgsqlParameter<string> { TypedValue = source });
            letter.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = dead.Select(i => i.Item.Id).ToArray() });
            letter.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = dead.Select(i => (int)i.Status).ToArray() });
            letter.Parameters.Add(new NpgsqlParameter<string?[]> { TypedValue = dead.Select(i => i.Error).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            letter.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now.ToUniversalTime() });
            letter.Parameters.Add(new NpgsqlParameter<string> { TypedValue = job });
            batch.BatchCommands.Add(letter);
        }

        if (batch.BatchCommands.Count > 0)
        {
            await batch.ExecuteNonQueryAsync();
        }
    }

    public override async Task<SourceInfo> InfoAsync(string source, DateTimeOffset now)
    {
        await using var command = data.CreateCommand(InfoSql);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = source });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now.ToUniversalTime() });
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return new SourceInfo { Source = source, Ready = reader.GetInt64(0), Claimed = reader.GetInt64(1), Acknowledged = reader.GetInt64(2), Dead = reader.GetInt64(3) };
    }

    public override async Task<IReadOnlyList<DeadItem>> DeadAsync(string source, int count)
    {
        await using var command = data.CreateCommand(DeadListSql);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = source });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = count });
        var dead = new List<DeadItem>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            dead.Add(new DeadItem
            {
                Item = new WorkItem
                {
                    Source = source,
                    Id = reader.GetInt64(0),
                    IdempotencyKey = reader.IsDBNull(2) ? null : reader.GetString(2),
                    EnqueuedAt = reader.GetFieldValue<DateTimeOffset>(3),
                    Deliveries = reader.GetInt32(4),
                },
                Args = reader.IsDBNull(1) ? null : JobArgs.Parse(reader.GetString(1)),
                DeadAt = reader.GetFieldValue<DateTimeOffset>(5),
                Job = reader.IsDBNull(6) ? null : reader.GetString(6),
                Status = (JobStatus)reader.GetInt32(7),
                Error = reader.IsDBNull(8) ? null : reader.GetString(8),
            });
        }

        return dead;
    }

    public override async Task<int> PurgeAsync(string source, DateTimeOffset before)
    {
        await using var command = data.CreateCommand(PurgeSql);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = source });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = before.ToUniversalTime() });
        return await command.ExecuteNonQueryAsync();
    }

    private static void AddIds(NpgsqlParameterCollection parameters, string source, IReadOnlyList<long> ids, DateTimeOffset at)
    {
        parameters.Add(new NpgsqlParameter<string> { TypedValue = source });
        parameters.Add(new NpgsqlParameter<long[]> { TypedValue = [.. ids] });
        parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = at.ToUniversalTime() });
    }
}

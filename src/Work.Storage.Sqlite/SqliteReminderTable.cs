using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace Work.Storage.Sqlite;

/// <summary>
/// Orleans' reminder table on SQLite (the embedded default), keyed by service, grain and reminder name. Every
/// statement runs on the table's own threads (one for writes, one for reads), and upserts that arrive together share
/// one commit: registering the reminders of many jobs at once neither blocks the silo's threads nor costs a commit
/// each.
/// </summary>
internal sealed class SqliteReminderTable(IOptions<ClusterOptions> cluster, SqliteDatabase options) : IReminderTable, IDisposable
{
    private readonly string _serviceId = cluster.Value.ServiceId;
    private readonly SqliteBatchThread _thread = new(options.ConnectionString, "Work SQLite reminder writes");
    private readonly SqliteBatchThread _reads = new(options.ConnectionString, "Work SQLite reminder reads", reads: true);

    public void Dispose()
    {
        _thread.Dispose();
        _reads.Dispose();
    }

    public Task Init() => SqliteSchema.ApplyAsync(options.ConnectionString);

    public Task<ReminderTableData> ReadRows(GrainId grainId) =>
        QueryAsync("WHERE ServiceId = $service AND GrainId = $grain", c => c.Parameters.AddWithValue("$grain", grainId.ToString()));

    // Orleans' ring ranges are (begin, end], wrapping around when begin >= end.
    public Task<ReminderTableData> ReadRows(uint begin, uint end)
    {
        void Bind(SqliteCommand command)
        {
            command.Parameters.AddWithValue("$begin", (long)begin);
            command.Parameters.AddWithValue("$end", (long)end);
        }

        return begin < end
            ? QueryAsync("WHERE ServiceId = $service AND GrainHash > $begin AND GrainHash <= $end", Bind)
            : QueryAsync("WHERE ServiceId = $service AND (GrainHash > $begin OR GrainHash <= $end)", Bind);
    }

    public async Task<ReminderEntry?> ReadRow(GrainId grainId, string reminderName)
    {
        var rows = await QueryAsync(
            "WHERE ServiceId = $service AND GrainId = $grain AND ReminderName = $name",
            c =>
            {
                c.Parameters.AddWithValue("$grain", grainId.ToString());
                c.Parameters.AddWithValue("$name", reminderName);
            });
        return rows.Reminders.FirstOrDefault();
    }

    public async Task<string?> UpsertRow(ReminderEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var etag = Guid.NewGuid().ToString("N");
        await _thread.RunAsync(command =>
        {
            command.CommandText = """
                INSERT INTO WorkReminders (ServiceId, GrainId, ReminderName, StartTime, Period, GrainHash, ETag)
                VALUES ($service, $grain, $name, $start, $period, $hash, $etag)
                ON CONFLICT (ServiceId, GrainId, ReminderName) DO UPDATE
                    SET StartTime = excluded.StartTime, Period = excluded.Period, GrainHash = excluded.GrainHash, ETag = excluded.ETag;
                """;
            command.Parameters.AddWithValue("$service", _serviceId);
            command.Parameters.AddWithValue("$grain", entry.GrainId.ToString());
            command.Parameters.AddWithValue("$name", entry.ReminderName);
            command.Parameters.AddWithValue("$start", entry.StartAt.ToUniversalTime().Ticks);
            command.Parameters.AddWithValue("$period", entry.Period.Ticks);
            command.Parameters.AddWithValue("$hash", (long)entry.GrainId.GetUniformHashCode());
            command.Parameters.AddWithValue("$etag", etag);
            return command.ExecuteNonQuery();
        });
        return etag;
    }

    public Task<bool> RemoveRow(GrainId grainId, string reminderName, string eTag) => _thread.RunAsync(command =>
    {
        command.CommandText = "DELETE FROM WorkReminders WHERE ServiceId = $service AND GrainId = $grain AND ReminderName = $name AND ETag = $etag;";
        command.Parameters.AddWithValue("$service", _serviceId);
        command.Parameters.AddWithValue("$grain", grainId.ToString());
        command.Parameters.AddWithValue("$name", reminderName);
        command.Parameters.AddWithValue("$etag", eTag);
        return command.ExecuteNonQuery() > 0;
    });

    public Task TestOnlyClearTable() => _thread.RunAsync(command =>
    {
        command.CommandText = "DELETE FROM WorkReminders WHERE ServiceId = $service;";
        command.Parameters.AddWithValue("$service", _serviceId);
        return command.ExecuteNonQuery();
    });

    private Task<ReminderTableData> QueryAsync(string where, Action<SqliteCommand> bind) => _reads.RunAsync(command =>
    {
        command.CommandText = $"SELECT GrainId, ReminderName, StartTime, Period, ETag FROM WorkReminders {where};";
        command.Parameters.AddWithValue("$service", _serviceId);
        bind(command);
        var rows = new List<ReminderEntry>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            rows.Add(new ReminderEntry
            {
                GrainId = GrainId.Parse(reader.GetString(0), CultureInfo.InvariantCulture),
                ReminderName = reader.GetString(1),
                StartAt = new DateTime(reader.GetInt64(2), DateTimeKind.Utc),
                Period = TimeSpan.FromTicks(reader.GetInt64(3)),
                ETag = reader.GetString(4),
            });
        }

        return new ReminderTableData(rows);
    });
}

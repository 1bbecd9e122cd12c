namespace Work.Storage.Sqlite;

/// <summary>The SQLite file a silo keeps its job state and reminders in.</summary>
internal sealed record SqliteDatabase(string ConnectionString);

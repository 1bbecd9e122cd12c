using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Configuration;
using Orleans.Serialization;
using Orleans.Storage;
using Work.Scheduling;
using Work.Storage.Postgres;
using Work.Storage.Sqlite;

namespace Work.Cluster.Tests;

/// <summary>Jobs' journals on the real databases: what a write puts is read back, and only one activation's write wins.</summary>
public sealed class JobJournalTests : IDisposable
{
    private static readonly Serializer s_serializer = new ServiceCollection()
        .AddSerializer(builder => builder.AddAssembly(typeof(JobState).Assembly))
        .BuildServiceProvider()
        .GetRequiredService<Serializer>();

    private readonly List<IDisposable> _owned = [];
    private readonly List<PostgresJobJournal> _journals = [];
    private readonly string _folder = Directory.CreateTempSubdirectory("work-journal-").FullName;
    private NpgsqlDataSource? _postgres;

    private string SqlitePath => Path.Combine(_folder, "work.db");

    public static TheoryData<string> Databases => ["postgres", "sqlite"];

    public void Dispose()
    {
        foreach (var journal in _journals)
        {
            journal.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }

        foreach (var owned in _owned)
        {
            owned.Dispose();
        }

        SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    private IJobRecordStorage Journal(string database, string serviceId = "journal-tests")
    {
        var cluster = Options.Create(new ClusterOptions { ServiceId = serviceId });
        if (database == "postgres")
        {
            var server = PostgresServer.Shared.CreateDatabase("journal");
            _postgres = PostgresJobJournal.CreateDataSource(server);
            _owned.Add(_postgres);
            var loads = PostgresJobJournal.CreateDataSource(server, planEachCall: true);
            _owned.Add(loads);
            var postgres = new PostgresJobJournal(_postgres, loads, s_serializer, cluster);
            _journals.Add(postgres);
            return postgres;
        }

        var connectionString = new SqliteConnectionStringBuilder { DataSource = SqlitePath, Pooling = true }.ToString();
        SqliteSchema.ApplyAsync(connectionString).GetAwaiter().GetResult();
        var journal = new SqliteJobJournal(new SqliteDatabase(connectionString), s_serializer, cluster);
        _owned.Add(journal);
        return journal;
    }

    private static GrainId Job(string name) => GrainId.Create("concurrentjob", name);

    private static async Task<GrainState<JobState>> ReadMainAsync(IJobRecords records)
    {
        var state = new GrainState<JobState>(new JobState());
        await records.ReadAsync(JobStore.MainStateName, state);
        return state;
    }

    private static Task WriteMainAsync(IJobRecords records, GrainState<JobState> main, int readyTail, params GrainState<HistorySegment>[] segments) =>
        WriteAsync(records, main, readyTail, segments, []);

    private static async Task<IReadOnlyList<JobRecord>> WriteAsync(
        IJobRecords records, GrainState<JobState> main, int readyTail, GrainState<HistorySegment>[] segments, JobRecord[] clears)
    {
        main.State!.ReadyTail = readyTail;
        return await records.WriteAsync(
            segments.Select((s, i) => JobRecord.Of(JobStore.HistorySegmentName(i), s)).ToList(), JobRecord.Of(JobStore.MainStateName, main), clears);
    }

    [Theory]
    [MemberData(nameof(Databases))]
    public async Task WhatAWritePutsIsReadBackAfterOpeningAgainAndClearedRecordsAreGone(string database)
    {
        var storage = Journal(database);
        var job = Job("read-back");
        var records = await storage.OpenAsync(job);
        var main = await ReadMainAsync(records);
        Assert.Null(main.ETag);

        var segment = new GrainState<HistorySegment>(new HistorySegment { Records = [new JobExecution { ExecutionId = "a", Handler = "h", Attempt = 1, Status = JobStatus.Success }] });
        await WriteMainAsync(records, main, readyTail: 7, segment);
        Assert.NotNull(main.ETag);
        Assert.NotNull(segment.ETag);

        var again = await storage.OpenAsync(job);
        Assert.Equal(7, (await ReadMainAsync(again)).State!.ReadyTail);
        var read = new GrainState<HistorySegment>(new HistorySegment());
        await again.ReadAsync(JobStore.HistorySegmentName(0), read);
        Assert.Equal("a", Assert.Single(read.State!.Records).ExecutionId);

        await WriteAsync(records, main, readyTail: 8, [], [JobRecord.Of(JobStore.HistorySegmentName(0), segment)]);
        var cleared = new GrainState<HistorySegment>(new HistorySegment());
        await (await storage.OpenAsync(job)).ReadAsync(JobStore.HistorySegmentName(0), cleared);
        Assert.Null(cleared.ETag);
        Assert.False(cleared.RecordExists);
    }

    [Theory]
    [MemberData(nameof(Databases))]
    public async Task OfTwoActivationsThatOpenedTheSameJournalOnlyTheFirstToWriteWins(string database)
    {
        var storage = Journal(database);
        var job = Job("two-activations");
        var first = await storage.OpenAsync(job);
        var second = await storage.OpenAsync(job);
        var firstMain = await ReadMainAsync(first);
        var secondMain = await ReadMainAsync(second);

        await WriteMainAsync(first, firstMain, readyTail: 1);
        await Assert.ThrowsAsync<InconsistentStateException>(() => WriteMainAsync(second, secondMain, readyTail: 2));

        Assert.Equal(1, (await ReadMainAsync(await storage.OpenAsync(job))).State!.ReadyTail);
    }

    [Theory]
    [MemberData(nameof(Databases))]
    public async Task AnActivationThatLoadedLongAgoLosesEvenAfterTheWinnerDeletedTheRowsItKnew(string database)
    {
        var storage = Journal(database);
        var job = Job("deleted-rows");
        var winner = await storage.OpenAsync(job);
        var winnerMain = await ReadMainAsync(winner);
        await WriteMainAsync(winner, winnerMain, readyTail: 1);

        // Opened when the journal had one row; the winner then writes until that row and many after it are deleted.
        var stale = await storage.OpenAsync(job);
        var staleMain = await ReadMainAsync(stale);
        for (var i = 2; i < 3 * JobJournal.DeleteBatch; i++)
        {
            await WriteMainAsync(winner, winnerMain, readyTail: i);
        }

        Assert.True(await RowsAsync(job) <= JobJournal.DeleteBatch + 1);
        await Assert.ThrowsAsync<InconsistentStateException>(() => WriteMainAsync(stale, staleMain, readyTail: -1));
        Assert.Equal((3 * JobJournal.DeleteBatch) - 1, (await ReadMainAsync(await storage.OpenAsync(job))).State!.ReadyTail);
    }

    [Theory]
    [MemberData(nameof(Databases))]
    public async Task JobsAndServicesKeepSeparateJournals(string database)
    {
        var storage = Journal(database);
        var one = await storage.OpenAsync(Job("one"));
        var oneMain = await ReadMainAsync(one);
        await WriteMainAsync(one, oneMain, readyTail: 11);

        Assert.Null((await ReadMainAsync(await storage.OpenAsync(Job("other")))).ETag);
        Assert.Equal(11, (await ReadMainAsync(await storage.OpenAsync(Job("one")))).State!.ReadyTail);
    }

    [Theory]
    [MemberData(nameof(Databases))]
    public async Task TheWriterCommitsManyJobsWritesTogetherAndAConflictFailsOnlyItsOwn(string database)
    {
        var storage = Journal(database);
        var opened = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => storage.OpenAsync(Job($"many-{i}"))));
        var mains = await Task.WhenAll(opened.Select(ReadMainAsync));
        var loser = await storage.OpenAsync(Job("many-0"));
        var loserMain = await ReadMainAsync(loser);

        // Two writes of many-0 race for its journal's first row. Batches go two at a time, so either may commit
        // first: exactly one of them wins, and the other 49 jobs' writes succeed whichever batch they shared.
        var writes = opened.Select((records, i) => WriteMainAsync(records, mains[i], readyTail: i + 100)).ToList();
        var conflict = WriteMainAsync(loser, loserMain, readyTail: -1);
        var outcomes = await Task.WhenAll(writes.Append(conflict).Select(write => Record.ExceptionAsync(() => write)));

        Assert.All(outcomes[1..50], outcome => Assert.Null(outcome));
        var (first, stale) = (outcomes[0], outcomes[50]);
        Assert.True((first is null) != (stale is null), $"Exactly one write of many-0 wins; first failed: {first}, stale failed: {stale}");
        Assert.IsType<InconsistentStateException>(first ?? stale);
        Assert.Equal(first is null ? 100 : -1, (await ReadMainAsync(await storage.OpenAsync(Job("many-0")))).State!.ReadyTail);
        for (var i = 1; i < 50; i++)
        {
            Assert.Equal(i + 100, (await ReadMainAsync(await storage.OpenAsync(Job($"many-{i}")))).State!.ReadyTail);
        }
    }

    [Fact]
    public async Task ALoadIsPlannedForTheJournalAsItIsNotAsItWasWhenItsStatementWasPrepared()
    {
        // A load's statement is prepared while the journal holds three rows, then the journal grows by 20,000 rows
        // of other jobs (no analyze yet, as on a new database). The load must still find its job by the key.
        await using var loads = PostgresJobJournal.CreateDataSource(PostgresServer.Shared.CreateDatabase("journal_plans"), planEachCall: true);
        await using var connection = await loads.OpenConnectionAsync();
        await ExecuteAsync(connection, "INSERT INTO work_job_journal SELECT 'plans', 'job-' || n, 1, '\\x00', now() FROM generate_series(1, 3) n");
        await using var load = new NpgsqlCommand(PostgresJobJournal.ReadSql, connection);
        load.Parameters.Add(new NpgsqlParameter<string> { TypedValue = "plans" });
        load.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = ["job-1", "job-2"] });
        for (var i = 0; i < 12; i++)
        {
            await using var reader = await load.ExecuteReaderAsync();
            var rows = 0;
            while (await reader.ReadAsync())
            {
                rows++;
            }

            Assert.Equal(2, rows);
        }

        await ExecuteAsync(connection, "INSERT INTO work_job_journal SELECT 'plans', 'other-' || n, 1, '\\x00', now() FROM generate_series(1, 20000) n");
        await using var name = new NpgsqlCommand("SELECT name FROM pg_prepared_statements WHERE statement = $1", connection);
        name.Parameters.Add(new NpgsqlParameter<string> { TypedValue = PostgresJobJournal.ReadSql });
        var statement = (string)(await name.ExecuteScalarAsync())!;
        await using var explain = new NpgsqlCommand($"EXPLAIN (FORMAT JSON) EXECUTE {statement}('plans', ARRAY['job-1'])", connection);
        var plan = (string)(await explain.ExecuteScalarAsync())!;

        Assert.Matches("\"Index Cond\": \"[^\"]*job = ", plan);
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private async Task<long> RowsAsync(GrainId job)
    {
        if (_postgres is { } data)
        {
            await using var command = data.CreateCommand("SELECT count(*) FROM work_job_journal WHERE job = $1");
            command.Parameters.AddWithValue(job.ToString());
            return (long)(await command.ExecuteScalarAsync())!;
        }

        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = SqlitePath }.ToString());
        await connection.OpenAsync();
        await using var count = connection.CreateCommand();
        count.CommandText = "SELECT count(*) FROM work_job_journal WHERE job = $job";
        count.Parameters.AddWithValue("$job", job.ToString());
        return (long)(await count.ExecuteScalarAsync())!;
    }
}

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Work.Hosting;
using Work.Storage.Sqlite;

namespace Work.Cluster.Tests;

/// <summary>The behaviour every reminder table the product uses must have; one subclass per backend.</summary>
public abstract class ReminderTableContractTests
{
    private static readonly GrainType s_type = GrainType.Create("work-test");

    protected abstract Task<IReminderTable> CreateAsync();

    private static ReminderEntry Entry(GrainId grain, string name, int minutes = 1) => new()
    {
        GrainId = grain,
        ReminderName = name,
        StartAt = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddMinutes(minutes),
        Period = TimeSpan.FromMinutes(minutes),
    };

    private static GrainId Grain(string key) => GrainId.Create(s_type, key);

    [Fact]
    public async Task UpsertedRowsReadBackByGrainAndByName()
    {
        var table = await CreateAsync();
        var grain = Grain("a");

        var etag = await table.UpsertRow(Entry(grain, "r1"));
        await table.UpsertRow(Entry(grain, "r2", 2));
        await table.UpsertRow(Entry(Grain("b"), "r1"));

        var rows = (await table.ReadRows(grain)).Reminders;
        Assert.Equal(["r1", "r2"], rows.Select(r => r.ReminderName).Order());
        var row = await table.ReadRow(grain, "r2");
        Assert.NotNull(row);
        Assert.Equal(TimeSpan.FromMinutes(2), row.Period);
        Assert.Equal(new DateTime(2026, 1, 1, 0, 2, 0, DateTimeKind.Utc), row.StartAt.ToUniversalTime());
        Assert.Equal(etag, (await table.ReadRow(grain, "r1"))!.ETag);
        Assert.Null(await table.ReadRow(grain, "missing"));
    }

    [Fact]
    public async Task AnUpsertReplacesTheRowAndItsETag()
    {
        var table = await CreateAsync();
        var grain = Grain("replace");

        var first = await table.UpsertRow(Entry(grain, "r"));
        var second = await table.UpsertRow(Entry(grain, "r", 5));

        Assert.NotEqual(first, second);
        var row = Assert.Single((await table.ReadRows(grain)).Reminders);
        Assert.Equal(TimeSpan.FromMinutes(5), row.Period);
    }

    [Fact]
    public async Task RemoveNeedsTheCurrentETag()
    {
        var table = await CreateAsync();
        var grain = Grain("remove");
        var stale = await table.UpsertRow(Entry(grain, "r"));
        var etag = await table.UpsertRow(Entry(grain, "r", 2));

        Assert.False(await table.RemoveRow(grain, "r", stale!));
        Assert.NotNull(await table.ReadRow(grain, "r"));
        Assert.True(await table.RemoveRow(grain, "r", etag!));
        Assert.Null(await table.ReadRow(grain, "r"));
        Assert.False(await table.RemoveRow(grain, "r", etag!));
    }

    [Fact]
    public async Task RangeReadsFollowTheRingIncludingWrapAround()
    {
        var table = await CreateAsync();
        var grains = Enumerable.Range(0, 40).Select(i => Grain($"ring-{i}")).ToList();
        foreach (var grain in grains)
        {
            await table.UpsertRow(Entry(grain, "r"));
        }

        var hashes = grains.Select(g => g.GetUniformHashCode()).Order().ToList();
        var begin = hashes[10];
        var end = hashes[30];

        var inside = (await table.ReadRows(begin, end)).Reminders.Select(r => r.GrainId.GetUniformHashCode()).ToHashSet();
        var outside = (await table.ReadRows(end, begin)).Reminders.Select(r => r.GrainId.GetUniformHashCode()).ToHashSet();

        Assert.Equal(hashes.Where(h => h > begin && h <= end).ToHashSet(), inside);
        Assert.Equal(hashes.Where(h => h > end || h <= begin).ToHashSet(), outside);
        Assert.Equal(40, inside.Count + outside.Count);
    }

    [Fact]
    public async Task ClearEmptiesTheTable()
    {
        var table = await CreateAsync();
        var grain = Grain("clear");
        await table.UpsertRow(Entry(grain, "r"));

        await table.TestOnlyClearTable();

        Assert.Empty((await table.ReadRows(grain)).Reminders);
    }
}

public sealed class MemoryReminderTableTests : ReminderTableContractTests
{
    protected override Task<IReminderTable> CreateAsync() => Task.FromResult<IReminderTable>(new SharedReminderTable());
}

public sealed class SqliteReminderTableTests : ReminderTableContractTests, IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("work-reminders-").FullName;

    protected override async Task<IReminderTable> CreateAsync()
    {
        var options = new SqliteDatabase($"Data Source={Path.Combine(_folder, "work.db")};Pooling=False");
        var table = new SqliteReminderTable(Options.Create(new ClusterOptions { ServiceId = "contract" }), options);
        await table.Init();
        return table;
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}

/// <summary>Orleans' ADO.NET reminder table on the project's PostgreSQL scripts.</summary>
public sealed class PostgresReminderTableTests : ReminderTableContractTests
{
    protected override async Task<IReminderTable> CreateAsync()
    {
        var connectionString = PostgresServer.Shared.CreateDatabase("reminders");
        var services = new ServiceCollection();
        services.Configure<ClusterOptions>(o => o.ServiceId = "contract");
        services.UseAdoNetReminderService(options => options.Configure(o =>
        {
            o.Invariant = WorkPostgresSiloBuilderExtensions.PostgresInvariant;
            o.ConnectionString = connectionString;
        }));
        var table = services.BuildServiceProvider().GetRequiredService<IReminderTable>();
        await table.StartAsync();
        return table;
    }
}

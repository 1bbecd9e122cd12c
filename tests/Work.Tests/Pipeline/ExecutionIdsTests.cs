using Work.Pipeline;

namespace Work.Tests.Pipeline;

public sealed class ExecutionIdsTests
{
    [Fact]
    public void IdsAreUniqueVersionSevenUuidsOrderedByTime()
    {
        var start = new DateTimeOffset(2026, 5, 1, 12, 0, 0, TimeSpan.Zero);
        var ids = Enumerable.Range(0, 10_000).Select(i => ExecutionIds.New(start.AddMilliseconds(i))).ToList();

        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.Equal(ids, ids.Order(StringComparer.Ordinal));
        var guid = Guid.ParseExact(ids[0], "N");
        Assert.Equal(7, guid.Version);
        Assert.Equal(32, ids[0].Length);
    }

    [Fact]
    public void IdsMadeInTheSameMillisecondDiffer()
    {
        var now = DateTimeOffset.UnixEpoch.AddYears(56);
        var ids = Enumerable.Range(0, 1_000).Select(_ => ExecutionIds.New(now)).ToHashSet();
        Assert.Equal(1_000, ids.Count);
    }
}

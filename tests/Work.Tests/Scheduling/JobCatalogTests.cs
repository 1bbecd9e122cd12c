using Work.Scheduling;

namespace Work.Tests.Scheduling;

public sealed class JobCatalogTests
{
    private static string Name(int i) => "job-" + i.ToString("D5", System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void AChangeTouchesOneBucketAndBucketsFillBeforeANewOneStarts()
    {
        var catalog = new JobCatalog();
        for (var i = 0; i < JobCatalog.BucketSize + 1; i++)
        {
            Assert.True(catalog.Add(Name(i)));
        }

        Assert.False(catalog.Add(Name(0)));
        Assert.Equal(2, catalog.BucketCount);
        Assert.Equal([0, 1], catalog.TakeChanges().Select(c => c.Number));
        Assert.False(catalog.HasChanges);

        // A removal leaves room in its bucket, which the next name takes.
        Assert.True(catalog.Remove(Name(5)));
        Assert.False(catalog.Remove(Name(5)));
        var removal = Assert.Single(catalog.TakeChanges());
        Assert.Equal(0, removal.Number);
        Assert.Equal(JobCatalog.BucketSize - 1, removal.Names.Length);
        Assert.True(catalog.Add("late"));
        var addition = Assert.Single(catalog.TakeChanges());
        Assert.Equal(0, addition.Number);
        Assert.Contains("late", addition.Names);
    }

    [Fact]
    public void PagesAreInOrdinalOrderAfterTheGivenName()
    {
        var catalog = new JobCatalog();
        foreach (var name in new[] { "b", "a", "B", "c", "ab" })
        {
            catalog.Add(name);
        }

        Assert.Equal(["B", "a", "ab"], catalog.Page(null, 3));
        Assert.Equal(["b", "c"], catalog.Page("ab", 3));
        Assert.Equal(["ab", "b"], catalog.Page("aa", 2));
        Assert.Empty(catalog.Page("c", 3));
        catalog.Remove("ab");
        Assert.Equal(["B", "a", "b", "c"], catalog.Page(null, 10));
    }

    [Fact]
    public void LoadingKeepsEveryNameOnceAndRewritesABucketThatHeldADuplicate()
    {
        var stored = new List<IReadOnlyList<string>?> { new[] { "x", "y" }, null, new[] { "y", "z" } };
        var catalog = JobCatalog.Load(stored);

        Assert.Equal(3, catalog.Count);
        Assert.Equal(3, catalog.BucketCount);
        var rewrite = Assert.Single(catalog.TakeChanges());
        Assert.Equal(2, rewrite.Number);
        Assert.Equal(["z"], rewrite.Names);

        // A new name goes to the lowest bucket with room.
        catalog.Add("w");
        Assert.Equal(0, Assert.Single(catalog.TakeChanges()).Number);
    }

    [Fact]
    public void AFailedWriteMarksItsBucketsChangedAgain()
    {
        var catalog = new JobCatalog();
        catalog.Add("a");
        var taken = catalog.TakeChanges();
        catalog.NotWritten(taken.Select(c => c.Number));
        Assert.True(catalog.HasChanges);
        Assert.Equal(["a"], Assert.Single(catalog.TakeChanges()).Names);
    }
}

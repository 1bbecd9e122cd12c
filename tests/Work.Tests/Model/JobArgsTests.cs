namespace Work.Tests.Model;

public sealed class JobArgsTests
{
    private sealed record EmailArgs(string To, int Retries, string[] Tags);

    [Fact]
    public void GetReadsTypedValuesFromAnObject()
    {
        var args = JobArgs.From(new { to = "ada@example.com", retries = 3, ratio = 0.5, tags = new[] { "a", "b" } });

        Assert.Equal(4, args.Count);
        Assert.Equal("ada@example.com", args.Get<string>("to"));
        Assert.Equal(3, args.Get<int>("retries"));
        Assert.Equal(0.5, args.Get<double>("ratio"));
        Assert.Equal(["a", "b"], args.Get<string[]>("tags"));
    }

    [Fact]
    public void BindFillsARecordCaseInsensitively()
    {
        var args = JobArgs.Parse("""{"TO":"b@c.d","retries":2,"tags":["x"]}""");

        var bound = args.Bind<EmailArgs>();

        Assert.Equal("b@c.d", bound.To);
        Assert.Equal(2, bound.Retries);
        Assert.Equal(["x"], bound.Tags);
    }

    [Fact]
    public void MissingKeyErrorNamesTheKey()
    {
        var error = Assert.Throws<KeyNotFoundException>(() => JobArgs.Empty.Get<int>("count"));
        Assert.Contains("'count'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WrongTypeErrorNamesTheKeyAndType()
    {
        var args = JobArgs.Parse("""{"count":"many"}""");

        var error = Assert.Throws<FormatException>(() => args.Get<int>("count"));

        Assert.Contains("'count'", error.Message, StringComparison.Ordinal);
        Assert.Contains("Int32", error.Message, StringComparison.Ordinal);
        Assert.False(args.TryGet<int>("count", out _));
    }

    [Theory]
    [InlineData("[1,2]")]
    [InlineData("42")]
    [InlineData("{not json")]
    public void ParseRejectsAnythingButAnObject(string json)
    {
        var error = Assert.Throws<FormatException>(() => JobArgs.Parse(json));
        Assert.Contains("JSON object", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WithReturnsACopyAndLeavesTheOriginal()
    {
        var original = JobArgs.From(new { a = 1 });

        var changed = original.With("b", "two").Without("a");

        Assert.Equal(1, original.Get<int>("a"));
        Assert.False(original.ContainsKey("b"));
        Assert.Equal("two", changed.Get<string>("b"));
        Assert.False(changed.ContainsKey("a"));
    }

    [Fact]
    public void ToJsonRoundTripsAndEqualityIsByContent()
    {
        var args = JobArgs.From(new { name = "x\"y", n = 1, nested = new { ok = true } });

        var copy = JobArgs.Parse(args.ToJson());

        Assert.Equal(args, copy);
        Assert.Equal(args.GetHashCode(), copy.GetHashCode());
        Assert.True(copy.Get<System.Text.Json.JsonElement>("nested").GetProperty("ok").GetBoolean());
        Assert.Equal(args.SizeInBytes, copy.SizeInBytes);
        Assert.NotEqual(args, args.With("n", 2));
    }

    [Fact]
    public void GetOrDefaultFallsBackOnlyWhenAbsent()
    {
        var args = JobArgs.From(new { n = 5 });

        Assert.Equal(5, args.GetOrDefault("n", 9));
        Assert.Equal(9, args.GetOrDefault("m", 9));
    }
}

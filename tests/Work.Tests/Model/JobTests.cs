namespace Work.Tests.Model;

public sealed class JobTests
{
    [Fact]
    public void ValidJobPassesValidation()
    {
        var job = new Job("send") { Queue = "mail", Timeout = TimeSpan.FromSeconds(1) };
        job.Validate();
        Assert.Equal("send", job.Handler);
        Assert.Equal("mail", job.Queue);
    }

    [Theory]
    [InlineData("", "Handler")]
    [InlineData("  ", "Handler")]
    public void EmptyHandlerIsRejectedByName(string handler, string field)
    {
        var error = Assert.Throws<ArgumentException>(() => new Job(handler).Validate());
        Assert.Equal(field, error.ParamName);
    }

    [Fact]
    public void NonPositiveTimeoutIsRejected()
    {
        var error = Assert.Throws<ArgumentException>(() => new Job("x") { Timeout = TimeSpan.Zero }.Validate());
        Assert.Equal("Timeout", error.ParamName);
    }

    [Fact]
    public void EmptyQueueIsRejected()
    {
        var error = Assert.Throws<ArgumentException>(() => new Job("x") { Queue = "" }.Validate());
        Assert.Equal("Queue", error.ParamName);
    }
}

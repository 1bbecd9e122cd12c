using Work.Grains;

namespace Work.Tests.Model;

public sealed class WorkClusterOptionsTests
{
    [Fact]
    public void TheDefaultsAreValid() => Assert.Empty(new WorkClusterOptions().Validate());

    [Theory]
    [InlineData(-1, "Work:Cluster:WriteDelay must be zero or more and below LeaseRenewPeriod (00:00:10); it is -00:00:00.0010000.")]
    [InlineData(10_000, "Work:Cluster:WriteDelay must be zero or more and below LeaseRenewPeriod (00:00:10); it is 00:00:10.")]
    public void AWriteDelayOutsideItsRangeIsNamed(int milliseconds, string message)
    {
        var failures = new WorkClusterOptions { WriteDelay = TimeSpan.FromMilliseconds(milliseconds) }.Validate();

        Assert.Equal(message, Assert.Single(failures));
    }

    [Fact]
    public void AZeroWriteDelayWritesAtOnceAndIsValid() => Assert.Empty(new WorkClusterOptions { WriteDelay = TimeSpan.Zero }.Validate());

    [Theory]
    [InlineData(4)]
    [InlineData(-1)]
    [InlineData(86_401)]
    public void AnIdleDeactivationOutsideItsRangeIsNamed(int seconds)
    {
        var failure = Assert.Single(new WorkClusterOptions { IdleDeactivation = TimeSpan.FromSeconds(seconds) }.Validate());

        Assert.StartsWith("Work:Cluster:IdleDeactivation must be zero (jobs stay in memory) or between 5 seconds and one day", failure, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    [InlineData(86_400)]
    public void AnIdleDeactivationOfZeroOrInItsRangeIsValid(int seconds) =>
        Assert.Empty(new WorkClusterOptions { IdleDeactivation = TimeSpan.FromSeconds(seconds) }.Validate());
}

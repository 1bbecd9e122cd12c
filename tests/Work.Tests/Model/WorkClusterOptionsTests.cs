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
}

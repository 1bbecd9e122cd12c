using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Work.Grains;
using Work.Hosting;

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

    [Theory]
    [InlineData(-1)]
    [InlineData(3_601)]
    public void ADrainTimeoutOutsideItsRangeIsNamed(int seconds)
    {
        var failure = Assert.Single(new WorkClusterOptions { DrainTimeout = TimeSpan.FromSeconds(seconds) }.Validate());

        Assert.StartsWith("Work:Cluster:DrainTimeout must be between zero and one hour", failure, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(15, 30, true)]
    [InlineData(0, 5, true)]
    [InlineData(30, 30, false)]
    [InlineData(40, 30, false)]
    public void ADrainTimeoutMustEndBeforeTheHostsStopDoes(int drain, int shutdown, bool valid)
    {
        var host = Options.Create(new HostOptions { ShutdownTimeout = TimeSpan.FromSeconds(shutdown) });
        var result = new DrainWithinShutdown(host).Validate(null, new WorkClusterOptions { DrainTimeout = TimeSpan.FromSeconds(drain) });

        Assert.Equal(valid, result.Succeeded);
        if (!valid)
        {
            Assert.Equal(
                $"Work:Cluster:DrainTimeout must be below the host's ShutdownTimeout ({TimeSpan.FromSeconds(shutdown)}), which also bounds the rest of the silo's stop; it is {TimeSpan.FromSeconds(drain)}.",
                result.FailureMessage);
        }
    }
}

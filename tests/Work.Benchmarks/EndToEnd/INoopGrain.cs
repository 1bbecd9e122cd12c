using Orleans.Concurrency;

namespace Work.Benchmarks.EndToEnd;

/// <summary>The raw baseline: a plain stateless worker grain that does nothing.</summary>
[Alias("bench.INoopGrain")]
public interface INoopGrain : IGrainWithIntegerKey
{
    [Alias("Noop")]
    Task NoopAsync();
}

[StatelessWorker]
internal sealed class NoopGrain : Grain, INoopGrain
{
    public Task NoopAsync() => Task.CompletedTask;
}

using Microsoft.Extensions.DependencyInjection;

namespace Work.Tests.Pipeline;

public sealed class ExecutionScopeTests
{
    [Fact]
    public async Task ScopedServicesAreDisposedWhenTheExecutionEnds()
    {
        Tracked? seen = null;
        await using var workers = new TestWorkers(
            w => w.AddHandler("scoped", ctx =>
            {
                seen = ctx.Services.GetRequiredService<Tracked>();
                Assert.Same(seen, ctx.Services.GetRequiredService<Tracked>());
                Assert.False(seen.Disposed);
                return Task.CompletedTask;
            }),
            services: s => s.AddScoped<Tracked>());
        var worker = await workers.StartAsync();

        var execution = await worker.PerformAsync(new Job("scoped"));

        Assert.Equal(JobStatus.Success, execution.Status);
        Assert.NotNull(seen);
        Assert.True(seen.Disposed);
    }

    [Fact]
    public async Task EachExecutionGetsItsOwnScope()
    {
        var seen = new List<Tracked>();
        await using var workers = new TestWorkers(
            w => w.AddHandler("scoped", ctx =>
            {
                seen.Add(ctx.Services.GetRequiredService<Tracked>());
                return Task.CompletedTask;
            }),
            services: s => s.AddScoped<Tracked>());
        var worker = await workers.StartAsync();

        await worker.PerformAsync(new Job("scoped"));
        await worker.PerformAsync(new Job("scoped"));

        Assert.Equal(2, seen.Distinct().Count());
    }

    internal sealed class Tracked : IDisposable
    {
        public bool Disposed { get; private set; }

        public void Dispose() => Disposed = true;
    }
}

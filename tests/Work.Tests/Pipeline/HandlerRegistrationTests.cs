using Microsoft.Extensions.DependencyInjection;
using Work.Hosting;
using Work.Pipeline;

namespace Work.Tests.Pipeline;

public sealed class HandlerRegistrationTests
{
    private static readonly JobHandler s_noop = _ => Task.CompletedTask;

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    public void EmptyNameIsRejected(string name)
    {
        var error = Assert.Throws<ArgumentException>(() => new JobHandlerRegistry().Register(name, s_noop));
        Assert.Contains("empty", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NullHandlerIsRejected() =>
        Assert.Throws<ArgumentNullException>(() => new JobHandlerRegistry().Register("x", null!));

    [Fact]
    public void DuplicateNameIsRejectedAndTheFirstStays()
    {
        var registry = new JobHandlerRegistry();
        JobHandler first = _ => Task.CompletedTask;
        registry.Register("dup", first);

        var error = Assert.Throws<ArgumentException>(() => registry.Register("dup", s_noop));

        Assert.Contains("'dup'", error.Message, StringComparison.Ordinal);
        Assert.True(registry.TryGet("dup", out var kept));
        Assert.Same(first, kept);
    }

    [Fact]
    public void DuplicateThroughTheServiceCollectionIsRejected()
    {
        var services = new ServiceCollection();
        services.AddWork(w => w.AddHandler("a", s_noop));

        var error = Assert.Throws<ArgumentException>(() => services.AddWork(w => w.AddHandler("a", s_noop)));

        Assert.Contains("'a'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WorkerRegisterRejectsDuplicatesAndBadInput()
    {
        await using var workers = new TestWorkers(w => w.AddHandler("known", s_noop));
        var worker = workers.Create();

        Assert.Throws<ArgumentException>(() => worker.Register("known", s_noop));
        Assert.Throws<ArgumentException>(() => worker.Register("", s_noop));
        Assert.Throws<ArgumentNullException>(() => worker.Register("other", null!));
    }

    [Fact]
    public async Task HandlersRegisteredOnOneWorkerStayItsOwn()
    {
        await using var workers = new TestWorkers();
        var first = await workers.StartAsync();
        var second = await workers.StartAsync();
        first.Register("mine", s_noop);

        Assert.Equal(JobStatus.Success, (await first.PerformAsync(new Job("mine"))).Status);
        Assert.Equal(JobStatus.BadRequest, (await second.PerformAsync(new Job("mine"))).Status);
    }

    [Fact]
    public async Task ClassHandlerGetsScopedServicesPerExecution()
    {
        await using var workers = new TestWorkers(
            w => w.AddHandler<ScopedHandler>("scoped"),
            services: s => s.AddScoped<ScopeMarker>());
        var worker = await workers.StartAsync();

        var first = await worker.PerformAsync(new Job("scoped"));
        var second = await worker.PerformAsync(new Job("scoped"));

        Assert.Equal(JobStatus.Success, first.Status);
        Assert.Equal(JobStatus.Success, second.Status);
        Assert.Equal(2, ScopeMarker.Created.Count(id => id is not null));
        Assert.Equal(2, ScopeMarker.Created.Distinct().Count());
    }

    [Fact]
    public async Task UnknownHandlerIsBadRequestNamingItAndWorkerGoesOn()
    {
        await using var workers = new TestWorkers(w => w.AddHandler("real", s_noop));
        var worker = await workers.StartAsync();

        var missing = await worker.PerformAsync(new Job("no-such-handler"));
        var after = await worker.PerformAsync(new Job("real"));

        Assert.Equal(JobStatus.BadRequest, missing.Status);
        Assert.Contains("'no-such-handler'", missing.Error, StringComparison.Ordinal);
        Assert.Contains("real", missing.Error, StringComparison.Ordinal);
        Assert.Equal(typeof(JobHandlerNotFoundException).FullName, missing.ErrorType);
        Assert.Equal(JobStatus.Success, after.Status);
    }

    internal sealed class ScopeMarker
    {
        public static readonly System.Collections.Concurrent.ConcurrentBag<string?> Created = [];

        public string Id { get; } = Guid.NewGuid().ToString("N");
    }

    internal sealed class ScopedHandler(ScopeMarker marker) : IJobHandler
    {
        public Task HandleAsync(JobContext context)
        {
            ScopeMarker.Created.Add(marker.Id);
            Assert.Same(marker, context.Services.GetRequiredService<ScopeMarker>());
            return Task.CompletedTask;
        }
    }
}

using Work.Pipeline;

namespace Work.Tests.Pipeline;

public sealed class JobPipelineBuilderTests
{
    [Fact]
    public async Task FirstAddedAdapterIsOutermost()
    {
        var trace = new List<string>();
        JobAdapter Named(string name) => next => async context =>
        {
            trace.Add($"{name} in");
            await next(context);
            trace.Add($"{name} out");
        };

        var handler = new JobPipelineBuilder().Use(Named("a")).Use(Named("b")).Use(Named("c"))
            .Build(_ =>
            {
                trace.Add("handler");
                return Task.CompletedTask;
            });
        await handler(Contexts.Create());

        Assert.Equal(["a in", "b in", "c in", "handler", "c out", "b out", "a out"], trace);
    }

    [Fact]
    public async Task BuiltPipelineIsComposedOnceAndReused()
    {
        var compositions = 0;
        var calls = 0;
        var handler = new JobPipelineBuilder()
            .Use(next =>
            {
                compositions++;
                return context =>
                {
                    calls++;
                    return next(context);
                };
            })
            .Build(_ => Task.CompletedTask);

        for (var i = 0; i < 5; i++)
        {
            await handler(Contexts.Create());
        }

        Assert.Equal(1, compositions);
        Assert.Equal(5, calls);
    }

    [Fact]
    public async Task ClassAdaptersAndDelegatesCompose()
    {
        var context = Contexts.Create();
        var handler = new JobPipelineBuilder()
            .Use(new SetValueAdapter("k", "from adapter"))
            .Use(next => ctx =>
            {
                Assert.True(ctx.TryGet<string>("k", out var value));
                ctx.Set("seen", value);
                return next(ctx);
            })
            .Build(ctx =>
            {
                ctx.Status = JobStatus.NoResponse;
                return Task.CompletedTask;
            });

        await handler(context);

        Assert.True(context.TryGet<string>("seen", out var seen));
        Assert.Equal("from adapter", seen);
        Assert.Equal(JobStatus.NoResponse, context.Status);
    }

    [Fact]
    public void NullAdapterIsRejected()
    {
        Assert.Throws<ArgumentNullException>(() => new JobPipelineBuilder().Use((JobAdapter)null!));
        Assert.Throws<ArgumentNullException>(() => new JobPipelineBuilder().Use((IJobAdapter)null!));
    }

    private sealed class SetValueAdapter(string key, string value) : IJobAdapter
    {
        public Task InvokeAsync(JobContext context, JobHandler next)
        {
            context.Set(key, value);
            return next(context);
        }
    }
}

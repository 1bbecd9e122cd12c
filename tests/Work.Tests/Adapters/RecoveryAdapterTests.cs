using Work.Adapters;
using Work.Pipeline;

namespace Work.Tests.Adapters;

public sealed class RecoveryAdapterTests
{
    private static async Task<JobContext> RunAsync(JobHandler handler, CancellationToken token = default)
    {
        var context = Contexts.Create(token: token);
        await RecoveryAdapter.Instance.InvokeAsync(context, handler);
        return context;
    }

    [Fact]
    public async Task NormalReturnWithUnknownStatusBecomesSuccess()
    {
        var context = await RunAsync(_ => Task.CompletedTask);
        Assert.Equal(JobStatus.Success, context.Status);
        Assert.Null(context.Error);
    }

    [Fact]
    public async Task PanicLikeExceptionBecomesInternalError()
    {
        var context = await RunAsync(_ => throw new InvalidOperationException("boom"));
        Assert.Equal(JobStatus.InternalError, context.Status);
        Assert.Equal("boom", context.Error?.Message);
    }

    [Fact]
    public async Task ExceptionAfterAsyncWorkBecomesInternalError()
    {
        var context = await RunAsync(async _ =>
        {
            await Task.Yield();
            throw new FormatException("deep");
        });
        Assert.Equal(JobStatus.InternalError, context.Status);
        Assert.IsType<FormatException>(context.Error);
    }

    [Fact]
    public async Task ErrorStatusSetBeforeThrowingIsKept()
    {
        var context = await RunAsync(ctx =>
        {
            ctx.Status = JobStatus.Forbidden;
            throw new UnauthorizedAccessException("no");
        });
        Assert.Equal(JobStatus.Forbidden, context.Status);
        Assert.IsType<UnauthorizedAccessException>(context.Error);
    }

    [Fact]
    public async Task SuccessSetBeforeThrowingBecomesInternalError()
    {
        var context = await RunAsync(ctx =>
        {
            ctx.Status = JobStatus.Success;
            throw new InvalidOperationException("late failure");
        });
        Assert.Equal(JobStatus.InternalError, context.Status);
    }

    [Fact]
    public async Task StatusSetByHandlerIsKept()
    {
        var context = await RunAsync(ctx =>
        {
            ctx.SetStatus(JobStatus.NoResponse);
            return Task.CompletedTask;
        });
        Assert.Equal(JobStatus.NoResponse, context.Status);
    }

    [Fact]
    public async Task CancellationByTheWorkerBecomesUnavailable()
    {
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        var context = await RunAsync(ctx => Task.FromCanceled(ctx.CancellationToken), cts.Token);
        Assert.Equal(JobStatus.Unavailable, context.Status);
        Assert.IsAssignableFrom<OperationCanceledException>(context.Error);
    }

    [Fact]
    public async Task ThrowingHandlerThroughAWorkerEndsAsInternalError()
    {
        await using var workers = new TestWorkers(w => w.AddHandler("panic", _ => throw new InvalidOperationException("panic")));
        var worker = await workers.StartAsync();

        var execution = await worker.PerformAsync(new Job("panic"));

        Assert.Equal(JobStatus.InternalError, execution.Status);
        Assert.Equal("panic", execution.Error);
        Assert.Equal(typeof(InvalidOperationException).FullName, execution.ErrorType);
    }
}

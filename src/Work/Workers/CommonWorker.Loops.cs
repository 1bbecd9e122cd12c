using System.Threading.Channels;
using Work.Diagnostics;
using Work.Pipeline;

namespace Work.Workers;

// Loops: every interval, and for every item received from a source.
public sealed partial class CommonWorker
{
    /// <inheritdoc />
    public JobLoop PerformEvery(Job job, TimeSpan interval, EveryOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(job);
        if (interval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(interval), interval, "PerformEvery needs a positive interval.");
        }

        job.Validate();
        options ??= new EveryOptions();
        job = WorkDiagnostics.StampTraceContext(job, "schedule");
        var perform = new PerformOptions { JobName = options.JobName };
        var start = _time.GetUtcNow();
        return StartLoop(JobLoopKind.Every, loop => IntervalLoop.RunAsync(
            _time, start, interval, options.RunImmediately, options.Sync, loop,
            due => options.Sync
                ? RunInlineAsync(Request(job, perform, due))
                : TryAccept(new QueuedExecution(Request(job, perform, due), null))));
    }

    /// <inheritdoc />
    public JobLoop PerformReceive<T>(Job job, ChannelReader<T> source, ReceiveOptions? options = null) =>
        PerformReceive(job, JobSource.From(source), options);

    /// <inheritdoc />
    public JobLoop PerformReceive<T>(Job job, IAsyncEnumerable<T> source, ReceiveOptions? options = null) =>
        PerformReceive(job, JobSource.From(source), options);

    /// <summary>Performs the job for every item of <paramref name="source"/>; see <see cref="IWorker.PerformReceive{T}(Job, ChannelReader{T}, ReceiveOptions?)"/>.</summary>
    public JobLoop PerformReceive(Job job, JobSource source, ReceiveOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(source);
        job.Validate();
        options ??= new ReceiveOptions();
        job = WorkDiagnostics.StampTraceContext(job, "receive");
        return StartLoop(JobLoopKind.Receive, loop => options.Sync
            ? ReceiveSyncAsync(job, source, options, loop)
            : ReceiveAsync(job, source, options, loop));
    }

    private JobLoop StartLoop(JobLoopKind kind, Func<JobLoop, Task> body)
    {
        EnsureRunning();
        var loop = new JobLoop(ExecutionIds.New(_time.GetUtcNow()), kind, _stopping.Token);
        _loops[loop.Id] = loop;
        loop.Run(async l =>
        {
            try
            {
                await body(l);
            }
            finally
            {
                _loops.TryRemove(l.Id, out _);
            }
        });
        return loop;
    }

    // Loops run their executions inline; StopAsync waits for the loops themselves.
    private Task<JobExecution> RunInlineAsync(ExecutionRequest request) => _executor.ExecuteAsync(request, _stopping.Token);

    private async Task ReceiveSyncAsync(Job job, JobSource source, ReceiveOptions options, JobLoop loop)
    {
        while (true)
        {
            var (hasItem, item) = await source.ReadAsync(loop.Token);
            if (!hasItem)
            {
                return;
            }

            loop.CountRun();
            await RunInlineAsync(Request(job, new PerformOptions { JobName = options.JobName, Item = item }));
        }
    }

    private async Task ReceiveAsync(Job job, JobSource source, ReceiveOptions options, JobLoop loop)
    {
        // Permits bound the loop's executions in flight; taking them all back at the end waits for the last one.
        var permits = _options.MaxConcurrency;
        using var slots = new SemaphoreSlim(permits, permits);
        try
        {
            while (true)
            {
                await slots.WaitAsync(loop.Token);
                (bool HasItem, object? Item) next;
                try
                {
                    next = await source.ReadAsync(loop.Token);
                }
                catch
                {
                    slots.Release();
                    throw;
                }

                var (hasItem, item) = next;
                if (!hasItem)
                {
                    slots.Release();
                    return;
                }

                loop.CountRun();
                var request = Request(job, new PerformOptions { JobName = options.JobName, Item = item });
                if (TryAccept(new QueuedExecution(request, slots)) is null)
                {
                    slots.Release();
                    return;
                }
            }
        }
        finally
        {
            for (var i = 0; i < permits; i++)
            {
                await slots.WaitAsync(CancellationToken.None);
            }
        }
    }
}

using System.Collections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Work.Adapters;
using Work.Diagnostics;

namespace Work.Pipeline;

/// <summary>
/// Runs executions through one composed pipeline: a fresh context and service scope each, one log scope, and the
/// finished <see cref="JobExecution"/>. Shared by <c>CommonWorker</c>, <c>ConcurrentJob</c> and the executor grain, so a
/// handler behaves the same wherever it runs.
/// </summary>
internal sealed class JobExecutor
{
    private readonly JobHandler _pipeline;
    private readonly IServiceScopeFactory _scopes;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _worker;

    public JobExecutor(JobHandler pipeline, IServiceScopeFactory scopes, TimeProvider time, ILoggerFactory loggers, string worker)
    {
        _pipeline = pipeline;
        _scopes = scopes;
        _time = time;
        _logger = loggers.CreateLogger("Work.Handlers");
        _worker = worker;
    }

    public string Worker => _worker;

    /// <summary>
    /// Composes the pipeline: the given adapters (first = outermost), then recovery and timeout, then the dispatch to
    /// the handler registered under the job's name (400 with a named error when there is none).
    /// </summary>
    public static JobHandler BuildPipeline(
        IEnumerable<JobAdapter> adapters, JobHandlerRegistry registry, TimeProvider time, WorkInstruments? instruments)
    {
        var builder = new JobPipelineBuilder();
        foreach (var adapter in adapters)
        {
            builder.Use(adapter);
        }

        builder.Use(RecoveryAdapter.Instance);
        builder.Use(new TimeoutAdapter(time, instruments));
        return builder.Build(context =>
        {
            if (registry.TryGet(context.Handler, out var handler))
            {
                return handler(context);
            }

            context.Status = JobStatus.BadRequest;
            context.Error = new JobHandlerNotFoundException(context.Handler, registry.Names);
            return Task.CompletedTask;
        });
    }

    /// <summary>Runs one execution and returns its record.</summary>
    public async Task<JobExecution> ExecuteAsync(ExecutionRequest request, CancellationToken cancellationToken) =>
        ToExecution(await RunAsync(request, cancellationToken));

    /// <summary>Runs one execution and returns its finished context, for callers that keep no record.</summary>
    public async ValueTask<JobContext> RunAsync(ExecutionRequest request, CancellationToken cancellationToken)
    {
        var context = new JobContext(
            request.Job, request.ExecutionId, request.Attempt, _worker, request.ScheduledAt, _scopes, _logger, cancellationToken)
        {
            JobName = request.JobName,
            Item = request.Item,
            StartedAt = _time.GetUtcNow(),
        };
        try
        {
            using (_logger.IsEnabled(LogLevel.Critical) ? _logger.BeginScope(new ExecutionLogScope(request)) : null)
            {
                await _pipeline(context);
            }
        }
        catch (Exception ex)
        {
            // An adapter outside recovery threw: the execution still ends with a status.
            context.Error = ex;
            if (!context.Status.IsError())
            {
                context.Status = JobStatus.InternalError;
            }
        }
        finally
        {
            await context.DisposeScopeAsync();
        }

        if (context.Status == JobStatus.Unknown)
        {
            context.Status = JobStatus.Success;
        }

        context.FinishedAt = _time.GetUtcNow();
        return context;
    }

    private JobExecution ToExecution(JobContext context) => new()
    {
        ExecutionId = context.ExecutionId,
        Handler = context.Handler,
        Queue = context.Job.Queue,
        Attempt = context.Attempt,
        Status = context.Status,
        Error = context.Error?.Message,
        ErrorType = context.Error?.GetType().FullName,
        ScheduledAt = context.ScheduledAt,
        StartedAt = context.StartedAt,
        FinishedAt = context.FinishedAt,
        Worker = _worker,
    };

    /// <summary>The log scope of one execution: job name, handler, execution id and attempt (never argument values).</summary>
    private sealed class ExecutionLogScope(ExecutionRequest request) : IReadOnlyList<KeyValuePair<string, object?>>
    {
        public int Count => 4;

        public KeyValuePair<string, object?> this[int index] => index switch
        {
            0 => new("JobName", request.JobName),
            1 => new("Handler", request.Job.Handler),
            2 => new("ExecutionId", request.ExecutionId),
            3 => new("Attempt", request.Attempt),
            _ => throw new ArgumentOutOfRangeException(nameof(index)),
        };

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
        {
            for (var i = 0; i < Count; i++)
            {
                yield return this[i];
            }
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() =>
            $"Job {request.JobName ?? request.Job.Handler} execution {request.ExecutionId} attempt {request.Attempt}";
    }
}

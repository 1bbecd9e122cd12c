using Microsoft.Extensions.Logging;
using Work.Pipeline;

namespace Work.Adapters;

/// <summary>
/// Writes one summary line per execution: job name, handler, status, latency, worker and execution id. Successes and no-ops
/// (444) log at <see cref="LoggingAdapterOptions.SuccessLevel"/> (Information by default), other client errors at Warning,
/// server errors (408, 500, 503) at Error with the exception.
/// Argument values are never logged.
/// </summary>
public sealed partial class LoggingAdapter : IJobAdapter
{
    /// <summary>The log category of the summary lines.</summary>
    public const string Category = "Work.Executions";

    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly LoggingAdapterOptions _options;

    /// <summary>Creates the adapter.</summary>
    public LoggingAdapter(ILoggerFactory loggerFactory, TimeProvider time, LoggingAdapterOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _logger = loggerFactory.CreateLogger(Category);
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _options = options ?? new LoggingAdapterOptions();
    }

    /// <inheritdoc />
    public async Task InvokeAsync(JobContext context, JobHandler next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var start = _time.GetTimestamp();
        try
        {
            await next(context);
        }
        finally
        {
            Write(context, _time.GetElapsedTime(start));
        }
    }

    private void Write(JobContext context, TimeSpan latency)
    {
        var status = context.Status;
        if ((status == JobStatus.Success && _options.SkipSuccess) || (status == JobStatus.NoResponse && _options.SkipNoResponse))
        {
            return;
        }

        var ms = latency.TotalMilliseconds;
        if (status.IsServerError())
        {
            LogFailed(_logger, context.Error, context.JobName ?? "-", context.Handler, (int)status, ms, context.Worker, context.ExecutionId, context.Attempt);
        }
        else if (status.IsFailure())
        {
            LogRejected(_logger, context.JobName ?? "-", context.Handler, (int)status, ms, context.Worker, context.ExecutionId, context.Attempt, context.Error?.Message ?? "no error given");
        }
        else
        {
            LogFinished(_logger, _options.SuccessLevel, context.JobName ?? "-", context.Handler, (int)status, ms, context.Worker, context.ExecutionId, context.Attempt);
        }
    }

    [LoggerMessage(EventId = 1100,
        Message = "Job {Job} {Handler} {Status} in {LatencyMs:0.###} ms on {Worker} (execution {ExecutionId}, attempt {Attempt})")]
    private static partial void LogFinished(ILogger logger, LogLevel level, string job, string handler, int status, double latencyMs, string worker, string executionId, int attempt);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Warning,
        Message = "Job {Job} {Handler} {Status} in {LatencyMs:0.###} ms on {Worker} (execution {ExecutionId}, attempt {Attempt}): {Reason}")]
    private static partial void LogRejected(ILogger logger, string job, string handler, int status, double latencyMs, string worker, string executionId, int attempt, string reason);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Error,
        Message = "Job {Job} {Handler} {Status} in {LatencyMs:0.###} ms on {Worker} (execution {ExecutionId}, attempt {Attempt})")]
    private static partial void LogFailed(ILogger logger, Exception? error, string job, string handler, int status, double latencyMs, string worker, string executionId, int attempt);
}

using Microsoft.Extensions.Logging;

namespace Work.Grains;

internal sealed partial class JobExecutorGrain
{
    [LoggerMessage(EventId = 2100, Level = LogLevel.Warning, Message = "Could not report {Count} executions to job {Job}; trying again")]
    private static partial void LogReportRetry(ILogger logger, Exception error, int count, string job);

    [LoggerMessage(EventId = 2101, Level = LogLevel.Error, Message = "Gave up reporting {Count} executions to job {Job}; their leases will run out and they will run again")]
    private static partial void LogReportFailed(ILogger logger, Exception error, int count, string job);

    [LoggerMessage(EventId = 2103, Level = LogLevel.Error, Message = "Execution {ExecutionId} of job {Job} could not be run or reported")]
    private static partial void LogRunFailed(ILogger logger, Exception error, string executionId, string job);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Warning, Message = "Could not renew the leases of job {Job}")]
    private static partial void LogRenewFailed(ILogger logger, Exception error, string job);

    [LoggerMessage(EventId = 2105, Level = LogLevel.Warning, Message = "Could not give {Count} queued executions back to job {Job}; trying again")]
    private static partial void LogReturnRetry(ILogger logger, Exception error, int count, string job);

    [LoggerMessage(EventId = 2106, Level = LogLevel.Error, Message = "Gave up giving {Count} queued executions back to job {Job}; their leases will run out and they will run again")]
    private static partial void LogReturnFailed(ILogger logger, Exception error, int count, string job);

    [LoggerMessage(EventId = 2104, Level = LogLevel.Error, Message = "Job {Job} never confirmed the report of execution {ExecutionId} attempt {Attempt}; its lease will run out and it will run again")]
    private static partial void LogNeverConfirmed(ILogger logger, string job, string executionId, int attempt);
}

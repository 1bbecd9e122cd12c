using Microsoft.Extensions.Logging;

namespace Work.Workers;

public sealed partial class CommonWorker
{
    [LoggerMessage(EventId = 1000, Level = LogLevel.Debug, Message = "Worker {Worker} started with {MaxConcurrency} consumers")]
    private static partial void LogStarted(ILogger logger, string worker, int maxConcurrency);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Worker {Worker} stopped; {CancelledOneShots} pending one-shot jobs were cancelled")]
    private static partial void LogStopped(ILogger logger, string worker, int cancelledOneShots);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "Worker {Worker} stopped before its executions finished: the shutdown timeout of {Timeout} passed")]
    private static partial void LogShutdownTimedOut(ILogger logger, string worker, TimeSpan timeout);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Warning, Message = "Worker {Worker} dropped execution {ExecutionId} of {Handler}: it was still queued when the shutdown timeout passed")]
    private static partial void LogDropped(ILogger logger, string worker, string executionId, string handler);
}

using Microsoft.Extensions.Logging;

namespace Work.Silo.Handlers;

internal static partial class SampleHandlersLog
{
    [LoggerMessage(EventId = 1300, Level = LogLevel.Information, Message = "Echo got {Count} arguments in execution {ExecutionId}")]
    public static partial void LogEcho(this ILogger logger, int count, string executionId);
}

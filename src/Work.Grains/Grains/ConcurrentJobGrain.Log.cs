using Microsoft.Extensions.Logging;

namespace Work.Grains;

internal sealed partial class ConcurrentJobGrain
{
    [LoggerMessage(EventId = 2000, Level = LogLevel.Information, Message = "Job {Job} activated with {Pending} pending and {InFlight} in-flight executions (recurring: {Recurring})")]
    private static partial void LogActivated(ILogger logger, string job, int pending, int inFlight, bool recurring);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Debug, Message = "Job {Job} ignored a report of execution {ExecutionId} attempt {Attempt} from {Worker}: it is not in flight under that lease")]
    private static partial void LogIgnoredReport(ILogger logger, string job, string executionId, int attempt, string worker);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "Job {Job} could not hand {Count} executions to {Executor}; they will be dispatched again")]
    private static partial void LogDispatchFailed(ILogger logger, Exception error, string job, int count, string executor);

    [LoggerMessage(EventId = 2024, Level = LogLevel.Information, Message = "Job {Job} could not hand {Count} executions to {Executor}, which is stopping; they go to silos that are not")]
    private static partial void LogExecutorStopping(ILogger logger, string job, int count, string executor);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Warning, Message = "Job {Job} could not signal executions {ExecutionIds} on {Executor} to cancel")]
    private static partial void LogCancelFailed(ILogger logger, Exception error, string job, string executionIds, string executor);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Warning, Message = "Job {Job} could not dispatch what was due; it will try again")]
    private static partial void LogPumpFailed(ILogger logger, Exception error, string job);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Error, Message = "Job {Job} could not write its state")]
    private static partial void LogWriteFailed(ILogger logger, Exception error, string job);

    [LoggerMessage(EventId = 2006, Level = LogLevel.Warning, Message = "Job {Job} could not drop the reminder an earlier version registered; it tries again when it next loads")]
    private static partial void LogReminderFailed(ILogger logger, Exception error, string job);

    [LoggerMessage(EventId = 2008, Level = LogLevel.Error, Message = "Job {Job} could not read its stored state; every call tries again and says why")]
    private static partial void LogLoadFailed(ILogger logger, Exception error, string job);

    [LoggerMessage(EventId = 2009, Level = LogLevel.Warning, Message = "{Problem}")]
    private static partial void LogStoredProblem(ILogger logger, string problem);

    [LoggerMessage(EventId = 2007, Level = LogLevel.Warning, Message = "Job {Job} could not write its state while deactivating ({Reason}); dispatches and completions since its last write may be redone")]
    private static partial void LogDeactivationWriteFailed(ILogger logger, Exception error, string job, string reason);

    [LoggerMessage(EventId = 2010, Level = LogLevel.Debug, Message = "Job {Job} could not confirm {Count} reported executions to {Executor}, or write them; the executor reports them again")]
    private static partial void LogConfirmFailed(ILogger logger, Exception error, string job, int count, string executor);

    [LoggerMessage(EventId = 2011, Level = LogLevel.Debug, Message = "Job {Job} is idle until {Next:O} and leaves memory until shortly before")]
    private static partial void LogSleeping(ILogger logger, string job, DateTimeOffset next);

    [LoggerMessage(EventId = 2022, Level = LogLevel.Debug, Message = "Job {Job} left memory with work to come ({Reason}); it is woken again shortly")]
    private static partial void LogWakingAgain(ILogger logger, string job, string reason);

    [LoggerMessage(EventId = 2012, Level = LogLevel.Warning, Message = "Job {Job} could not recall its queued executions from {Executor}; they keep their slots until they end")]
    private static partial void LogRecallFailed(ILogger logger, Exception error, string job, string executor);

    [LoggerMessage(EventId = 2013, Level = LogLevel.Warning, Message = "Job {Job} kept the lease of execution {ExecutionId} attempt {Attempt}: its renewals did not arrive, but {Executor} still holds it")]
    private static partial void LogLeaseKept(ILogger logger, string job, string executionId, int attempt, string executor);

    [LoggerMessage(EventId = 2014, Level = LogLevel.Warning, Message = "Job {Job} could not ask {Executor} about {Count} executions whose leases ran out; they count as lost")]
    private static partial void LogAskFailed(ILogger logger, Exception error, string job, int count, string executor);

    [LoggerMessage(EventId = 2015, Level = LogLevel.Warning, Message = "Job {Job} could not learn which queues {Silo} serves; it asks again at its next dispatch")]
    private static partial void LogQueuesUnknown(ILogger logger, Exception error, string job, string silo);

    [LoggerMessage(EventId = 2016, Level = LogLevel.Warning, Message = "Job {Job} could not claim items of source {Source}; it tries again after the poll interval")]
    private static partial void LogClaimFailed(ILogger logger, Exception error, string job, string source);

    [LoggerMessage(EventId = 2017, Level = LogLevel.Debug, Message = "Job {Job} claimed {Count} items of source {Source}")]
    private static partial void LogItemsClaimed(ILogger logger, string job, int count, string source);

    [LoggerMessage(EventId = 2018, Level = LogLevel.Warning, Message = "Job {Job} could not settle or purge items of source {Source}; it tries again at its next tick")]
    private static partial void LogSettleFailed(ILogger logger, Exception error, string job, string source);

    [LoggerMessage(EventId = 2019, Level = LogLevel.Warning, Message = "Job {Job} could not keep its held items invisible; it tries again at its next tick")]
    private static partial void LogExtendFailed(ILogger logger, Exception error, string job);

    [LoggerMessage(EventId = 2023, Level = LogLevel.Debug, Message = "Job {Job} asks again later which queues {Silo} serves: that silo has just joined")]
    private static partial void LogQueuesNotYet(ILogger logger, Exception error, string job, string silo);
}

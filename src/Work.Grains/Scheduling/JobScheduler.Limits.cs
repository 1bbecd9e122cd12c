using System.Security.Cryptography;

namespace Work.Scheduling;

// What the job refuses: definitions against this silo's limits, and a stored state today's limits refuse.
internal sealed partial class JobScheduler
{
    // Every problem a definition has under the limits of this silo.
    private List<string> Problems(JobDefinition definition)
    {
        var failures = definition.Validate().ToList();
        if (definition.Every is { } every && every.Interval > TimeSpan.Zero && every.Interval < _options.MinInterval)
        {
            failures.Add(JobLimits.IntervalProblem(every.Interval, _options.MinInterval, "Every.Interval")!);
        }

        if (definition.Every?.FirstRun is { } first && first != default && JobLimits.DueTimeProblem(first, _time.GetUtcNow()) is { } firstRun)
        {
            failures.Add($"Every.FirstRun: {firstRun}");
        }

        if (definition.Every is { Cron: { } expression } cron && CronSchedule.TryParse(expression, cron.TimeZone, out _) is { } schedule
            && schedule.Next(_time.GetUtcNow()) is null)
        {
            failures.Add($"Every.Cron '{expression}' names no time from now on.");
        }

        return failures;
    }

    // A definition stored under earlier limits, or by a silo with a shorter MinInterval, may break today's.
    private string? StoredProblem()
    {
        if (State.Definition is not { } definition)
        {
            return null;
        }

        var failures = Problems(definition);
        if (State.Recurring is { Schedule.Cron: null } recurring && JobLimits.IntervalProblem(recurring.Schedule.Interval, _options.MinInterval, "The recurring interval") is { } interval)
        {
            failures.Add(interval);
        }

        return failures.Count == 0
            ? null
            : $"Job '{Name}' cannot run as stored: {string.Join(" ", failures.Distinct())} Define it again, stop it or delete it.";
    }

    private static void CheckExecutionId(string executionId)
    {
        if (JobLimits.ExecutionIdProblem(executionId) is { } problem)
        {
            throw new ArgumentException(problem, nameof(executionId));
        }
    }

    private void EnsureUsable()
    {
        if (Problem is { } problem)
        {
            throw new InvalidOperationException(problem);
        }
    }

    private static Func<long> NewLeaseKeySource() => static () =>
    {
        // The key of secrets only executors see, from the system's cryptographic source.
        var key = BitConverter.ToInt64(RandomNumberGenerator.GetBytes(8));
        return key == 0 ? 1 : key;
    };
}

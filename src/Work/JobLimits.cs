using System.Globalization;

namespace Work;

/// <summary>
/// The ranges every value sent to a cluster job must be in. A value outside them is refused with an error that names
/// it, before anything changes. The silo adds two limits of its own configuration: the shortest recurring interval
/// (<c>Work:Cluster:MinInterval</c>) and the most pending executions per job (<c>Work:Cluster:MaxPendingPerJob</c>).
/// </summary>
public static class JobLimits
{
    /// <summary>The longest job, handler or queue name: 200 characters.</summary>
    public const int MaxNameLength = 200;

    /// <summary>The most executions a job may run at once across the cluster: 10,000.</summary>
    public const int MaxWorkers = 10_000;

    /// <summary>The most attempts a retry policy may make: 100.</summary>
    public const int MaxAttempts = 100;

    /// <summary>The longest execution id a call may name: 100 characters (the cluster's own are 26).</summary>
    public const int MaxExecutionIdLength = 100;

    /// <summary>
    /// How far ahead anything may be scheduled: due times, delays, intervals, ramps and retry waits, 100 years (36,525
    /// days). It keeps every time the scheduler computes representable.
    /// </summary>
    public static TimeSpan Horizon { get; } = TimeSpan.FromDays(36_525);

    /// <summary>The longest execution timeout: 24 days, the longest wait a cancellation timer takes.</summary>
    public static TimeSpan MaxTimeout { get; } = TimeSpan.FromDays(24);

    /// <summary>
    /// Why <paramref name="name"/> cannot name a job, handler or queue (called <paramref name="what"/> in the message),
    /// or null when it can: it must have 1 to <see cref="MaxNameLength"/> characters, not start or end with white
    /// space, and hold no control, formatting or invisible characters (NUL, line breaks, zero-width spaces, direction
    /// marks...), so it reads the same in logs, tables and storage as it was typed.
    /// </summary>
    public static string? NameProblem(string? name, string what = "A job name")
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            return $"{what} must not be empty.";
        }

        if (name.Length > MaxNameLength)
        {
            return $"{what} must have at most {MaxNameLength} characters; it has {name.Length}.";
        }

        if (char.IsWhiteSpace(name[0]) || char.IsWhiteSpace(name[^1]))
        {
            return $"{what} must not start or end with white space: '{name}'.";
        }

        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsSurrogate(c))
            {
                if (char.IsHighSurrogate(c) && i + 1 < name.Length && char.IsLowSurrogate(name[i + 1])
                    && Visible(CharUnicodeInfo.GetUnicodeCategory(name, i)))
                {
                    i++;
                    continue;
                }

                return $"{what} must not hold invisible or unpaired characters; it has U+{(int)c:X4} at position {i}.";
            }

            if (!Visible(CharUnicodeInfo.GetUnicodeCategory(c)) || (char.IsWhiteSpace(c) && c != ' '))
            {
                return $"{what} must not hold control, formatting or invisible characters; it has U+{(int)c:X4} at position {i}.";
            }
        }

        return null;
    }

    /// <summary>Why <paramref name="executionId"/> cannot name an execution, or null when it can.</summary>
    public static string? ExecutionIdProblem(string? executionId)
    {
        if (string.IsNullOrWhiteSpace(executionId))
        {
            return "An execution id must not be empty.";
        }

        return executionId.Length > MaxExecutionIdLength
            ? $"An execution id has at most {MaxExecutionIdLength} characters; this one has {executionId.Length}."
            : null;
    }

    /// <summary>Why <paramref name="delay"/> cannot be a delay before an execution, or null when it can.</summary>
    public static string? DelayProblem(TimeSpan delay)
    {
        if (delay <= TimeSpan.Zero)
        {
            return $"The delay must be positive; it is {delay}.";
        }

        return delay > Horizon ? $"The delay must be at most {Horizon.TotalDays:0} days (100 years); it is {delay}." : null;
    }

    /// <summary>Why <paramref name="time"/> cannot be the due time of an execution asked for at <paramref name="now"/>, or null when it can.</summary>
    public static string? DueTimeProblem(DateTimeOffset time, DateTimeOffset now)
    {
        if (time == default)
        {
            return "PerformAt needs a time; the default DateTimeOffset is not one.";
        }

        return time > now && time - now > Horizon
            ? $"The time must be within {Horizon.TotalDays:0} days (100 years) from now ({now:O}); it is {time:O}."
            : null;
    }

    /// <summary>Why <paramref name="interval"/> (called <paramref name="what"/>) cannot be a recurring interval, or null when it can.</summary>
    public static string? IntervalProblem(TimeSpan interval, TimeSpan minimum, string what = "The interval")
    {
        if (interval <= TimeSpan.Zero)
        {
            return $"{what} must be positive; it is {interval}.";
        }

        if (interval < minimum)
        {
            return $"{what} must be at least {minimum} (the silos' Work:Cluster:MinInterval); it is {interval}.";
        }

        return interval > Horizon ? $"{what} must be at most {Horizon.TotalDays:0} days (100 years); it is {interval}." : null;
    }

    private static bool Visible(UnicodeCategory category) => category is not (
        UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator
        or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned);
}

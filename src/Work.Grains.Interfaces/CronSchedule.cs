using Cronos;

namespace Work;

/// <summary>
/// A parsed cron schedule: the expression (five fields, or six with seconds first) and its time zone. Across
/// daylight-saving changes it follows Cronos' rule: a time that falls in the hour skipped when clocks go forward runs
/// once, at the moment the clocks jump (02:30 on a night that goes from 02:00 to 03:00 runs at 03:00); a time in the
/// hour repeated when clocks go back runs once, in its first pass, unless the expression steps through that hour (like
/// <c>*/15</c> in the minutes), which then runs in both passes, as the wall clock shows those times twice.
/// </summary>
public sealed class CronSchedule
{
    private readonly CronExpression _expression;

    private CronSchedule(CronExpression expression, TimeZoneInfo zone)
    {
        _expression = expression;
        Zone = zone;
    }

    /// <summary>The time zone.</summary>
    public TimeZoneInfo Zone { get; }

    /// <summary>The schedule, or null with <paramref name="problem"/> naming what is wrong (prefixed with <paramref name="what"/>).</summary>
    public static CronSchedule? TryParse(string? cron, string? timeZone, out string? problem, string what = "Every.Cron")
    {
        problem = null;
        if (string.IsNullOrWhiteSpace(cron))
        {
            problem = $"{what} must be a cron expression, like '0 9 * * MON-FRI' or '0 0 9 * * MON-FRI' with seconds; it is empty.";
            return null;
        }

        var fields = cron.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
        if (fields is not (5 or 6))
        {
            problem = $"{what} must have 5 fields (minute hour day month weekday) or 6 (seconds first); '{cron}' has {fields}.";
            return null;
        }

        CronExpression expression;
        try
        {
            expression = CronExpression.Parse(cron, fields == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard);
        }
        catch (CronFormatException ex)
        {
            problem = $"{what} '{cron}' is not a valid cron expression: {ex.Message}";
            return null;
        }

        TimeZoneInfo zone;
        if (timeZone is null)
        {
            zone = TimeZoneInfo.Utc;
        }
        else
        {
            try
            {
                zone = TimeZoneInfo.FindSystemTimeZoneById(timeZone);
            }
            catch (Exception ex) when (ex is TimeZoneNotFoundException or InvalidTimeZoneException or ArgumentException)
            {
                problem = $"{what}: the time zone '{timeZone}' is not known here; give an IANA id like 'Europe/Berlin' or 'UTC'.";
                return null;
            }
        }

        return new CronSchedule(expression, zone);
    }

    /// <summary>The schedule of <paramref name="every"/>, which has a valid cron expression.</summary>
    /// <exception cref="ArgumentException">It has none, or not a valid one.</exception>
    public static CronSchedule Of(EverySchedule every)
    {
        ArgumentNullException.ThrowIfNull(every);
        return TryParse(every.Cron, every.TimeZone, out var problem) ?? throw new ArgumentException(problem, nameof(every));
    }

    /// <summary>The first time after <paramref name="after"/> (or at it, with <paramref name="inclusive"/>), or null if there is none.</summary>
    public DateTimeOffset? Next(DateTimeOffset after, bool inclusive = false) => _expression.GetNextOccurrence(after, Zone, inclusive);

    /// <summary>The times from <paramref name="from"/> to <paramref name="to"/>, both included, earliest first.</summary>
    public IEnumerable<DateTimeOffset> Between(DateTimeOffset from, DateTimeOffset to) => _expression.GetOccurrences(from, to, Zone, fromInclusive: true, toInclusive: true);
}

namespace Work;

/// <summary>
/// A recurring schedule: every <see cref="Interval"/> on the fixed grid <c>start + k × interval</c>, or
/// <c>FirstRun + k × interval</c> when <see cref="FirstRun"/> is given; or, with <see cref="Cron"/>, at the times a
/// cron expression names in <see cref="TimeZone"/> (see <see cref="CronSchedule"/> for the rules across daylight-saving
/// changes).
/// </summary>
[GenerateSerializer, Immutable, Alias("work.every")]
public sealed record EverySchedule
{
    /// <summary>The interval; sub-second intervals work.</summary>
    [Id(0)]
    public TimeSpan Interval { get; init; }

    /// <summary>True: runs never overlap, and a tick that comes while the previous run is going is skipped and counted.</summary>
    [Id(1)]
    public bool Sync { get; init; }

    /// <summary>Whether the first run is at start (the default) or one interval later.</summary>
    [Id(2)]
    public bool RunImmediately { get; init; } = true;

    /// <summary>
    /// The first run's time, which anchors the grid: the first run is at <see cref="FirstRun"/>, or at the first grid
    /// point after the job starts when that time has passed. Null (the default): the grid starts when the job does.
    /// Gives many jobs of one interval due times spread over it.
    /// </summary>
    [Id(3)]
    public DateTimeOffset? FirstRun { get; init; }

    /// <summary>
    /// A cron expression (Cronos): five fields (minute hour day month weekday) or six with seconds first, e.g.
    /// <c>0 0 9 * * MON-FRI</c>; instead of <see cref="Interval"/>, which is then zero.
    /// </summary>
    [Id(4)]
    public string? Cron { get; init; }

    /// <summary>The time zone the <see cref="Cron"/> expression's times are in (an IANA id like <c>Europe/Berlin</c>); UTC when null.</summary>
    [Id(5)]
    public string? TimeZone { get; init; }

    /// <summary>A schedule that runs at the times <paramref name="cron"/> names in <paramref name="timeZone"/> (UTC when null).</summary>
    public static EverySchedule CronAt(string cron, string? timeZone = null, bool sync = false) => new() { Cron = cron, TimeZone = timeZone, Sync = sync };
}

namespace Work;

/// <summary>
/// A recurring schedule: every <see cref="Interval"/> on the fixed grid <c>start + k × interval</c>, or
/// <c>FirstRun + k × interval</c> when <see cref="FirstRun"/> is given.
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
}

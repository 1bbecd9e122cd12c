namespace Work;

/// <summary>
/// One execution to accept in <see cref="Cluster.IConcurrentJobGrain.PerformManyAsync"/>: now, or at a time, with its
/// own args or the job's, under the caller's trace context.
/// </summary>
[GenerateSerializer, Immutable, Alias("work.perform-request")]
public sealed record PerformRequest
{
    /// <summary>The most requests one <see cref="Cluster.IConcurrentJobGrain.PerformManyAsync"/> call takes.</summary>
    public const int MaxPerCall = 10_000;

    /// <summary>When it is due; null for now. A past time runs now; the default value is an error.</summary>
    [Id(0)]
    public DateTimeOffset? At { get; init; }

    /// <summary>Args for this execution, or null for the job's.</summary>
    [Id(1)]
    public JobArgs? Args { get; init; }

    /// <summary>The W3C traceparent of the caller, so the execution links to the request that scheduled it.</summary>
    [Id(2)]
    public string? TraceParent { get; init; }

    /// <summary>The W3C tracestate that goes with <see cref="TraceParent"/>.</summary>
    [Id(3)]
    public string? TraceState { get; init; }

    /// <summary>
    /// When it is due, as a delay from when the job accepts it (by the silo's clock), instead of <see cref="At"/>;
    /// null for now or <see cref="At"/>.
    /// </summary>
    [Id(4)]
    public TimeSpan? Delay { get; init; }

    /// <summary>A request to run now.</summary>
    public static PerformRequest Now(JobArgs? args = null) => new() { Args = args };

    /// <summary>A request to run at <paramref name="time"/>.</summary>
    public static PerformRequest AtTime(DateTimeOffset time, JobArgs? args = null) => new() { At = time, Args = args };

    /// <summary>A request to run <paramref name="delay"/> after the job accepts it.</summary>
    public static PerformRequest After(TimeSpan delay, JobArgs? args = null) => new() { Delay = delay, Args = args };

    /// <summary>
    /// Why the request cannot be accepted by any job at <paramref name="now"/>, or null when it can: a default time, a
    /// time beyond <see cref="JobLimits.Horizon"/>, a delay that is not positive or beyond it, both a time and a delay,
    /// or args over <see cref="JobDefinition.MaxArgsBytes"/>.
    /// </summary>
    public string? Problem(DateTimeOffset now)
    {
        if (At is { } at && JobLimits.DueTimeProblem(at, now) is { } timeProblem)
        {
            return timeProblem;
        }

        if (Delay is { } delay)
        {
            if (At is not null)
            {
                return "A perform request has either a time or a delay, not both.";
            }

            if (JobLimits.DelayProblem(delay) is { } delayProblem)
            {
                return delayProblem;
            }
        }

        return JobDefinition.ArgsSizeProblem(Args);
    }
}

namespace Work;

/// <summary>
/// Everything a named job in the cluster is: the job itself (handler, args, queue, timeout), how many executions may
/// run at once cluster-wide and how they ramp up, its recurring schedule if any, and its retry and misfire policies.
/// </summary>
[GenerateSerializer, Immutable, Alias("work.definition")]
public sealed record JobDefinition
{
    /// <summary>The largest arguments a job may carry: 1 MiB.</summary>
    public const int MaxArgsBytes = 1 << 20;

    /// <summary>The largest history a job may keep.</summary>
    public const int MaxHistoryLimit = 10_000;

    /// <summary>Creates a definition of <paramref name="job"/>.</summary>
    public JobDefinition(Job job) => Job = job;

    /// <summary>The job performed.</summary>
    [Id(0)]
    public Job Job { get; init; }

    /// <summary>The most executions at once, across the whole cluster; at least 1.</summary>
    [Id(1)]
    public int MaxWorkers { get; init; } = 1;

    /// <summary>After start, one more concurrent execution is allowed every StartInterval (zero: all at once).</summary>
    [Id(2)]
    public TimeSpan StartInterval { get; init; }

    /// <summary>The recurring schedule, or null for a job that only runs when performed.</summary>
    [Id(3)]
    public EverySchedule? Every { get; init; }

    /// <summary>The retry policy; none by default.</summary>
    [Id(4)]
    public RetryPolicy Retry { get; init; } = RetryPolicy.None;

    /// <summary>What happens to recurring due times missed while the job's silo was down.</summary>
    [Id(5)]
    public MisfirePolicy Misfire { get; init; } = MisfirePolicy.FireOnce;

    /// <summary>How many finished executions the job keeps; 100 by default.</summary>
    [Id(6)]
    public int HistoryLimit { get; init; } = 100;

    /// <summary>The item source whose every item becomes one execution, or null for a job that only runs when performed.</summary>
    [Id(7)]
    public ReceiveBinding? Receive { get; init; }

    /// <summary>Why <paramref name="args"/> are too large for a job (named <paramref name="what"/>), or null when they fit.</summary>
    public static string? ArgsSizeProblem(JobArgs? args, string what = "The args") =>
        args?.SizeInBytes is { } size && size > MaxArgsBytes ? $"{what} are {size} bytes; the limit is {MaxArgsBytes} bytes (1 MiB)." : null;

    /// <summary>
    /// Every problem with the definition, empty when it is valid. Handler registration and the shortest interval
    /// (<c>Work:Cluster:MinInterval</c>) are checked by the silo.
    /// </summary>
    public IReadOnlyList<string> Validate()
    {
        var failures = new List<string>();
        if (Job is null)
        {
            failures.Add("Job is required.");
            return failures;
        }

        try
        {
            Job.Validate();
        }
        catch (ArgumentException ex)
        {
            failures.Add(ex.Message.Split(" (Parameter", 2)[0]);
        }

        if (ArgsSizeProblem(Job.Args, "Job.Args") is { } argsProblem)
        {
            failures.Add(argsProblem);
        }

        if (MaxWorkers < 1 || MaxWorkers > JobLimits.MaxWorkers)
        {
            failures.Add($"MaxWorkers must be between 1 and {JobLimits.MaxWorkers}; it is {MaxWorkers}.");
        }

        if (StartInterval < TimeSpan.Zero || StartInterval > JobLimits.Horizon)
        {
            failures.Add($"StartInterval must be between zero and {JobLimits.Horizon.TotalDays:0} days; it is {StartInterval}.");
        }

        if (Every is { Cron: not null } cron)
        {
            if (CronSchedule.TryParse(cron.Cron, cron.TimeZone, out var cronProblem) is null)
            {
                failures.Add(cronProblem!);
            }

            if (cron.Interval != TimeSpan.Zero || cron.FirstRun is not null || !cron.RunImmediately)
            {
                failures.Add("Every.Cron gives the times itself; it cannot be combined with Every.Interval, Every.FirstRun or Every.RunImmediately = false.");
            }
        }
        else if (Every is { } every && JobLimits.IntervalProblem(every.Interval, TimeSpan.Zero, "Every.Interval") is { } intervalProblem)
        {
            failures.Add(intervalProblem);
        }

        if (Every is { Cron: null, TimeZone: not null })
        {
            failures.Add("Every.TimeZone is for Every.Cron; an interval does not depend on a time zone.");
        }

        if (Every is { FirstRun: not null, RunImmediately: false })
        {
            failures.Add("Every.FirstRun gives the first run's time; it cannot be combined with Every.RunImmediately = false.");
        }

        if (!Enum.IsDefined(Misfire))
        {
            failures.Add($"Misfire must be FireOnce or Skip; it is {(int)Misfire}.");
        }

        if (HistoryLimit < 0 || HistoryLimit > MaxHistoryLimit)
        {
            failures.Add($"HistoryLimit must be between 0 and {MaxHistoryLimit}; it is {HistoryLimit}.");
        }

        failures.AddRange(Retry?.Validate() ?? ["Retry must not be null; use RetryPolicy.None."]);
        if (Receive is { } receive)
        {
            failures.AddRange(receive.Validate());
        }

        return failures;
    }
}

using System.Globalization;

namespace Work.Silo;

/// <summary>One job under <c>Work:Jobs:{name}</c> in configuration, defined (and started) when the silo starts.</summary>
public sealed class JobConfig
{
    /// <summary>The handler name (required).</summary>
    public string? Handler { get; set; }

    /// <summary>Arguments as a flat section of names and values.</summary>
    public Dictionary<string, string?> Args { get; set; } = [];

    /// <summary>Arguments as a JSON object, instead of <see cref="Args"/>, for nested or typed values.</summary>
    public string? ArgsJson { get; set; }

    /// <summary>The queue.</summary>
    public string Queue { get; set; } = Job.DefaultQueue;

    /// <summary>The timeout of each execution.</summary>
    public TimeSpan? Timeout { get; set; }

    /// <summary>The most executions at once across the cluster.</summary>
    public int MaxWorkers { get; set; } = 1;

    /// <summary>The ramp: one more worker allowed every StartInterval.</summary>
    public TimeSpan StartInterval { get; set; }

    /// <summary>A recurring interval, if the job recurs.</summary>
    public TimeSpan? Every { get; set; }

    /// <summary>A cron expression (5 fields, or 6 with seconds first), if the job recurs on one instead of an interval.</summary>
    public string? Cron { get; set; }

    /// <summary>The time zone of <see cref="Cron"/> (an IANA id); UTC when not given.</summary>
    public string? TimeZone { get; set; }

    /// <summary>Whether recurring runs never overlap.</summary>
    public bool Sync { get; set; }

    /// <summary>Attempts in all (1 = no retries).</summary>
    public int MaxAttempts { get; set; } = 1;

    /// <summary>The misfire policy of the recurring schedule.</summary>
    public MisfirePolicy Misfire { get; set; } = MisfirePolicy.FireOnce;

    /// <summary>Whether to start the job once defined; true by default.</summary>
    public bool Start { get; set; } = true;

    /// <summary>The item source whose every item the job performs once (<c>Work:Jobs:X:Receive:Source</c>, or <c>:Stream</c>), or null.</summary>
    public ReceiveConfig? Receive { get; set; }

    /// <summary>The definition, or every problem with this configuration named by its key.</summary>
    public JobDefinition ToDefinition(string name, TimeSpan minInterval, List<string> failures)
    {
        var prefix = $"Work:Jobs:{name}";
        if (JobLimits.NameProblem(name, $"The job name '{name}' under Work:Jobs") is { } nameProblem)
        {
            failures.Add(nameProblem);
        }

        var args = JobArgs.Empty;
        if (!string.IsNullOrWhiteSpace(ArgsJson))
        {
            try
            {
                args = JobArgs.Parse(ArgsJson);
            }
            catch (FormatException ex)
            {
                failures.Add($"{prefix}:ArgsJson: {ex.Message}");
            }
        }

        foreach (var (key, value) in Args)
        {
            args = args.With(key, value);
        }

        var definition = new JobDefinition(new Job(Handler ?? "") { Args = args, Queue = Queue, Timeout = Timeout })
        {
            MaxWorkers = MaxWorkers,
            StartInterval = StartInterval,
            Every = Every is { } every ? new EverySchedule { Interval = every, Sync = Sync, Cron = Cron, TimeZone = TimeZone }
                : Cron is not null ? EverySchedule.CronAt(Cron, TimeZone, Sync)
                : TimeZone is not null ? new EverySchedule { TimeZone = TimeZone, Interval = TimeSpan.Zero }
                : null,
            Retry = MaxAttempts == 1 ? RetryPolicy.None : new RetryPolicy { MaxAttempts = MaxAttempts },
            Misfire = Misfire,
            Receive = Receive?.ToBinding(),
        };
        if (Receive?.Problem() is { } receiveProblem)
        {
            failures.Add($"{prefix}: {receiveProblem}");
        }

        failures.AddRange(definition.Validate().Select(f => string.Create(CultureInfo.InvariantCulture, $"{prefix}: {f}")));
        if (Every is { } interval && interval > TimeSpan.Zero && JobLimits.IntervalProblem(interval, minInterval, "Every.Interval") is { } tooShort)
        {
            failures.Add($"{prefix}: {tooShort}");
        }

        return definition;
    }
}

/// <summary>
/// A job's source in configuration (<c>Work:Jobs:X:Receive</c>): a table queue's name (<c>Source</c>), or the stream
/// provider whose stream of the job it reads (<c>Stream</c>, usually <c>work</c>), and the binding's defaults otherwise.
/// </summary>
public sealed class ReceiveConfig
{
    /// <summary>The table queue's name.</summary>
    public string? Source { get; set; }

    /// <summary>The stream provider whose stream of the job it reads, instead of a table queue.</summary>
    public string? Stream { get; set; }

    /// <summary>How long a claimed item stays invisible to other readers.</summary>
    public TimeSpan Visibility { get; set; } = ReceiveBinding.DefaultVisibility;

    /// <summary>How many deliveries before an unacknowledged item goes to the dead letter table.</summary>
    public int MaxDeliveries { get; set; } = ReceiveBinding.DefaultMaxDeliveries;

    /// <summary>How often an empty source is looked at again.</summary>
    public TimeSpan PollInterval { get; set; } = ReceiveBinding.DefaultPollInterval;

    /// <summary>Why the section cannot be a binding, or null.</summary>
    public string? Problem() => (Source, Stream) switch
    {
        (not null, not null) => "Receive takes a Source (a table queue) or a Stream (a stream provider), not both.",
        (null, null) => "Receive needs a Source (a table queue) or a Stream (a stream provider).",
        _ => null,
    };

    /// <summary>The binding.</summary>
    public ReceiveBinding ToBinding() => Stream is { } provider
        ? ReceiveBinding.FromStream(provider)
        : new(Source ?? "") { Visibility = Visibility, MaxDeliveries = MaxDeliveries, PollInterval = PollInterval };
}

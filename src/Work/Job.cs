namespace Work;

/// <summary>
/// A unit of work, like an HTTP request: which handler runs it, with which arguments, on which queue and with what
/// timeout. A job is a description; each time it runs is an execution with its own <c>JobContext</c>.
/// </summary>
[GenerateSerializer, Immutable, Alias("work.job")]
public sealed record Job
{
    /// <summary>The queue used when none is given.</summary>
    public const string DefaultQueue = "default";

    /// <summary>Creates a job for the handler registered as <paramref name="handler"/>.</summary>
    public Job(string handler) => Handler = handler;

    /// <summary>The name of the registered handler that performs the job.</summary>
    [Id(0)]
    public string Handler { get; init; }

    /// <summary>The arguments passed to the handler.</summary>
    [Id(1)]
    public JobArgs Args { get; init; } = JobArgs.Empty;

    /// <summary>The queue the job belongs to.</summary>
    [Id(2)]
    public string Queue { get; init; } = DefaultQueue;

    /// <summary>How long one execution may run; <see langword="null"/> for no limit.</summary>
    [Id(3)]
    public TimeSpan? Timeout { get; init; }

    /// <summary>
    /// The W3C <c>traceparent</c> of the operation that scheduled the job, so its executions link to it, also after a
    /// restart. Set by the scheduling side; <see langword="null"/> when nothing was being traced.
    /// </summary>
    [Id(4)]
    public string? TraceParent { get; init; }

    /// <summary>The W3C <c>tracestate</c> that goes with <see cref="TraceParent"/>.</summary>
    [Id(5)]
    public string? TraceState { get; init; }

    /// <summary>Checks the parts of the job that do not depend on where it runs.</summary>
    /// <exception cref="ArgumentException">
    /// The handler or queue name is empty or not a valid name (see <see cref="JobLimits.NameProblem"/>), or the
    /// timeout is not positive or over <see cref="JobLimits.MaxTimeout"/>.
    /// </exception>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Handler))
        {
            throw new ArgumentException("The job's Handler must name a registered handler; it is empty.", nameof(Handler));
        }

        if (JobLimits.NameProblem(Handler, "The job's Handler") is { } handlerProblem)
        {
            throw new ArgumentException(handlerProblem, nameof(Handler));
        }

        if (JobLimits.NameProblem(Queue, "The job's Queue") is { } queueProblem)
        {
            throw new ArgumentException(queueProblem, nameof(Queue));
        }

        if (Timeout is { } timeout && (timeout <= TimeSpan.Zero || timeout > JobLimits.MaxTimeout))
        {
            throw new ArgumentException(
                $"The job's Timeout must be positive and at most {JobLimits.MaxTimeout.TotalDays:0} days, or null (no limit); it is {timeout}.", nameof(Timeout));
        }

        if (Args is null)
        {
            throw new ArgumentException("The job's Args must not be null; use JobArgs.Empty.", nameof(Args));
        }
    }
}

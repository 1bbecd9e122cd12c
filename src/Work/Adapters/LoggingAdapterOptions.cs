namespace Work.Adapters;

/// <summary>Options of the logging adapter.</summary>
public sealed class LoggingAdapterOptions
{
    /// <summary>Leaves out the summary line of successful executions (for chatty polling jobs).</summary>
    public bool SkipSuccess { get; set; }

    /// <summary>Leaves out the summary line of executions that ended as <see cref="JobStatus.NoResponse"/>.</summary>
    public bool SkipNoResponse { get; set; }
}

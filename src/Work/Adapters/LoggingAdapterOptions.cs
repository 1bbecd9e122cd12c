namespace Work.Adapters;

/// <summary>Options of the logging adapter.</summary>
public sealed class LoggingAdapterOptions
{
    /// <summary>Leaves out the summary line of successful executions (for chatty polling jobs).</summary>
    public bool SkipSuccess { get; set; }

    /// <summary>Leaves out the summary line of executions that ended as <see cref="JobStatus.NoResponse"/>.</summary>
    public bool SkipNoResponse { get; set; }

    /// <summary>
    /// The level of the summary line of executions that succeeded or ended with no response (444);
    /// <see cref="Microsoft.Extensions.Logging.LogLevel.Information"/> by default. Failures keep Warning and Error.
    /// </summary>
    public Microsoft.Extensions.Logging.LogLevel SuccessLevel { get; set; } = Microsoft.Extensions.Logging.LogLevel.Information;
}

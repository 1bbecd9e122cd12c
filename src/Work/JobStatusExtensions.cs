namespace Work;

/// <summary>Classifications of <see cref="JobStatus"/> that adapters and retry policies share.</summary>
public static class JobStatusExtensions
{
    /// <summary>True for 400 and above: the execution did not succeed.</summary>
    public static bool IsError(this JobStatus status) => (int)status >= 400;

    /// <summary>
    /// True for an error that is a failure: 400 and above except <see cref="JobStatus.NoResponse"/>, which a job
    /// returns on purpose when it had nothing to do. Logs, metrics and traces report failures.
    /// </summary>
    public static bool IsFailure(this JobStatus status) => status.IsError() && status != JobStatus.NoResponse;

    /// <summary>
    /// True for the statuses that health checks count as failures: 408, 500 and 503. A 4xx other than 408 is the
    /// caller's fault and says nothing about the health of the service.
    /// </summary>
    public static bool IsServerError(this JobStatus status) =>
        status is JobStatus.Timeout or JobStatus.InternalError or JobStatus.Unavailable;

    /// <summary>The numeric code, as a string without allocation for the known codes (used as a metric and span tag).</summary>
    public static string ToCode(this JobStatus status) => status switch
    {
        JobStatus.Unknown => "-1",
        JobStatus.Success => "200",
        JobStatus.BadRequest => "400",
        JobStatus.Unauthorized => "401",
        JobStatus.Forbidden => "403",
        JobStatus.Timeout => "408",
        JobStatus.NoResponse => "444",
        JobStatus.InternalError => "500",
        JobStatus.Unavailable => "503",
        _ => ((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}

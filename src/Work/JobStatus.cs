namespace Work;

/// <summary>
/// The outcome of one execution, with go-work's HTTP-like codes. A handler sets it on the
/// <c>JobContext</c>; adapters read it to log, measure and trace.
/// </summary>
public enum JobStatus
{
    /// <summary>No status was set. A handler that returns normally with this status ends as <see cref="Success"/>.</summary>
    Unknown = -1,

    /// <summary>The job did its work.</summary>
    Success = 200,

    /// <summary>The job could not run as asked: bad arguments, or a handler name that is not registered. Never retried.</summary>
    BadRequest = 400,

    /// <summary>The job was not authenticated for what it had to do.</summary>
    Unauthorized = 401,

    /// <summary>The job was not allowed to do what it had to do.</summary>
    Forbidden = 403,

    /// <summary>The execution reached its timeout.</summary>
    Timeout = 408,

    /// <summary>The job intentionally did nothing, for example a poll that found no work.</summary>
    NoResponse = 444,

    /// <summary>The handler failed, for example by throwing.</summary>
    InternalError = 500,

    /// <summary>Something the job depends on was unavailable.</summary>
    Unavailable = 503,
}

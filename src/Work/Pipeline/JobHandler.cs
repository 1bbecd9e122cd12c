namespace Work.Pipeline;

/// <summary>
/// Does the work of one execution and sets <see cref="JobContext.Status"/> (go-work's <c>Handler</c>). A handler that
/// returns normally without a status ends as <see cref="JobStatus.Success"/>; one that throws ends as
/// <see cref="JobStatus.InternalError"/> unless it already set an error status.
/// </summary>
public delegate Task JobHandler(JobContext context);

namespace Work.Pipeline;

/// <summary>
/// The class form of <see cref="JobAdapter"/>: one instance serves every execution, so keep per-execution data in
/// the <see cref="JobContext"/>, not in fields.
/// </summary>
public interface IJobAdapter
{
    /// <summary>Runs around <paramref name="next"/> for one execution.</summary>
    Task InvokeAsync(JobContext context, JobHandler next);
}

namespace Work.Pipeline;

/// <summary>
/// The class form of <see cref="JobHandler"/>. Registered by name and resolved from the execution's service scope, so
/// it may depend on scoped services.
/// </summary>
public interface IJobHandler
{
    /// <summary>Does the work of one execution; see <see cref="JobHandler"/>.</summary>
    Task HandleAsync(JobContext context);
}

namespace Work.Pipeline;

/// <summary>
/// Middleware around a handler (go-work's <c>Adapter func(Handler) Handler</c>): takes the next handler in the chain
/// and returns a handler that does something before and after calling it.
/// </summary>
public delegate JobHandler JobAdapter(JobHandler next);

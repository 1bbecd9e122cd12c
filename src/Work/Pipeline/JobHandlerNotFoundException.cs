namespace Work.Pipeline;

/// <summary>A job named a handler that is not registered. Its execution ends as <see cref="JobStatus.BadRequest"/>.</summary>
public sealed class JobHandlerNotFoundException : Exception
{
    /// <summary>Creates the error for <paramref name="handler"/>.</summary>
    public JobHandlerNotFoundException(string handler, IEnumerable<string> registered)
        : base(Describe(handler, registered)) => Handler = handler;

    /// <summary>The name that was not found.</summary>
    public string Handler { get; } = "";

    private static string Describe(string handler, IEnumerable<string> registered)
    {
        var names = registered.Order(StringComparer.Ordinal).ToList();
        return names.Count == 0
            ? $"No handler is registered as '{handler}'; no handlers are registered."
            : $"No handler is registered as '{handler}'. Registered: {string.Join(", ", names)}.";
    }
}

namespace Work.Pipeline;

/// <summary>The handlers and adapters registered through <c>IWorkBuilder</c>, one instance per service collection.</summary>
internal sealed class WorkRegistrations
{
    private readonly HashSet<string> _builtIns = new(StringComparer.Ordinal);

    public JobHandlerRegistry Handlers { get; } = new();

    /// <summary>Adapter factories in the order added (first = outermost).</summary>
    public List<Func<IServiceProvider, JobAdapter>> Adapters { get; } = [];

    /// <summary>Adds a built-in adapter once, however often its Use method is called.</summary>
    public bool TryAddBuiltIn(string key, Func<IServiceProvider, JobAdapter> factory)
    {
        if (!_builtIns.Add(key))
        {
            return false;
        }

        Adapters.Add(factory);
        return true;
    }
}

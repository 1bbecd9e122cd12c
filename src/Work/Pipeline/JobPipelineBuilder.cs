namespace Work.Pipeline;

/// <summary>
/// Composes adapters around a terminal handler in the ASP.NET Core style. The first adapter added is the outermost:
/// it sees the execution first and its final status last. <see cref="Build"/> composes once; the result is reused for
/// every execution.
/// </summary>
public sealed class JobPipelineBuilder
{
    private readonly List<JobAdapter> _adapters = [];

    /// <summary>The number of adapters added so far.</summary>
    public int Count => _adapters.Count;

    /// <summary>Adds an adapter inside the ones added before it.</summary>
    public JobPipelineBuilder Use(JobAdapter adapter)
    {
        ArgumentNullException.ThrowIfNull(adapter);
        _adapters.Add(adapter);
        return this;
    }

    /// <summary>Adds a class-form adapter inside the ones added before it.</summary>
    public JobPipelineBuilder Use(IJobAdapter adapter)
    {
        ArgumentNullException.ThrowIfNull(adapter);
        _adapters.Add(next => context => adapter.InvokeAsync(context, next));
        return this;
    }

    /// <summary>Composes the adapters, last to first, over <paramref name="terminal"/>.</summary>
    public JobHandler Build(JobHandler terminal)
    {
        ArgumentNullException.ThrowIfNull(terminal);
        var handler = terminal;
        for (var i = _adapters.Count - 1; i >= 0; i--)
        {
            handler = _adapters[i](handler) ?? throw new InvalidOperationException($"Adapter {i} returned a null handler.");
        }

        return handler;
    }
}

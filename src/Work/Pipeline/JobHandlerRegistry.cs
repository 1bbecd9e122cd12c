using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;

namespace Work.Pipeline;

/// <summary>Handlers by name. Names are case-sensitive; each may be registered once.</summary>
public sealed class JobHandlerRegistry
{
    private readonly ConcurrentDictionary<string, JobHandler> _handlers = new(StringComparer.Ordinal);

    /// <summary>The registered names.</summary>
    public ICollection<string> Names => _handlers.Keys;

    /// <summary>Registers <paramref name="handler"/> as <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">The name is empty or already registered.</exception>
    /// <exception cref="ArgumentNullException">The handler is null.</exception>
    public void Register(string name, JobHandler handler)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            throw new ArgumentException("A handler name must not be empty.", nameof(name));
        }

        ArgumentNullException.ThrowIfNull(handler);
        if (!_handlers.TryAdd(name, handler))
        {
            throw new ArgumentException($"A handler named '{name}' is already registered.", nameof(name));
        }
    }

    /// <summary>Registers a class-form handler, created from the execution's service scope for every execution.</summary>
    public void Register<THandler>(string name)
        where THandler : class, IJobHandler
    {
        var factory = ActivatorUtilities.CreateFactory<THandler>([]);
        Register(name, context =>
        {
            var handler = context.Services.GetService<THandler>() ?? factory(context.Services, null);
            return handler.HandleAsync(context);
        });
    }

    /// <summary>Finds the handler registered as <paramref name="name"/>.</summary>
    public bool TryGet(string name, out JobHandler handler) => _handlers.TryGetValue(name, out handler!);

    /// <summary>True when a handler is registered as <paramref name="name"/>.</summary>
    public bool Contains(string name) => _handlers.ContainsKey(name);

    /// <summary>A copy that can be extended without changing this registry.</summary>
    public JobHandlerRegistry Clone()
    {
        var copy = new JobHandlerRegistry();
        foreach (var (name, handler) in _handlers)
        {
            copy._handlers[name] = handler;
        }

        return copy;
    }
}

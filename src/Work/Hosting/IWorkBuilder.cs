using Microsoft.Extensions.DependencyInjection;
using Work.Adapters;
using Work.Pipeline;

namespace Work.Hosting;

/// <summary>
/// Registers handlers and adapters. Adapters run in the order they are added, the first outermost; the built-in
/// recovery and timeout always run innermost, right around the handler.
/// </summary>
public interface IWorkBuilder
{
    /// <summary>The service collection being configured.</summary>
    IServiceCollection Services { get; }

    /// <summary>Registers a handler delegate as <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">The name is empty or already registered.</exception>
    /// <exception cref="ArgumentNullException">The handler is null.</exception>
    IWorkBuilder AddHandler(string name, JobHandler handler);

    /// <summary>Registers a class-form handler as <paramref name="name"/>, created from each execution's service scope.</summary>
    IWorkBuilder AddHandler<THandler>(string name)
        where THandler : class, IJobHandler;

    /// <summary>Adds an adapter delegate.</summary>
    IWorkBuilder Use(JobAdapter adapter);

    /// <summary>Adds a class-form adapter, resolved once from the root services (or created with them).</summary>
    IWorkBuilder Use<TAdapter>()
        where TAdapter : class, IJobAdapter;

    /// <summary>Adds the logging adapter (once).</summary>
    IWorkBuilder UseLogging(Action<LoggingAdapterOptions>? configure = null);

    /// <summary>Adds the metrics adapter (once).</summary>
    IWorkBuilder UseMetrics();

    /// <summary>Adds the tracing adapter (once).</summary>
    IWorkBuilder UseTracing();

    /// <summary>Adds the health adapter (once) and registers its <see cref="JobHealthCheck"/>.</summary>
    IWorkBuilder UseHealth(Action<HealthAdapterOptions>? configure = null);
}

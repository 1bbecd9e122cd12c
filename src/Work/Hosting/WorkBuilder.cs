using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Work.Adapters;
using Work.Diagnostics;
using Work.Pipeline;

namespace Work.Hosting;

internal sealed class WorkBuilder(IServiceCollection services, WorkRegistrations registrations) : IWorkBuilder
{
    public IServiceCollection Services { get; } = services;

    public IWorkBuilder AddHandler(string name, JobHandler handler)
    {
        registrations.Handlers.Register(name, handler);
        return this;
    }

    public IWorkBuilder AddHandler<THandler>(string name)
        where THandler : class, IJobHandler
    {
        registrations.Handlers.Register<THandler>(name);
        return this;
    }

    public IWorkBuilder Use(JobAdapter adapter)
    {
        ArgumentNullException.ThrowIfNull(adapter);
        registrations.Adapters.Add(_ => adapter);
        return this;
    }

    public IWorkBuilder Use<TAdapter>()
        where TAdapter : class, IJobAdapter
    {
        registrations.Adapters.Add(sp =>
        {
            var adapter = sp.GetService<TAdapter>() ?? ActivatorUtilities.CreateInstance<TAdapter>(sp);
            return next => context => adapter.InvokeAsync(context, next);
        });
        return this;
    }

    public IWorkBuilder UseLogging(Action<LoggingAdapterOptions>? configure = null)
    {
        var options = new LoggingAdapterOptions();
        configure?.Invoke(options);
        AddBuiltIn("logging", sp => new LoggingAdapter(sp.GetRequiredService<ILoggerFactory>(), sp.GetRequiredService<TimeProvider>(), options));
        return this;
    }

    public IWorkBuilder UseMetrics()
    {
        AddBuiltIn("metrics", sp => new MetricsAdapter(sp.GetRequiredService<WorkInstruments>(), sp.GetRequiredService<TimeProvider>()));
        return this;
    }

    public IWorkBuilder UseTracing()
    {
        AddBuiltIn("tracing", _ => TracingAdapter.Instance);
        return this;
    }

    public IWorkBuilder UseHealth(Action<HealthAdapterOptions>? configure = null)
    {
        var options = new HealthAdapterOptions();
        configure?.Invoke(options);
        var failures = options.Validate();
        if (failures.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", failures), nameof(configure));
        }

        if (AddBuiltIn("health", sp => new HealthAdapter(sp.GetRequiredService<JobHealthMonitor>())))
        {
            Services.AddSingleton(sp => new JobHealthMonitor(options, sp.GetRequiredService<TimeProvider>()));
            Services.AddHealthChecks().AddCheck<JobHealthCheck>(options.HealthCheckName, tags: ["work"]);
        }

        return this;
    }

    private bool AddBuiltIn(string key, Func<IServiceProvider, IJobAdapter> create) =>
        registrations.TryAddBuiltIn(key, sp =>
        {
            var adapter = create(sp);
            return next => context => adapter.InvokeAsync(context, next);
        });
}

using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Work.Diagnostics;
using Work.Pipeline;
using Work.Workers;

namespace Work.Hosting;

/// <summary>Registers Work.Orleans' in-process services.</summary>
public static class WorkServiceCollectionExtensions
{
    /// <summary>
    /// Adds the worker factory, the system clock (unless a <see cref="TimeProvider"/> is registered), the instruments
    /// and <see cref="WorkerOptions"/> (validated at start), then lets <paramref name="configure"/> register handlers
    /// and adapters. Safe to call more than once: later calls add to the same registrations.
    /// </summary>
    public static IServiceCollection AddWork(this IServiceCollection services, Action<IWorkBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var registrations = services
            .Where(d => d.ServiceType == typeof(WorkRegistrations) && d.ImplementationInstance is not null)
            .Select(d => (WorkRegistrations)d.ImplementationInstance!)
            .FirstOrDefault();
        if (registrations is null)
        {
            registrations = new WorkRegistrations();
            services.AddSingleton(registrations);
            services.AddSingleton(sp => sp.GetRequiredService<WorkRegistrations>().Handlers);
            services.AddLogging();
            services.AddMetrics();
            services.TryAddSingleton(TimeProvider.System);
            services.TryAddSingleton<WorkInstruments>();
            services.TryAddSingleton<IWorkerFactory, CommonWorkerFactory>();
            services.AddOptions<WorkerOptions>()
                .Configure<IServiceProvider>((options, sp) =>
                    sp.GetService<IConfiguration>()?.GetSection(WorkerOptions.SectionName).Bind(options))
                .ValidateOnStart();
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<WorkerOptions>>(new ListedFailuresValidator<WorkerOptions>(o => o.Validate())));
        }

        configure?.Invoke(new WorkBuilder(services, registrations));
        return services;
    }
}

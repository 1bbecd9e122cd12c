using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Work.Grains;
using Work.Scheduling;
using Work.Placement;

namespace Work.Hosting;

/// <summary>Adds Work.Orleans to a silo.</summary>
public static class WorkSiloBuilderExtensions
{
    /// <summary>
    /// Adds the cluster scheduler: job, executor and catalog grains, the silo's pipeline over the handlers and
    /// adapters registered in <paramref name="configure"/>, the executor placement, the grain call filter, and
    /// <see cref="WorkClusterOptions"/> validated at start. The host chooses the grain storage named
    /// <see cref="WorkClusterOptions.StorageName"/> and the reminder service. Safe to call more than once.
    /// </summary>
    public static ISiloBuilder AddWork(this ISiloBuilder builder, Action<IWorkBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddWork(configure);
        if (services.Any(d => d.ServiceType == typeof(ExecutionEngine)))
        {
            return builder;
        }

        services.AddSingleton<ExecutionEngine>();
        services.AddSingleton<PreciseWakeUps>();
        services.AddSingleton<SleepingJobs>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(static services => services.GetRequiredService<SleepingJobs>());
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, JobWakeUp>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, PredecessorEviction>();
        services.AddSingleton<ExecutorDrain>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(static services => services.GetRequiredService<ExecutorDrain>());
        services.AddPlacementDirector<SiloPinnedPlacementStrategy, SiloPinnedPlacementDirector>();
        builder.AddIncomingGrainCallFilter<WorkGrainCallFilter>();
        services.AddHealthChecks()
            .AddCheck<MembershipReadiness>("work.membership", tags: ["ready"])
            .AddCheck<StorageReadiness>("work.storage", tags: ["ready"]);
        services.AddOptions<WorkClusterOptions>()
            .Configure<IServiceProvider>((options, sp) =>
                sp.GetService<IConfiguration>()?.GetSection(WorkClusterOptions.SectionName).Bind(options))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<WorkClusterOptions>>(new ListedFailuresValidator<WorkClusterOptions>(o => o.Validate())));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<WorkClusterOptions>, DrainWithinShutdown>());
        return builder;
    }
}

using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.Serialization;
using Orleans.Storage;
using Orleans.TestingHost;
using Work.Grains;
using Work.Hosting;
using Work.Silo.Handlers;

namespace Work.Cluster.Tests;

/// <summary>
/// A 3-silo in-process cluster whose grain state and reminders live outside any one silo, with fast failure
/// detection, so silos can be stopped and killed under running jobs. Each test that stops silos starts its own.
/// </summary>
public sealed class FailoverCluster : IAsyncDisposable
{
    private static readonly ConcurrentDictionary<string, (ConcurrentDictionary<string, (string, byte[])> Grains, SharedReminderTable Reminders)> s_stores = new();

    private FailoverCluster(TestCluster cluster) => Cluster = cluster;

    public TestCluster Cluster { get; }

    public IGrainFactory Grains => Cluster.Client;

    /// <summary>
    /// Starts the cluster. With <paramref name="knownGrainsOnly"/> a silo places grains only on silos whose grain
    /// lists it has fetched, as in production, not on every active silo as test clusters do by default. A silo that
    /// stops gracefully waits up to <paramref name="drainTimeout"/> for its executions (15 s by default).
    /// </summary>
    public static async Task<FailoverCluster> StartAsync(int silos = 3, bool knownGrainsOnly = false, TimeSpan? drainTimeout = null)
    {
        var builder = new TestClusterBuilder((short)silos);
        var serviceId = "work-failover-" + Guid.NewGuid().ToString("N")[..8];
        builder.Options.ServiceId = serviceId;
        builder.Options.ConfigureFileLogging = false;
        builder.Options.AssumeHomogenousSilosForTesting = !knownGrainsOnly;
        builder.Properties["StoreKey"] = serviceId;
        builder.Properties["DrainTimeout"] = (drainTimeout ?? new WorkClusterOptions().DrainTimeout).ToString("c", CultureInfo.InvariantCulture);
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        builder.AddClientBuilderConfigurator<ClientConfigurator>();
        s_stores[serviceId] = (new(), new SharedReminderTable());
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return new FailoverCluster(cluster);
    }

    public IConcurrentJobGrain Job(string name) => Grains.GetGrain<IConcurrentJobGrain>(name);

    /// <summary>The drain of an in-process silo, which tells when the silo's stop has begun to drain it.</summary>
    internal static ExecutorDrain Drain(SiloHandle silo) =>
        ((InProcessSiloHandle)silo).SiloHost.Services.GetRequiredService<ExecutorDrain>();

    public async ValueTask DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }

    internal sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder silo)
        {
            var key = silo.Configuration["StoreKey"]!;
            var (grains, reminders) = s_stores[key];
            silo.Services.AddKeyedSingleton<IGrainStorage>(
                WorkClusterOptions.StorageName, (sp, _) => new SharedGrainStorage(grains, sp.GetRequiredService<Serializer>()));
            silo.AddReminders();
            silo.Services.AddSingleton<IReminderTable>(reminders);
            silo.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = TimeSpan.FromSeconds(1));
            silo.Configure<ClusterMembershipOptions>(o =>
            {
                o.ProbeTimeout = TimeSpan.FromSeconds(1);
                o.NumMissedProbesLimit = 2;
                o.NumVotesForDeathDeclaration = 1;
            });
            silo.Services.Configure<WorkClusterOptions>(o =>
            {
                o.ReminderPeriod = TimeSpan.FromSeconds(2);
                o.LeaseDuration = TimeSpan.FromSeconds(5);
                o.LeaseRenewPeriod = TimeSpan.FromSeconds(1);

                // Timed runs reach their executors up to a second early, so tests see them wait there.
                o.EarlyHandOver = TimeSpan.FromSeconds(1);
                o.DrainTimeout = TimeSpan.Parse(silo.Configuration["DrainTimeout"]!, CultureInfo.InvariantCulture);
            });
            silo.AddActivityPropagation();
            silo.AddWork(work => work.AddSampleHandlers().AddHandler(Probe.Handler, Probe.HandleAsync));
        }
    }
}

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.TestingHost;
using Work.Grains;
using Work.Hosting;
using Work.Silo.Handlers;

namespace Work.Cluster.Tests;

/// <summary>A 2-silo in-process cluster with memory storage and reminders, shared by the tests of a collection.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public static readonly TimeSpan SafetyBound = TimeSpan.FromSeconds(60);

    public TestCluster Cluster { get; private set; } = null!;

    public IGrainFactory Grains => Cluster.Client;

    public async Task InitializeAsync()
    {
        var builder = new TestClusterBuilder(2);
        builder.Options.ServiceId = "work-tests-" + Guid.NewGuid().ToString("N")[..8];
        builder.Options.ConfigureFileLogging = false;
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        builder.AddClientBuilderConfigurator<ClientConfigurator>();
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }

    public IConcurrentJobGrain Job(string name) => Grains.GetGrain<IConcurrentJobGrain>(name);

    public static string NewJobName(string prefix) => $"{prefix}-{Guid.NewGuid().ToString("N")[..8]}";

    internal sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder silo)
        {
            silo.Services.AddLogging(b => b.AddConsole().SetMinimumLevel(LogLevel.Warning));
            silo.UseWorkMemoryStorage();
            silo.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = TimeSpan.FromSeconds(1));
            silo.Services.Configure<WorkClusterOptions>(o =>
            {
                o.ReminderPeriod = TimeSpan.FromSeconds(2);
                o.LeaseDuration = TimeSpan.FromSeconds(6);
                o.LeaseRenewPeriod = TimeSpan.FromSeconds(1);
            });
            silo.AddActivityPropagation();
            silo.AddIncomingGrainCallFilter<LostRenewals>();
            silo.AddWork(work => work.AddSampleHandlers().AddHandler(Probe.Handler, Probe.HandleAsync).UseMetrics().UseTracing());
        }
    }
}

/// <summary>
/// Drops every lease renewal sent to a job whose name starts with <see cref="Prefix"/>, as if the renewals went to an
/// activation that was going away.
/// </summary>
internal sealed class LostRenewals : IIncomingGrainCallFilter
{
    public const string Prefix = "renewals-lost-";

    public Task Invoke(IIncomingGrainCallContext context) =>
        context.InterfaceMethod?.Name == nameof(IJobReportGrain.RenewAsync) && context.TargetId.Key.ToString()!.StartsWith(Prefix, StringComparison.Ordinal)
            ? Task.CompletedTask
            : context.Invoke();
}

internal sealed class ClientConfigurator : IClientBuilderConfigurator
{
    public void Configure(Microsoft.Extensions.Configuration.IConfiguration configuration, IClientBuilder clientBuilder) =>
        clientBuilder.AddActivityPropagation();
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}

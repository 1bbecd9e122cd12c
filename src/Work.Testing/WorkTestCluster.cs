using Orleans.TestingHost;
using Work.Client;
using Work.Hosting;

namespace Work.Testing;

/// <summary>
/// An in-process Orleans cluster running Work.Orleans with your handlers and adapters, memory storage and memory
/// reminders, for integration tests of your jobs through <see cref="WorkClient"/>:
/// <code>
/// await using var cluster = await WorkTestCluster.StartAsync(work => work.AddHandler("email", SendAsync));
/// await cluster.Client.DefineAsync("mailer", new JobDefinition(new Job("email")));
/// await cluster.Client.StartAsync("mailer");
/// var done = await cluster.Client.PerformAsync("mailer");
/// </code>
/// </summary>
public sealed class WorkTestCluster : IAsyncDisposable
{
    private readonly InProcessTestCluster _cluster;

    private WorkTestCluster(InProcessTestCluster cluster)
    {
        _cluster = cluster;
        Client = new WorkClient(cluster.Client);
    }

    /// <summary>A client of the cluster.</summary>
    public WorkClient Client { get; }

    /// <summary>The cluster's Orleans client, for grains of your own.</summary>
    public IClusterClient ClusterClient => _cluster.Client;

    /// <summary>
    /// Starts <paramref name="silos"/> silos (1 by default) whose handlers and adapters <paramref name="configure"/>
    /// registers; <paramref name="configureSilo"/> may add more to each silo (options, services).
    /// </summary>
    public static async Task<WorkTestCluster> StartAsync(
        Action<IWorkBuilder> configure, short silos = 1, Action<ISiloBuilder>? configureSilo = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(configure);
        ArgumentOutOfRangeException.ThrowIfLessThan(silos, (short)1);
        var builder = new InProcessTestClusterBuilder(silos);
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSilo((_, silo) =>
        {
            silo.UseWorkMemoryStorage();
            silo.AddWork(configure);
            configureSilo?.Invoke(silo);
        });
        var cluster = builder.Build();
        try
        {
            await cluster.DeployAsync(cancellationToken);
            return new WorkTestCluster(cluster);
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Stops the silos and the client.</summary>
    public async ValueTask DisposeAsync()
    {
        await _cluster.StopAllSilosAsync();
        await _cluster.DisposeAsync();
    }
}

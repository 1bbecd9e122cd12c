using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Dashboard;
using Work.Cluster;
using Work.Grains;
using Work.Hosting;
using Work.Http;
using Work.Silo;
using Work.Silo.Handlers;

var migrate = args.FirstOrDefault() == "migrate";
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = migrate ? args[1..] : args, ContentRootPath = AppContext.BaseDirectory });
var failures = new List<string>();
var silo = SiloHostOptions.Read(builder.Configuration, failures);
var connectionString = builder.Configuration.GetConnectionString(SiloHostOptions.ConnectionStringName);
if (migrate)
{
    // `Work.Silo migrate`: apply deploy/postgres to ConnectionStrings:Work and exit, for deployments whose silos run
    // with Work:Silo:ApplySchema=false (a database user without rights to change the schema).
    return await SchemaMigration.RunAsync(connectionString, Console.Out, Console.Error);
}

failures.AddRange(silo.Validate(connectionString));
var cluster = builder.Configuration.GetSection(WorkClusterOptions.SectionName).Get<WorkClusterOptions>() ?? new WorkClusterOptions();
failures.AddRange(cluster.Validate());
var jobs = ConfiguredJobs.Read(builder.Configuration, cluster.MinInterval, failures);
var http = SiloHttp.Read(builder.Configuration, failures);
var logging = SiloLogging.Read(builder.Configuration, failures);
var tls = builder.Configuration.GetSection(WorkTlsOptions.SectionName).Get<WorkTlsOptions>() ?? new WorkTlsOptions();
failures.AddRange(tls.Validate());
var streams = builder.Configuration.GetSection(WorkStreamOptions.SectionName).Get<WorkStreamOptions>() ?? new WorkStreamOptions();
failures.AddRange(streams.Validate());
if (failures.Count > 0)
{
    Console.Error.WriteLine("The silo cannot start: " + string.Join(" ", failures));
    return 2;
}

builder.UseOrleans(orleans =>
{
    orleans.Configure<ReminderOptions>(builder.Configuration.GetSection("Work:Reminders"));
    orleans.Configure<WorkClusterOptions>(o => o.Queues = [.. silo.ServedQueues]);
    orleans.Configure<ClusterMembershipOptions>(builder.Configuration.GetSection("Work:Membership"));

    // A fixed service id: grain state and reminders are keyed by it, so they are found again after a restart.
    if (silo.Clustering == SiloClustering.AdoNet)
    {
        orleans.UseWorkPostgresClustering(connectionString!, silo.ApplySchema);
        orleans.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = silo.ClusterId;
            o.ServiceId = silo.ServiceId;
        });
        if (silo.Kubernetes)
        {
            // The pod's IP and the cluster and service ids come from the pod's environment (see deploy/kubernetes).
            orleans.Configure<EndpointOptions>(o =>
            {
                o.SiloPort = silo.SiloPort;
                o.GatewayPort = silo.GatewayPort;
            });
            orleans.UseKubernetesHosting();
        }
        else if (silo.Address is not null)
        {
            orleans.ConfigureEndpoints(IPAddress.Parse(silo.Address), silo.SiloPort, silo.GatewayPort, listenOnAnyHostAddress: false);
        }
        else
        {
            orleans.ConfigureEndpoints(silo.SiloPort, silo.GatewayPort);
        }
    }
    else
    {
        orleans.UseLocalhostClustering(silo.SiloPort, silo.GatewayPort, serviceId: silo.ServiceId, clusterId: silo.ClusterId);
    }

    switch (silo.Storage)
    {
        case SiloStorage.Memory:
            orleans.UseWorkMemoryStorage();
            break;
        case SiloStorage.Postgres:
            orleans.UseWorkPostgres(connectionString!, silo.ApplySchema);
            break;
        default:
            orleans.UseWorkSqlite(silo.DatabasePath);
            break;
    }

    // Jobs' streams (ReceiveBinding.FromStream): durable in PostgreSQL, in memory otherwise.
    if (streams.Enabled && silo.Storage == SiloStorage.Postgres)
    {
        orleans.AddWorkPostgresStreams(connectionString!, streams, silo.ApplySchema);
    }
    else if (streams.Enabled)
    {
        orleans.AddWorkMemoryStreams(streams);
    }

    if (tls.Enabled)
    {
        // Mutual TLS: silos and clients present certificates from the cluster's authority.
        orleans.UseWorkTls(tls);
    }

    if (http.Enabled)
    {
        // Orleans' own dashboard (grains, silos, calls), at /orleans beside the job dashboard.
        orleans.AddDashboard();
    }

    orleans.AddWork(work =>
    {
        // The sample handlers (noop, echo, sleep, fail) in the Development environment only: `dotnet run` and the
        // local cluster script; the image and the manifests run none.
        if (builder.Environment.IsDevelopment())
        {
            work.AddSampleHandlers();
        }

        // Failures at Warning and Error; successes at Debug unless Work:Logging:SuccessLevel says otherwise.
        work.UseLogging(o => o.SuccessLevel = logging.SuccessLevel)
            .UseMetrics()
            .UseTracing()
            .UseHealth();
    });
});
// The host's stop covers the drain of what runs here (Work:Cluster:DrainTimeout) and the rest of the silo's stop.
builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromTicks(Math.Max(o.ShutdownTimeout.Ticks, (cluster.DrainTimeout + SiloHostOptions.StopAfterDrain).Ticks)));
builder.Services.AddSingleton<IReadOnlyList<ConfiguredJob>>(jobs);
builder.Services.AddHostedService<ConfiguredJobs>();
if (http.Enabled)
{
    builder.Services.AddWorkHttp(http, builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
    builder.WebHost.UseUrls(http.Urls);
}
else
{
    // Work:Http:Enabled=false: nothing listens for HTTP.
    builder.Services.AddSingleton<IServer, SiloHttp.NoServer>();
}

var app = builder.Build();
if (http.Enabled)
{
    app.UseAuthentication();
    app.UseAuthorization();
    app.MapWork();
    app.MapOrleansDashboard("/orleans").RequireAuthorization(WorkAuthorization.Read);
}

try
{
    await app.RunAsync();
}
catch (OptionsValidationException ex)
{
    // Options a library validates as the host starts.
    Console.Error.WriteLine("The silo cannot start: " + string.Join(" ", ex.Failures));
    return 2;
}

return 0;

using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Work;
using Work.Handlers;
using Work.Hosting;
using Work.Silo;

var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });
var silo = builder.Configuration.GetSection(SiloHostOptions.SectionName).Get<SiloHostOptions>() ?? new SiloHostOptions();
var failures = silo.Validate();
if (failures.Count > 0)
{
    Console.Error.WriteLine("The silo cannot start: " + string.Join(" ", failures));
    return 2;
}

builder.UseOrleans(orleans =>
{
    orleans.Configure<ReminderOptions>(builder.Configuration.GetSection("Work:Reminders"));

    // A fixed service id: grain state and reminders are keyed by it, so they are found again after a restart.
    orleans.UseLocalhostClustering(silo.SiloPort, silo.GatewayPort, serviceId: WorkDefaults.ClusterId, clusterId: WorkDefaults.ClusterId);
    if (silo.Storage == "memory")
    {
        orleans.AddMemoryGrainStorage(WorkClusterOptions.StorageName).UseInMemoryReminderService();
    }
    else
    {
        orleans.UseWorkSqlite(silo.DatabasePath);
    }

    orleans.AddWork(work => work
        .AddSampleHandlers()
        .UseLogging()
        .UseMetrics()
        .UseTracing()
        .UseHealth());
});
builder.Services.AddHostedService<ConfiguredJobs>();
await builder.Build().RunAsync();
return 0;

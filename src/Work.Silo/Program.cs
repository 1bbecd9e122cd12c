using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Work.Handlers;
using Work.Hosting;
using Work.Silo;

var builder = Host.CreateApplicationBuilder(args);
builder.Services.AddWork(work => work
    .AddSampleHandlers()
    .UseLogging(o => o.SkipSuccess = true)
    .UseMetrics()
    .UseTracing()
    .UseHealth());
builder.Services.AddHostedService<SampleJobs>();
await builder.Build().RunAsync();

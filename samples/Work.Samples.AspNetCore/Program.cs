using Work;
using Work.Client;
using Work.Hosting;

// An ASP.NET Core app that hosts the scheduler: a silo in the app, and endpoints that enqueue and wait through WorkClient.
var builder = WebApplication.CreateBuilder(args);
builder.UseOrleans(silo => silo
    .UseLocalhostClustering(
        siloPort: builder.Configuration.GetValue("SiloPort", 11111),
        gatewayPort: builder.Configuration.GetValue("GatewayPort", 30000),
        serviceId: "web",
        clusterId: "web")
    .UseWorkSqlite(Path.Combine(builder.Environment.ContentRootPath, "data", "web.db"))
    .AddWork(work => work
        .AddHandler("thumbnail", async ctx =>
        {
            var image = ctx.Args.Get<string>("image");
            await Task.Delay(20, ctx.CancellationToken);    // resize it
            ctx.Set("thumbnail", $"thumbs/{image}");
        })
        .UseLogging()));
builder.Services.AddSingleton(sp => new WorkClient(sp.GetRequiredService<IGrainFactory>()));
builder.Services.AddHostedService<DefineJobs>();
var app = builder.Build();

// POST /thumbnails?image=cat.png: accepted (durably) and answered at once with the execution id.
app.MapPost("/thumbnails", async (string image, WorkClient work, CancellationToken ct) =>
    Results.Accepted(value: new { id = await work.EnqueueAsync("thumbnails", JobArgs.From(new { image }), ct) }));

// GET /thumbnails/{id}: waits for the execution's result.
app.MapGet("/thumbnails/{id}", async (string id, WorkClient work, CancellationToken ct) =>
    (await work.WaitAsync("thumbnails", id, ct)) is { } done ? Results.Ok(new { done.Status, done.Duration }) : Results.NotFound());

app.Run();

// Defines and starts the app's jobs once the silo is up.
internal sealed class DefineJobs(WorkClient work) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await work.DefineAsync("thumbnails", new JobDefinition(new Job("thumbnail") { Timeout = TimeSpan.FromSeconds(30) }) { MaxWorkers = 4 }, cancellationToken);
        await work.StartAsync("thumbnails", cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

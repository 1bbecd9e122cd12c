using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Work.Hosting;

namespace Work.Tests.Workers;

public sealed class WorkerOptionsValidationTests
{
    [Fact]
    public async Task HostStartFailsNamingEveryBadSetting()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Work:Worker:MaxConcurrency"] = "0",
            ["Work:Worker:ShutdownTimeout"] = "-00:00:01",
        });
        builder.Services.AddWork();
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("Work:Worker:MaxConcurrency", error.Message, StringComparison.Ordinal);
        Assert.Contains("Work:Worker:ShutdownTimeout", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConfigurationIsBoundToTheWorkers()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Work:Worker:MaxConcurrency"] = "3" });
        builder.Services.AddWork();
        using var host = builder.Build();
        await host.StartAsync();

        Assert.Equal(3, host.Services.GetRequiredService<IOptions<Work.Workers.WorkerOptions>>().Value.MaxConcurrency);
        await host.StopAsync();
    }
}

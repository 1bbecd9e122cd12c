using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Work.Grains;

namespace Work.Silo;

/// <summary>Defines, and starts, the jobs listed under <c>Work:Jobs</c> once the silo is up.</summary>
internal sealed partial class ConfiguredJobs(IConfiguration configuration, IGrainFactory grains, ILogger<ConfiguredJobs> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var failures = new List<string>();
        var jobs = new List<(string Name, JobDefinition Definition, bool Start)>();
        foreach (var section in configuration.GetSection("Work:Jobs").GetChildren())
        {
            var config = section.Get<JobConfig>() ?? new JobConfig();
            jobs.Add((section.Key, config.ToDefinition(section.Key, failures), config.Start));
        }

        if (failures.Count > 0)
        {
            throw new InvalidOperationException("The configured jobs are not valid: " + string.Join(" ", failures));
        }

        foreach (var (name, definition, start) in jobs)
        {
            var job = grains.GetGrain<IConcurrentJobGrain>(name);
            await job.DefineAsync(definition);
            if (start)
            {
                await job.StartAsync();
            }

            LogDefined(logger, name, definition.Job.Handler, start);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 3000, Level = LogLevel.Information, Message = "Job {Job} defined from configuration (handler {Handler}, started: {Started})")]
    private static partial void LogDefined(ILogger logger, string job, string handler, bool started);
}

using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Work.Cluster;

namespace Work.Silo;

/// <summary>Defines, and starts, the jobs listed under <c>Work:Jobs</c> once the silo is up.</summary>
internal sealed partial class ConfiguredJobs(IReadOnlyList<ConfiguredJob> jobs, IGrainFactory grains, ILogger<ConfiguredJobs> logger) : IHostedService
{
    /// <summary>The jobs under <c>Work:Jobs</c>, checked before the silo starts; every problem goes to <paramref name="failures"/>.</summary>
    public static List<ConfiguredJob> Read(IConfiguration configuration, TimeSpan minInterval, List<string> failures)
    {
        var jobs = new List<ConfiguredJob>();
        foreach (var section in configuration.GetSection("Work:Jobs").GetChildren())
        {
            var config = section.Get<JobConfig>() ?? new JobConfig();
            jobs.Add(new ConfiguredJob(section.Key, config.ToDefinition(section.Key, minInterval, failures), config.Start));
        }

        return jobs;
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
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

        // The last of the host's services to start: a script that starts silos waits for this line.
        LogReady(logger, jobs.Count);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 3000, Level = LogLevel.Information, Message = "Job {Job} defined from configuration (handler {Handler}, started: {Started})")]
    private static partial void LogDefined(ILogger logger, string job, string handler, bool started);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Work silo ready ({Count} jobs from configuration defined)")]
    private static partial void LogReady(ILogger logger, int count);
}

/// <summary>A job from configuration.</summary>
internal sealed record ConfiguredJob(string Name, JobDefinition Definition, bool Start);

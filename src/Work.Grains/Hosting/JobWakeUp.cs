using Microsoft.Extensions.Logging;
using Work.Grains;

namespace Work.Hosting;

/// <summary>
/// When a silo becomes active, touches every defined job so that jobs with schedules resume at once after a restart,
/// instead of waiting for their reminder's next tick.
/// </summary>
internal sealed partial class JobWakeUp(IGrainFactory grains, ILogger<JobWakeUp> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(JobWakeUp), ServiceLifecycleStage.Active, OnActiveAsync);

    private Task OnActiveAsync(CancellationToken cancellationToken)
    {
        // In the background: a silo does not wait for every job to activate before it serves.
        _ = Task.Run(WakeAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    private async Task WakeAsync()
    {
        try
        {
            var names = await grains.GetGrain<IJobCatalogGrain>(IJobCatalogGrain.Key).ListAsync();
            foreach (var chunk in names.Chunk(64))
            {
                await Task.WhenAll(chunk.Select(name => grains.GetGrain<IConcurrentJobGrain>(name).GetInfoAsync()));
            }

            LogWoken(logger, names.Count);
        }
        catch (Exception ex)
        {
            LogWakeFailed(logger, ex);
        }
    }

    [LoggerMessage(EventId = 2200, Level = LogLevel.Information, Message = "Woke {Count} defined jobs")]
    private static partial void LogWoken(ILogger logger, int count);

    [LoggerMessage(EventId = 2201, Level = LogLevel.Warning, Message = "Could not wake the defined jobs; their reminders will")]
    private static partial void LogWakeFailed(ILogger logger, Exception error);
}

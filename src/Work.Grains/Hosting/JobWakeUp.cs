using Microsoft.Extensions.Logging;
using Work.Cluster;
using Work.Grains;

namespace Work.Hosting;

/// <summary>
/// Touches every defined job so that jobs with schedules resume at once instead of waiting for their reminder's next
/// tick: when a silo becomes active (after a restart), and when a silo is declared dead (its jobs move to the
/// survivors). For a death, only the oldest active silo does it, so the jobs are touched once.
/// </summary>
internal sealed partial class JobWakeUp(
    IGrainFactory grains,
    IClusterMembershipService membership,
    ILocalSiloDetails silo,
    ILogger<JobWakeUp> logger) : ILifecycleParticipant<ISiloLifecycle>, IDisposable
{
    private const int PageSize = 1_000;

    private readonly CancellationTokenSource _stopping = new();

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(JobWakeUp), ServiceLifecycleStage.Active, OnActiveAsync, OnStopAsync);

    private Task OnActiveAsync(CancellationToken cancellationToken)
    {
        // In the background: a silo does not wait for every job to activate before it serves.
        _ = Task.Run(() => WakeAsync("silo started"), CancellationToken.None);
        _ = Task.Run(WatchDeathsAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    private async Task OnStopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
    }

    public void Dispose() => _stopping.Dispose();

    private async Task WatchDeathsAsync()
    {
        HashSet<SiloAddress>? dead = null;
        try
        {
            await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(_stopping.Token))
            {
                var members = snapshot.Members.Values;
                if (dead is null)
                {
                    // Silos that were dead before this one started: their jobs were woken by the start.
                    dead = members.Where(m => m.Status == SiloStatus.Dead).Select(m => m.SiloAddress).ToHashSet();
                    continue;
                }

                var newlyDead = members.Where(m => m.Status == SiloStatus.Dead && dead.Add(m.SiloAddress)).ToList();
                var oldest = members
                    .Where(m => m.Status == SiloStatus.Active)
                    .Select(m => m.SiloAddress)
                    .OrderBy(a => a.Generation)
                    .ThenBy(a => a.ToParsableString(), StringComparer.Ordinal)
                    .FirstOrDefault();
                if (newlyDead.Count > 0 && silo.SiloAddress.Equals(oldest))
                {
                    await WakeAsync($"{string.Join(", ", newlyDead.Select(m => m.SiloAddress))} died");
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The silo is stopping.
        }
    }

    private async Task WakeAsync(string reason)
    {
        try
        {
            var catalog = grains.GetGrain<IJobCatalogGrain>(IJobCatalogGrain.Key);
            var woken = 0;
            string? after = null;
            while (!_stopping.IsCancellationRequested)
            {
                var page = await catalog.ListAsync(after, PageSize);
                foreach (var chunk in page.Chunk(64))
                {
                    await Task.WhenAll(chunk.Select(WakeOneAsync));
                }

                woken += page.Count;
                if (page.Count < PageSize)
                {
                    break;
                }

                after = page[^1];
            }

            LogWoken(logger, woken, reason);
        }
        catch (Exception ex)
        {
            LogWakeFailed(logger, ex, reason);
        }
    }

    // A job that cannot be woken now is left to its reminder; the others are woken all the same.
    private async Task WakeOneAsync(string name)
    {
        try
        {
            await grains.GetGrain<IJobReportGrain>(name).WakeAsync();
        }
        catch (Exception ex)
        {
            LogJobWakeFailed(logger, ex, name);
        }
    }

    [LoggerMessage(EventId = 2202, Level = LogLevel.Debug, Message = "Could not wake job {Job}; its reminder will")]
    private static partial void LogJobWakeFailed(ILogger logger, Exception error, string job);

    [LoggerMessage(EventId = 2200, Level = LogLevel.Information, Message = "Woke {Count} defined jobs ({Reason})")]
    private static partial void LogWoken(ILogger logger, int count, string reason);

    [LoggerMessage(EventId = 2201, Level = LogLevel.Warning, Message = "Could not wake the defined jobs ({Reason}); their reminders will")]
    private static partial void LogWakeFailed(ILogger logger, Exception error, string reason);
}

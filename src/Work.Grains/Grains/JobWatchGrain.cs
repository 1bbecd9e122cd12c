using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Work.Cluster;
using Work.Scheduling;

namespace Work.Grains;

/// <summary>
/// The cluster's one watch over its jobs (key <see cref="IJobWatchGrain.Key"/>): wakes every defined job when a silo
/// has died since it last did, so the jobs that silo held, awake or asleep, come back on the survivors. Silos call it
/// when they start and when they see a silo die (<see cref="Hosting.JobWakeUp"/>); its reminder
/// (<see cref="WorkClusterOptions.ReminderPeriod"/>) checks again every period and brings it back after its own silo
/// dies or the cluster restarts. One reminder for the cluster replaces one per job: a sleeping job costs its entry on
/// a silo's <see cref="SleepingJobs"/> list and nothing in the reminder service.
/// </summary>
[Reentrant, KeepAlive]
internal sealed partial class JobWatchGrain(
    IClusterMembershipService membership,
    SleepingJobs sleepers,
    IOptions<WorkClusterOptions> options,
    ILogger<JobWatchGrain> logger) : Grain, IJobWatchGrain, IRemindable
{
    private const string ReminderName = "work.watch";
    private const int PageSize = 1_000;
    private const int InFlight = 64;

    private readonly DeadSilos _dead = new();
    private Task _waking = Task.CompletedTask;
    private string? _again;
    private bool _reminderRegistered;

    public async Task CheckAsync(bool wakeAll, MembershipVersion seen, string reason)
    {
        await EnsureReminderAsync();
        if (membership.CurrentSnapshot.Version < seen)
        {
            await membership.Refresh(seen);
        }

        Check(wakeAll, reason);
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        await EnsureReminderAsync();
        Check(wakeAll: false, "the watch's reminder");
    }

    private void Check(bool wakeAll, string reason)
    {
        var dead = DeadNow();
        if (!wakeAll && !_dead.AnyNew(dead))
        {
            return;
        }

        if (!_waking.IsCompleted)
        {
            // Woken again once the one under way is done: it may have read the catalog before this death.
            _again = reason;
            return;
        }

        _waking = WakeAllAsync(reason);
    }

    private IReadOnlyList<SiloAddress> DeadNow() =>
        [.. membership.CurrentSnapshot.Members.Values.Where(m => m.Status == SiloStatus.Dead).Select(m => m.SiloAddress)];

    private async Task WakeAllAsync(string reason)
    {
        for (var next = reason; next is not null; (next, _again) = (_again, null))
        {
            var dead = DeadNow();
            try
            {
                var woken = await WakeEveryJobAsync();
                _dead.Handled(dead);
                LogWoken(logger, woken, next);
            }
            catch (Exception ex)
            {
                // The next check (a silo's call or the reminder) finds the same dead silos and tries again, once.
                LogWakeFailed(logger, ex, next);
                _again = null;
                return;
            }
        }
    }

    // Every job the catalog names, a page at a time, through this silo's list: one that cannot be woken now is tried
    // again from there.
    private async Task<int> WakeEveryJobAsync()
    {
        var catalog = GrainFactory.GetGrain<IJobCatalogGrain>(IJobCatalogGrain.Key);
        var woken = 0;
        string? after = null;
        while (true)
        {
            var page = await catalog.ListAsync(after, PageSize);
            foreach (var chunk in page.Chunk(InFlight))
            {
                await Task.WhenAll(chunk.Select(sleepers.WakeAsync));
            }

            woken += page.Count;
            if (page.Count < PageSize)
            {
                return woken;
            }

            after = page[^1];
        }
    }

    private async Task EnsureReminderAsync()
    {
        if (_reminderRegistered)
        {
            return;
        }

        // Once per activation (rare: after its silo went or the cluster restarted), so a changed period takes effect.
        var period = options.Value.ReminderPeriod;
        try
        {
            await this.RegisterOrUpdateReminder(ReminderName, period, period);
            _reminderRegistered = true;
        }
        catch (Exception ex)
        {
            // Tried again at the next check; the silos' calls do the watch's work meanwhile.
            LogReminderFailed(logger, ex);
        }
    }

    [LoggerMessage(EventId = 2200, Level = LogLevel.Information, Message = "Woke {Count} defined jobs ({Reason})")]
    private static partial void LogWoken(ILogger logger, int count, string reason);

    [LoggerMessage(EventId = 2204, Level = LogLevel.Warning, Message = "Could not wake the defined jobs ({Reason}); the watch tries again at its next check")]
    private static partial void LogWakeFailed(ILogger logger, Exception error, string reason);

    [LoggerMessage(EventId = 2203, Level = LogLevel.Warning, Message = "The job watch could not register its reminder; it tries again at its next check")]
    private static partial void LogReminderFailed(ILogger logger, Exception error);
}

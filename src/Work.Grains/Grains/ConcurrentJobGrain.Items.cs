using Microsoft.Extensions.DependencyInjection;
using Work.Scheduling;

namespace Work.Grains;

// A job bound to a source: claims items as slots free up, keeps the ones it holds invisible to other readers, and
// settles each in the source (acknowledged, dead-lettered or released) once its execution's final record is durable.
internal sealed partial class ConcurrentJobGrain
{
    // How often acknowledged items past the retention are purged from a source, by each job reading it.
    private static readonly TimeSpan s_purgeEvery = TimeSpan.FromHours(1);

    private ItemStore? _itemStore;
    private IGrainTimer? _itemTimer;
    private TimeSpan _itemTimerPeriod;
    private bool _claiming;
    private bool _settling;
    private DateTimeOffset _nextClaimAt;
    private DateTimeOffset _extendAt;
    private DateTimeOffset _purgeAt;

    private void OpenItems() => _itemStore = ServiceProvider.GetKeyedService<ItemStore>(WorkClusterOptions.StorageName);

    // A binding needs the silos' database.
    private void CheckReceive(JobDefinition definition)
    {
        CheckStream(definition);
        if (definition.Receive is { Kind: SourceKind.Table } && _itemStore is null)
        {
            throw new ArgumentException(
                $"Job '{Name}' cannot read source '{definition.Receive.Source}': this cluster keeps no item sources. Sources live in the silos' database (UseWorkSqlite or UseWorkPostgres). Job '{Name}' was not defined.");
        }
    }

    // Final records just made: waiters hear of them, and the items they handled are settled once they are durable.
    private void Completed(List<JobExecution> finished)
    {
        _waiters.Complete(finished);
        if (finished.Count == 0)
        {
            return;
        }

        StreamRoomMayHaveOpened();
        if (_scheduler is { } scheduler && scheduler.ItemsEnded(finished))
        {
            _ = SettleItemsAsync();
        }
    }

    /// <summary>Claims items while the job has room for them, and keeps the item timer as the binding needs it.</summary>
    private void ReadItems(JobScheduler scheduler)
    {
        KeepItemTimer(scheduler);
        if (_itemStore is null || _claiming || _conflicted || _unserved || scheduler.Receiving is not { Kind: SourceKind.Table } binding)
        {
            return;
        }

        var now = _time.GetUtcNow();
        var wanted = scheduler.ItemsWanted(now);
        if (wanted == 0 || now < _nextClaimAt)
        {
            return;
        }

        _claiming = true;
        _ = ClaimAsync(scheduler, binding, wanted, now);
    }

    private async Task ClaimAsync(JobScheduler scheduler, ReceiveBinding binding, int wanted, DateTimeOffset now)
    {
        List<ClaimedItem> claimed;
        try
        {
            claimed = await _itemStore!.ClaimAsync(binding.Source, wanted, binding.MaxDeliveries, now, now + binding.Visibility);
        }
        catch (Exception ex)
        {
            LogClaimFailed(_logger, ex, Name, binding.Source);
            _nextClaimAt = now + binding.PollInterval;
            return;
        }
        finally
        {
            _claiming = false;
        }

        // An empty source is looked at again after the poll interval; a full claim is followed by the next at once.
        _nextClaimAt = claimed.Count < wanted ? now + binding.PollInterval : now;
        if (claimed.Count == 0)
        {
            return;
        }

        if (_scheduler != scheduler || _conflicted || scheduler.Receiving != binding)
        {
            // Stopped, redefined or superseded meanwhile: they go back at once instead of waiting out their visibility.
            await ReleaseAsync(binding.Source, claimed);
            return;
        }

        scheduler.AcceptItems(claimed);
        LogItemsClaimed(_logger, Name, claimed.Count, binding.Source);
        try
        {
            await PumpAsync();
        }
        catch (Exception ex)
        {
            LogPumpFailed(_logger, ex, Name);
            Rearm(scheduler);
        }
    }

    private async Task ReleaseAsync(string source, List<ClaimedItem> claimed)
    {
        try
        {
            var released = claimed.ConvertAll(c => new HeldItem { Item = c.Item, Settlement = ItemSettlement.Release });
            await _itemStore!.SettleAsync(source, Name, released, _time.GetUtcNow());
        }
        catch (Exception ex)
        {
            // They come back when their visibility runs out.
            LogSettleFailed(_logger, ex, Name, source);
        }
    }

    /// <summary>
    /// Settles the items whose executions ended, once the records of those executions are durable: an item is
    /// acknowledged only after its execution's final status is recorded. What fails is tried again at the next tick.
    /// </summary>
    private async Task SettleItemsAsync()
    {
        if (_settling || _itemStore is null)
        {
            return;
        }

        _settling = true;
        try
        {
            while (_scheduler is { } scheduler && !_conflicted && scheduler.ItemsToSettle() is { Count: > 0 } settle)
            {
                await _commit.CommitSoonAsync();
                var now = _time.GetUtcNow();
                foreach (var bySource in settle.GroupBy(s => s.Item.Item.Source))
                {
                    await _itemStore.SettleAsync(bySource.Key, Name, bySource.Select(s => s.Item).ToList(), now);
                }

                scheduler.ItemsSettled(settle.Select(s => s.ExecutionId));
                _commit.CommitSoon();

                // Room for more: the next items are claimed now rather than at the next report.
                ReadItems(scheduler);
            }
        }
        catch (Exception ex)
        {
            LogSettleFailed(_logger, ex, Name, _scheduler?.State.Definition?.Receive?.Source ?? "");
        }
        finally
        {
            _settling = false;
        }
    }

    // While the job reads a source or holds items, a timer looks for items, keeps held ones invisible, settles what is
    // left to settle and purges old acknowledged ones; it also keeps the job in memory.
    private void KeepItemTimer(JobScheduler scheduler)
    {
        var needed = _itemStore is not null && !_conflicted
            && (scheduler.Receiving is { Kind: SourceKind.Table } || scheduler.State.Items.Values.Any(h => !h.FromStream));
        var period = scheduler.State.Definition?.Receive?.PollInterval ?? ReceiveBinding.DefaultPollInterval;
        if (needed && _itemTimer is not null && period == _itemTimerPeriod)
        {
            return;
        }

        _itemTimer?.Dispose();
        _itemTimer = null;
        if (!needed)
        {
            return;
        }

        _itemTimerPeriod = period;
        _itemTimer = this.RegisterGrainTimer(
            static (grain, _) => grain.ItemTickAsync(),
            this,
            new GrainTimerCreationOptions { DueTime = period, Period = period, Interleave = true, KeepAlive = true });
    }

    private async Task ItemTickAsync()
    {
        if (_scheduler is not { } scheduler || _conflicted || _itemStore is null)
        {
            return;
        }

        var now = _time.GetUtcNow();
        var visibility = scheduler.State.Definition?.Receive?.Visibility ?? ReceiveBinding.DefaultVisibility;
        if (now >= _extendAt)
        {
            _extendAt = now + (visibility / 3);
            try
            {
                foreach (var bySource in scheduler.State.Items.Values.Where(h => h.Settlement == ItemSettlement.None && !h.FromStream).GroupBy(h => h.Item.Source))
                {
                    await _itemStore.ExtendAsync(bySource.Key, bySource.Select(h => h.Item.Id).ToList(), now + visibility);
                }
            }
            catch (Exception ex)
            {
                LogExtendFailed(_logger, ex, Name);
                _extendAt = now;
            }
        }

        if (scheduler.Receiving is { Kind: SourceKind.Table } binding && now >= _purgeAt)
        {
            _purgeAt = now + s_purgeEvery;
            try
            {
                await _itemStore.PurgeAsync(binding.Source, now - _options.ItemRetention);
            }
            catch (Exception ex)
            {
                LogSettleFailed(_logger, ex, Name, binding.Source);
            }
        }

        await SettleItemsAsync();
        ReadItems(scheduler);
        KeepItemTimer(scheduler);
    }
}

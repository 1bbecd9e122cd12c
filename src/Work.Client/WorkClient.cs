using System.Collections.Concurrent;
using Work.Cluster;

namespace Work.Client;

/// <summary>
/// A small typed facade over the cluster: jobs by name, clear errors for bad names, and a synchronous perform that
/// waits for the result in bounded calls, so a handler may run longer than any grain call. Calls that can be repeated
/// without effect (define, start, stop, every, cancel, info, history, list, wait) are retried for up to 30 s while
/// the cluster is getting over a silo's death or restart; calls that accept executions (enqueue, at, in) are not,
/// since a repeat would schedule twice. Every method takes a cancellation token: cancelling stops the waiting and the
/// repeating; a call already sent may still take effect (an execution may still be accepted).
/// </summary>
public sealed class WorkClient
{
    private static readonly TimeSpan s_waitSlice = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan s_retryFor = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan[] s_backoff =
        [TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)];

    private readonly IGrainFactory _grains;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, PerformLane> _lanes = new(StringComparer.Ordinal);

    /// <summary>Creates a client over a connected cluster client (or any grain factory).</summary>
    public WorkClient(IGrainFactory grains, TimeProvider? time = null)
    {
        _grains = grains ?? throw new ArgumentNullException(nameof(grains));
        _time = time ?? TimeProvider.System;
    }

    /// <summary>
    /// Whether a call failed because the cluster is momentarily unreachable (a silo being declared dead, a gateway
    /// gone, a message for a replaced incarnation, a call or grain activation that timed out meanwhile) or a grain
    /// was momentarily active twice, not because of what it asked.
    /// </summary>
    public static bool IsTransient(Exception exception) =>
        exception is OrleansMessageRejectionException or SiloUnavailableException or Orleans.Runtime.Messaging.ConnectionFailedException
            or TimeoutException or OperationCanceledException
            // Two activations of one grain met in storage for a moment; the loser reloads, and a repeat reaches it.
            or Orleans.Storage.InconsistentStateException
            // The job's database did not answer; the job keeps trying.
            or JobStorageException;

    /// <summary>How many jobs have performs under way (their lanes), for tests.</summary>
    internal int OpenLanes => _lanes.Count;

    /// <summary>The grain of the job named <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">The name is not a valid job name (see <see cref="JobLimits.NameProblem"/>).</exception>
    public IConcurrentJobGrain Job(string name)
    {
        if (JobLimits.NameProblem(name) is { } problem)
        {
            throw new ArgumentException(problem, nameof(name));
        }

        return _grains.GetGrain<IConcurrentJobGrain>(name);
    }

    /// <summary>Defines or updates a job.</summary>
    public Task DefineAsync(string name, JobDefinition definition, CancellationToken cancellationToken = default) => RepeatableAsync(() => Job(name).DefineAsync(definition), cancellationToken);

    /// <summary>Starts a job.</summary>
    public Task StartAsync(string name, CancellationToken cancellationToken = default) => RepeatableAsync(() => Job(name).StartAsync(), cancellationToken);

    /// <summary>Stops a job.</summary>
    public Task StopAsync(string name, CancellationToken cancellationToken = default) => RepeatableAsync(() => Job(name).StopAsync(), cancellationToken);

    /// <summary>Deletes a job: its schedules, pending executions, history and state; defining it again starts afresh.</summary>
    public Task DeleteAsync(string name, CancellationToken cancellationToken = default) => RepeatableAsync(() => Job(name).DeleteAsync(), cancellationToken);

    /// <summary>Performs one execution now and waits for its final result (retries included).</summary>
    public async Task<JobExecution> PerformAsync(string name, JobArgs? args = null, CancellationToken cancellationToken = default)
    {
        var id = await EnqueueAsync(name, args, cancellationToken);
        return await WaitAsync(name, id, cancellationToken);
    }

    /// <summary>
    /// Accepts one execution now and returns its id once the job recorded it durably. Concurrent performs to one job
    /// share calls (see <see cref="PerformLane"/>).
    /// </summary>
    /// <exception cref="ArgumentException">The args are over <see cref="JobDefinition.MaxArgsBytes"/>.</exception>
    public Task<string> EnqueueAsync(string name, JobArgs? args = null, CancellationToken cancellationToken = default) => AcceptAsync(name, PerformRequest.Now(args), cancellationToken);

    /// <summary>
    /// Enqueues items to a source, in one transaction; the jobs bound to it perform one execution per item. Tried
    /// again on transient failures only when every item has an idempotency key (a repeat is then refused as a
    /// duplicate), otherwise sent once.
    /// </summary>
    /// <exception cref="ArgumentException">The source's name or an item is not valid; nothing was enqueued.</exception>
    public Task<IReadOnlyList<EnqueuedItem>> EnqueueItemsAsync(string source, IReadOnlyList<ItemRequest> items, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(items);
        var grain = _grains.GetGrain<IItemSourceGrain>(source);
        return items.All(i => i?.IdempotencyKey is not null)
            ? RepeatableAsync(() => grain.EnqueueAsync(items), cancellationToken)
            : grain.EnqueueAsync(items).WaitAsync(cancellationToken);
    }

    /// <summary>How many items of a source are ready, claimed, acknowledged and dead.</summary>
    public Task<SourceInfo> GetSourceAsync(string source, CancellationToken cancellationToken = default) =>
        RepeatableAsync(() => _grains.GetGrain<IItemSourceGrain>(source).GetInfoAsync(), cancellationToken);

    /// <summary>The newest items of a source's dead letter table, newest first.</summary>
    public Task<IReadOnlyList<DeadItem>> GetDeadItemsAsync(string source, int count = 20, CancellationToken cancellationToken = default) =>
        RepeatableAsync(() => _grains.GetGrain<IItemSourceGrain>(source).GetDeadAsync(count), cancellationToken);

    /// <summary>Accepts one execution at a time (a past time runs now) and returns its id; shares calls as <see cref="EnqueueAsync"/> does.</summary>
    /// <exception cref="ArgumentException">The time is the default value or beyond <see cref="JobLimits.Horizon"/>, or the args are too large.</exception>
    public Task<string> PerformAtAsync(string name, DateTimeOffset time, JobArgs? args = null, CancellationToken cancellationToken = default) =>
        AcceptAsync(name, PerformRequest.AtTime(time, args), cancellationToken);

    /// <summary>Accepts one execution after a delay (from when the job accepts it) and returns its id; shares calls as <see cref="EnqueueAsync"/> does.</summary>
    /// <exception cref="ArgumentException">The delay is not positive or beyond <see cref="JobLimits.Horizon"/>, or the args are too large.</exception>
    public Task<string> PerformInAsync(string name, TimeSpan delay, JobArgs? args = null, CancellationToken cancellationToken = default) =>
        AcceptAsync(name, PerformRequest.After(delay, args), cancellationToken);

    /// <summary>Sets the job's recurring schedule.</summary>
    public Task PerformEveryAsync(string name, TimeSpan interval, bool sync = false, CancellationToken cancellationToken = default) =>
        RepeatableAsync(() => Job(name).PerformEveryAsync(interval, sync), cancellationToken);

    /// <summary>Sets the job's recurring schedule to a cron expression in a time zone (UTC when null).</summary>
    public Task PerformCronAsync(string name, string cron, string? timeZone = null, bool sync = false, CancellationToken cancellationToken = default) =>
        RepeatableAsync(() => Job(name).PerformCronAsync(cron, timeZone, sync), cancellationToken);

    /// <summary>Cancels one execution, or all with null; returns how many.</summary>
    public Task<int> CancelAsync(string name, string? executionId = null, CancellationToken cancellationToken = default) =>
        RepeatableAsync(() => Job(name).CancelAsync(executionId), cancellationToken);

    /// <summary>The job's state.</summary>
    public Task<JobInfo> GetInfoAsync(string name, CancellationToken cancellationToken = default) => RepeatableAsync(() => Job(name).GetInfoAsync(), cancellationToken);

    /// <summary>The job's last executions, newest first.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The count is negative or over <see cref="JobDefinition.MaxHistoryLimit"/>.</exception>
    public Task<IReadOnlyList<JobExecution>> GetHistoryAsync(string name, int count = 20, CancellationToken cancellationToken = default)
    {
        if (count < 0 || count > JobDefinition.MaxHistoryLimit)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, $"The history count must be between 0 and {JobDefinition.MaxHistoryLimit}; it is {count}.");
        }

        return RepeatableAsync(() => Job(name).GetHistoryAsync(count), cancellationToken);
    }

    /// <summary>A page of the job's history, newest first: <paramref name="count"/> after skipping the newest <paramref name="skip"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The skip or count is negative, or they reach past <see cref="JobDefinition.MaxHistoryLimit"/>.</exception>
    public Task<IReadOnlyList<JobExecution>> GetHistoryAsync(string name, int skip, int count, CancellationToken cancellationToken = default) =>
        RepeatableAsync(() => Job(name).GetHistoryAsync(skip, count), cancellationToken);

    /// <summary>Where one execution stands: pending, running, or finished with its record.</summary>
    /// <exception cref="KeyNotFoundException">The job has no such execution.</exception>
    public Task<ExecutionState> GetExecutionAsync(string name, string executionId, CancellationToken cancellationToken = default) =>
        RepeatableAsync(() => Job(name).GetExecutionAsync(executionId), cancellationToken);

    /// <summary>A page of the executions not finished: running first, then waiting, earliest due first.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The skip is negative, or the count is not between 0 and 1,000.</exception>
    public Task<IReadOnlyList<ExecutionState>> GetPendingAsync(string name, int skip, int count, CancellationToken cancellationToken = default) =>
        RepeatableAsync(() => Job(name).GetPendingAsync(skip, count), cancellationToken);

    /// <summary>The names of all defined jobs, in ordinal order (read from the catalog in pages).</summary>
    public async Task<IReadOnlyList<string>> ListAsync(CancellationToken cancellationToken = default)
    {
        var names = new List<string>();
        while (true)
        {
            var page = await ListAsync(names.Count == 0 ? null : names[^1], IJobCatalogGrain.MaxPageSize, cancellationToken);
            names.AddRange(page);
            if (page.Count < IJobCatalogGrain.MaxPageSize)
            {
                return names;
            }
        }
    }

    /// <summary>
    /// Up to <paramref name="count"/> names of defined jobs that sort after <paramref name="after"/> in ordinal order
    /// (from the first with null); a page shorter than asked for is the last.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The count is not between 1 and <see cref="IJobCatalogGrain.MaxPageSize"/>.</exception>
    public Task<IReadOnlyList<string>> ListAsync(string? after, int count, CancellationToken cancellationToken = default)
    {
        if (count is < 1 or > IJobCatalogGrain.MaxPageSize)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, $"A page of job names holds 1 to {IJobCatalogGrain.MaxPageSize} names; {count} were asked for.");
        }

        return RepeatableAsync(() => _grains.GetGrain<IJobCatalogGrain>(IJobCatalogGrain.Key).ListAsync(after, count), cancellationToken);
    }

    /// <summary>Waits for an execution's final result, in calls shorter than the response timeout.</summary>
    /// <exception cref="KeyNotFoundException">The job has no such execution.</exception>
    public async Task<JobExecution> WaitAsync(string name, string executionId, CancellationToken cancellationToken = default)
    {
        var job = Job(name);
        while (true)
        {
            if (await RepeatableAsync(() => job.WaitAsync(executionId, s_waitSlice), cancellationToken) is { } done)
            {
                return done;
            }
        }
    }

    private Task<string> AcceptAsync(string name, PerformRequest request, CancellationToken cancellationToken)
    {
        if (request.Problem(_time.GetUtcNow()) is { } problem)
        {
            throw new ArgumentException(problem, nameof(request));
        }

        // A lane lives while performs to its job are under way, and is dropped when it goes idle.
        while (true)
        {
            var lane = _lanes.GetOrAdd(name, static (name, client) => new PerformLane(client.Job(name), idle => client._lanes.TryRemove(new(name, idle))), this);
            if (lane.TryPerform(request) is { } id)
            {
                return id.WaitAsync(cancellationToken);
            }

            // The lane closed and its idle callback has not dropped it yet: drop it here, so the next try makes a new one.
            _lanes.TryRemove(new(name, lane));
        }
    }

    private async Task RepeatableAsync(Func<Task> call, CancellationToken cancellationToken) => await RepeatableAsync(
        async () =>
        {
            await call();
            return true;
        },
        cancellationToken);

    // Cancelling stops the waiting and the repeating; a call already sent may still take effect.
    private async Task<T> RepeatableAsync<T>(Func<Task<T>> call, CancellationToken cancellationToken)
    {
        var giveUpAt = _time.GetUtcNow() + s_retryFor;
        for (var attempt = 0; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                return await call().WaitAsync(cancellationToken);
            }
            catch (Exception ex) when (IsTransient(ex) && !cancellationToken.IsCancellationRequested && _time.GetUtcNow() < giveUpAt)
            {
                await Task.Delay(s_backoff[Math.Min(attempt, s_backoff.Length - 1)], _time, cancellationToken);
            }
        }
    }
}

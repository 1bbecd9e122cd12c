using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Work.Pipeline;
using Work.Placement;

namespace Work.Grains;

/// <summary>
/// Runs executions on its silo. Accepting an order only starts it: the handler runs on the thread pool through the
/// silo's pipeline, a timer renews the leases of what is running, and the result is reported to the job grain, with
/// retries, so an execution may last longer than any grain call. Orders sent ahead (queued) wait in their job's lane
/// and start in the slot of the job's next run that ends here, with no round trip to the job.
/// </summary>
[Reentrant]
[SiloPinnedPlacement]
internal sealed partial class JobExecutorGrain : Grain, IJobExecutorGrain
{
    private const int MaxReportsInFlight = 4;

    private static readonly TimeSpan[] s_reportBackoff =
        [TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5)];

    private readonly ConcurrentDictionary<(string ExecutionId, int Attempt), Running> _running = new();
    private readonly ConcurrentDictionary<string, ReportQueue> _reports = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, JobLane> _lanes = new(StringComparer.Ordinal);

    // Attempts that finished here and that their job has not confirmed as durably recorded: their leases are still
    // renewed, so a job that is unreachable for a while (its silo or directory entry being lost) does not run them
    // again, and they are reported again while no confirmation comes (the job's activation may have died before its
    // write).
    private readonly ConcurrentDictionary<(string ExecutionId, int Attempt), Unconfirmed> _unreported = new();
    private readonly ExecutionEngine _engine;
    private readonly WorkClusterOptions _options;
    private readonly TimeProvider _time;
    private readonly Scheduling.PreciseWakeUps _wakeUps;
    private readonly ConcurrentDictionary<DateTimeOffset, Task> _dueAt = new();
    private readonly ILogger _logger;

    // The silo's factory, not the activation's: reports are sent from the thread pool, outside the activation.
    private readonly IGrainFactory _grains;

    public JobExecutorGrain(
        ExecutionEngine engine,
        IGrainFactory grains,
        IOptions<WorkClusterOptions> options,
        TimeProvider time,
        Scheduling.PreciseWakeUps wakeUps,
        ILogger<JobExecutorGrain> logger)
    {
        _wakeUps = wakeUps;
        _grains = grains;
        _engine = engine;
        _options = options.Value;
        _time = time;
        _logger = logger;
    }

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        this.RegisterGrainTimer(
            static (grain, _) => grain.RenewAsync(),
            this,
            new GrainTimerCreationOptions { DueTime = _options.LeaseRenewPeriod, Period = _options.LeaseRenewPeriod, Interleave = true, KeepAlive = true });
        return Task.CompletedTask;
    }

    public Task ExecuteAsync(IReadOnlyList<ExecutionOrder> orders)
    {
        ArgumentNullException.ThrowIfNull(orders);

        // Orders to start count first: a queued order in the same call waits for them instead of going back.
        List<(Running Running, JobLane Lane)>? starts = null;
        foreach (var order in orders)
        {
            if (!order.Queued && Admit(order) is { } running)
            {
                (starts ??= []).Add((running, StartOn(order.JobName)));
            }
        }

        List<ExecutionOrder>? returned = null;
        foreach (var order in orders)
        {
            if (order.Queued && Admit(order) is { } running && !(_lanes.TryGetValue(order.JobName, out var lane) && lane.TryQueue(running)))
            {
                // None of the job's runs is running here: no slot will come to it.
                Forget(running);
                (returned ??= []).Add(order);
            }
        }

        foreach (var (running, lane) in starts ?? [])
        {
            Launch(running, lane);
        }

        foreach (var group in returned?.GroupBy(o => o.JobName) ?? [])
        {
            _ = ReturnAsync(group.Key, group.ToList());
        }

        return Task.CompletedTask;
    }

    public Task RecallAsync(string jobName)
    {
        if (_lanes.TryGetValue(jobName, out var lane) && lane.TakeWaiting() is { Count: > 0 } waiting)
        {
            waiting.ForEach(Forget);
            _ = ReturnAsync(jobName, waiting.ConvertAll(r => r.Order));
        }

        return Task.CompletedTask;
    }

    public Task ConfirmAsync(string jobName, IReadOnlyList<ExecutionAttempt> attempts)
    {
        ArgumentNullException.ThrowIfNull(attempts);
        foreach (var attempt in attempts)
        {
            _unreported.TryRemove(Key(attempt.ExecutionId, attempt.Attempt), out _);
        }

        return Task.CompletedTask;
    }

    public Task<bool> CancelAsync(string executionId)
    {
        var found = false;
        foreach (var running in _running.Values)
        {
            if (running.Order.ExecutionId != executionId)
            {
                continue;
            }

            found = true;
            if (_lanes.TryGetValue(running.Order.JobName, out var lane) && lane.Remove(running))
            {
                // Still waiting: it goes back unstarted, and the job finishes it as cancelled.
                Forget(running);
                _ = ReturnAsync(running.Order.JobName, [running.Order]);
            }
            else
            {
                running.Cancellation.Cancel();
            }
        }

        return Task.FromResult(found);
    }

    private static (string ExecutionId, int Attempt) Key(string executionId, int attempt) => (executionId, attempt);

    // Takes an order in, or null when the same attempt is already here (running, waiting, or finished and reported).
    private Running? Admit(ExecutionOrder order)
    {
        var key = Key(order.ExecutionId, order.Attempt);
        if (_unreported.ContainsKey(key))
        {
            // The same attempt delivered again after it finished here: its report is on the way.
            return null;
        }

        var running = new Running(order, new CancellationTokenSource());
        if (!_running.TryAdd(key, running))
        {
            // The same attempt delivered twice: it is already here.
            running.Cancellation.Dispose();
            return null;
        }

        return running;
    }

    private void Forget(Running running)
    {
        _running.TryRemove(Key(running.Order.ExecutionId, running.Order.Attempt), out _);
        running.Cancellation.Dispose();
    }

    // The lane of a job with one more run running in it; a lane that closed meanwhile (its last run ended) is replaced.
    private JobLane StartOn(string jobName)
    {
        while (true)
        {
            var lane = _lanes.GetOrAdd(jobName, static name => new JobLane(name));
            if (lane.TryStart())
            {
                return lane;
            }
        }
    }

    // Off the grain's scheduler: the grain stays free and the handler may run as long as it needs.
    private void Launch(Running running, JobLane lane) => _ = Task.Run(() => RunLoopAsync(running, lane));

    // Runs an attempt, then every queued run that takes its slot, reporting each as it ends.
    private async Task RunLoopAsync(Running running, JobLane lane)
    {
        for (Running? current = running; current is not null;)
        {
            var order = current.Order;
            JobExecution execution;
            try
            {
                if (!await DueAsync(current))
                {
                    execution = CancelledBeforeItRan(order);
                }
                else
                {
                    execution = await _engine.Executor.ExecuteAsync(
                        new ExecutionRequest(order.Job, order.ExecutionId, order.Attempt, order.ScheduledAt, order.JobName, null),
                        current.Cancellation.Token);
                }
            }
            catch (Exception ex)
            {
                // Reported as failed, so its slot passes on and the job hears of it.
                LogRunFailed(_logger, ex, order.ExecutionId, order.JobName);
                var now = _time.GetUtcNow();
                execution = new JobExecution
                {
                    ExecutionId = order.ExecutionId,
                    Handler = order.Job.Handler,
                    Queue = order.Job.Queue,
                    Attempt = order.Attempt,
                    Status = JobStatus.InternalError,
                    Error = $"The execution could not be run: {ex.GetType().Name}: {ex.Message}",
                    ErrorType = ex.GetType().FullName,
                    ScheduledAt = order.ScheduledAt,
                    StartedAt = now,
                    FinishedAt = now,
                    Worker = _engine.SiloName,
                };
            }

            var next = lane.Next(_lanes);
            var handedTo = next is null ? null : new ExecutionLease(next.Order.ExecutionId, next.Order.Attempt, next.Order.Lease, _engine.SiloName);

            // Unreported before it stops running, so its lease is renewed without a gap.
            var key = Key(order.ExecutionId, order.Attempt);
            var report = new ExecutionReport(execution, order.Lease, handedTo);
            _unreported[key] = new Unconfirmed(order, report, _time.GetUtcNow());
            _running.TryRemove(key, out _);
            current.Cancellation.Dispose();
            QueueReport(order.JobName, report);
            current = next;
        }
    }

    // A run handed over before its due time (WorkClusterOptions.EarlyHandOver) waits for it on the silo's precise
    // wake-ups, holding its slot; false when it was cancelled meanwhile.
    private async Task<bool> DueAsync(Running running)
    {
        if (running.Order.ScheduledAt <= _time.GetUtcNow())
        {
            return true;
        }

        try
        {
            // Runs due at the same moment share one wake-up.
            var at = running.Order.ScheduledAt;
            var due = _dueAt.GetOrAdd(at, static (time, grain) => grain.WakeUpAt(time), this);
            await due.WaitAsync(running.Cancellation.Token);
            _dueAt.TryRemove(new KeyValuePair<DateTimeOffset, Task>(at, due));
            return true;
        }
        catch (OperationCanceledException) when (running.Cancellation.IsCancellationRequested)
        {
            return false;
        }
    }

    // One wake-up for a due time, forgotten once it has come (also when every run waiting for it was cancelled).
    private Task WakeUpAt(DateTimeOffset time)
    {
        var wake = _wakeUps.WaitUntilAsync(time);
        _ = wake.ContinueWith(
            (done, state) => _dueAt.TryRemove(new KeyValuePair<DateTimeOffset, Task>((DateTimeOffset)state!, done)),
            time,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        return wake;
    }

    // The record of a run cancelled while it waited for its due time: reported like any other, so its slot passes on.
    private JobExecution CancelledBeforeItRan(ExecutionOrder order)
    {
        var now = _time.GetUtcNow();
        return new JobExecution
        {
            ExecutionId = order.ExecutionId,
            Handler = order.Job.Handler,
            Queue = order.Job.Queue,
            Attempt = order.Attempt,
            Status = JobStatus.NoResponse,
            Error = "Cancelled before it ran.",
            ErrorType = Scheduling.JobScheduler.CancelledBeforeRun,
            ScheduledAt = order.ScheduledAt,
            StartedAt = now,
            FinishedAt = now,
            Worker = _engine.SiloName,
        };
    }

    // Queued attempts going back to their job unstarted, tried again like reports; one given up on is left to its
    // lease (it counts as lost and runs again).
    private async Task ReturnAsync(string jobName, List<ExecutionOrder> orders)
    {
        var leases = orders.ConvertAll(o => new ExecutionLease(o.ExecutionId, o.Attempt, o.Lease, _engine.SiloName));
        var giveUpAt = _time.GetUtcNow() + (2 * _options.LeaseDuration);
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await _grains.GetGrain<IJobReportGrain>(jobName).ReturnAsync(_engine.SiloName, leases);
                return;
            }
            catch (Exception ex) when (_time.GetUtcNow() < giveUpAt)
            {
                LogReturnRetry(_logger, ex, leases.Count, jobName);
                await Task.Delay(s_reportBackoff[Math.Min(attempt, s_reportBackoff.Length - 1)], _time);
            }
            catch (Exception ex)
            {
                LogReturnFailed(_logger, ex, leases.Count, jobName);
                return;
            }
        }
    }

    // Reports to one job go in batches, a few on their way at once: what finishes while they are on their way goes in
    // the next. A job answers a report once it counts, and confirms it once it is durable.
    private void QueueReport(string jobName, ExecutionReport report)
    {
        var queue = _reports.GetOrAdd(jobName, static (name, grains) => new ReportQueue(grains.GetGrain<IJobReportGrain>(name)), _grains);
        bool flush;
        lock (queue.Lock)
        {
            queue.Buffer.Add(report);
            flush = queue.Sending < MaxReportsInFlight;
            if (flush)
            {
                queue.Sending++;
            }
        }

        if (flush)
        {
            _ = FlushAsync(jobName, queue);
        }
    }

    private async Task FlushAsync(string jobName, ReportQueue queue)
    {
        while (true)
        {
            List<ExecutionReport> batch;
            lock (queue.Lock)
            {
                if (queue.Buffer.Count == 0)
                {
                    queue.Sending--;
                    return;
                }

                batch = queue.Buffer;
                queue.Buffer = [];
            }

            await ReportAsync(queue.Job, jobName, batch);
        }
    }

    // Retried with backoff for two lease periods: longer than a job stays unreachable while the cluster declares a
    // silo dead, and meanwhile the lease is renewed. A report given up on leaves the attempt to its lease: it is
    // recorded as lost and runs again (an identifiable duplicate).
    private async Task ReportAsync(IJobReportGrain job, string jobName, List<ExecutionReport> reports)
    {
        var giveUpAt = _time.GetUtcNow() + (2 * _options.LeaseDuration);
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await job.ReportAsync(_engine.SiloName, reports);
                foreach (var report in reports)
                {
                    if (_unreported.TryGetValue(Key(report.Execution.ExecutionId, report.Execution.Attempt), out var unconfirmed))
                    {
                        unconfirmed.Answered = true;
                    }
                }

                return;
            }
            catch (Exception ex) when (_time.GetUtcNow() < giveUpAt)
            {
                LogReportRetry(_logger, ex, reports.Count, jobName);
                await Task.Delay(s_reportBackoff[Math.Min(attempt, s_reportBackoff.Length - 1)], _time);
            }
            catch (Exception ex)
            {
                LogReportFailed(_logger, ex, reports.Count, jobName);
                foreach (var report in reports)
                {
                    _unreported.TryRemove(Key(report.Execution.ExecutionId, report.Execution.Attempt), out _);
                }

                return;
            }
        }
    }

    // Reports that were answered but not confirmed within a renew period go again (a report still on its way or being
    // retried is not sent twice); after two lease periods without a confirmation they are left to their leases.
    private void ReportUnconfirmedAgain(DateTimeOffset now)
    {
        foreach (var (key, unconfirmed) in _unreported)
        {
            if (now - unconfirmed.Finished >= 2 * _options.LeaseDuration)
            {
                if (_unreported.TryRemove(key, out _))
                {
                    LogNeverConfirmed(_logger, unconfirmed.Order.JobName, unconfirmed.Order.ExecutionId, unconfirmed.Order.Attempt);
                }
            }
            else if (now - unconfirmed.Finished >= _options.LeaseRenewPeriod && unconfirmed.Answered)
            {
                unconfirmed.Answered = false;
                QueueReport(unconfirmed.Order.JobName, unconfirmed.Report);
            }
        }
    }

    private async Task RenewAsync()
    {
        ReportUnconfirmedAgain(_time.GetUtcNow());
        var byJob = _running.Values.Select(r => r.Order).Concat(_unreported.Values.Select(u => u.Order)).GroupBy(o => o.JobName).ToList();
        await Task.WhenAll(byJob.Select(async group =>
        {
            try
            {
                await _grains.GetGrain<IJobReportGrain>(group.Key).RenewAsync(
                    group.DistinctBy(o => (o.ExecutionId, o.Attempt)).Select(o => new ExecutionLease(o.ExecutionId, o.Attempt, o.Lease, _engine.SiloName)).ToList());
            }
            catch (Exception ex)
            {
                LogRenewFailed(_logger, ex, group.Key);
            }
        }));
    }

    private sealed class Running(ExecutionOrder order, CancellationTokenSource cancellation)
    {
        public ExecutionOrder Order { get; } = order;

        public CancellationTokenSource Cancellation { get; } = cancellation;

        /// <summary>Its place among its job's queued runs while it waits; guarded by the lane's lock.</summary>
        public LinkedListNode<Running>? Waiting { get; set; }
    }

    /// <summary>
    /// One job's runs on this silo: how many run, and the queued runs that take their slots as they end. A queued run
    /// is only kept while one of the job's runs runs here, so every waiting run has a slot coming. The lane closes
    /// (and leaves the silo's map) when its last run ends with nothing waiting.
    /// </summary>
    private sealed class JobLane(string jobName)
    {
        private readonly Lock _lock = new();
        private readonly LinkedList<Running> _waiting = new();
        private int _running;
        private bool _closed;

        /// <summary>One more run starts in a slot of its own; false when the lane closed (use a new one).</summary>
        public bool TryStart()
        {
            lock (_lock)
            {
                if (_closed)
                {
                    return false;
                }

                _running++;
                return true;
            }
        }

        /// <summary>Queues a run to take the slot of the next run that ends; false when none runs here.</summary>
        public bool TryQueue(Running running)
        {
            lock (_lock)
            {
                if (_closed || _running == 0)
                {
                    return false;
                }

                running.Waiting = _waiting.AddLast(running);
                return true;
            }
        }

        /// <summary>A run ended: the first queued run takes its slot, or the slot goes and null is returned.</summary>
        public Running? Next(ConcurrentDictionary<string, JobLane> lanes)
        {
            lock (_lock)
            {
                if (_waiting.First is { } first)
                {
                    _waiting.RemoveFirst();
                    first.Value.Waiting = null;
                    return first.Value;
                }

                if (--_running == 0)
                {
                    _closed = true;
                    lanes.TryRemove(new KeyValuePair<string, JobLane>(jobName, this));
                }

                return null;
            }
        }

        /// <summary>Takes a queued run out; false when it is not waiting (it started, or was taken already).</summary>
        public bool Remove(Running running)
        {
            lock (_lock)
            {
                if (running.Waiting is not { } node)
                {
                    return false;
                }

                _waiting.Remove(node);
                running.Waiting = null;
                return true;
            }
        }

        /// <summary>Takes every queued run out.</summary>
        public List<Running> TakeWaiting()
        {
            lock (_lock)
            {
                var waiting = _waiting.ToList();
                _waiting.Clear();
                waiting.ForEach(r => r.Waiting = null);
                return waiting;
            }
        }
    }

    private sealed class Unconfirmed(ExecutionOrder order, ExecutionReport report, DateTimeOffset finished)
    {
        private volatile bool _answered;

        public ExecutionOrder Order { get; } = order;

        public ExecutionReport Report { get; } = report;

        public DateTimeOffset Finished { get; } = finished;

        /// <summary>The job answered its last report call; false while one is on its way or being retried.</summary>
        public bool Answered
        {
            get => _answered;
            set => _answered = value;
        }
    }

    // One per job: a grain reference costs more to make than a report to send.
    private sealed class ReportQueue(IJobReportGrain job)
    {
        public IJobReportGrain Job { get; } = job;

        public Lock Lock { get; } = new();

        public List<ExecutionReport> Buffer { get; set; } = [];

        /// <summary>Report calls on their way.</summary>
        public int Sending { get; set; }
    }
}

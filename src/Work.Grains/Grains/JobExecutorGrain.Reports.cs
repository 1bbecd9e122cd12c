
namespace Work.Grains;

// Reports to job grains: batched per job, retried, sent again until confirmed; and queued runs given back.
internal sealed partial class JobExecutorGrain
{
    // Queued attempts going back to their job unstarted, tried again like reports; one given up on is left to its
    // lease (it counts as lost and runs again).
    private async Task ReturnAsync(string jobName, List<ExecutionOrder> orders)
    {
        var leases = orders.ConvertAll(o => new ExecutionLease(o.ExecutionId, o.Attempt, o.Lease, _engine.SiloName));
        await TryForAsync(
            () => _grains.GetGrain<IJobReportGrain>(jobName).ReturnAsync(_engine.SiloName, leases),
            ex => LogReturnRetry(_logger, ex, leases.Count, jobName),
            ex => LogReturnFailed(_logger, ex, leases.Count, jobName));
    }

    // Tries a call to a job with backoff for two lease periods: longer than a job stays unreachable while the cluster
    // declares a silo dead. True once it was answered; false when given up on, or at once when this silo's runtime is
    // gone (it stopped: nothing can be sent any more, and the job's lease covers the attempt).
    private async Task<bool> TryForAsync(Func<Task> call, Action<Exception> retrying, Action<Exception> givingUp)
    {
        var giveUpAt = _time.GetUtcNow() + (2 * _options.LeaseDuration);
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await call();
                return true;
            }
            catch (Exception ex) when (_time.GetUtcNow() < giveUpAt && ex is not ObjectDisposedException)
            {
                retrying(ex);
                await Task.Delay(s_reportBackoff[Math.Min(attempt, s_reportBackoff.Length - 1)], _time);
            }
            catch (Exception ex)
            {
                givingUp(ex);
                return false;
            }
        }
    }

    // Reports to one job go in batches, a few on their way at once: what finishes while they are on their way goes in
    // the next. A job answers a report once it counts, and confirms it once it is durable. The report of a run whose
    // slot a queued run took (more: many short runs in a row, such as runs due at once) waits a little for the reports
    // of the runs behind it, up to DeferredReports of them or s_reportDeferral (5 ms), so the job's work on them does not take
    // the cores those runs are starting on, and they go in one batch.
    private void QueueReport(string jobName, ExecutionReport report, bool more = false)
    {
        ReportQueue queue;
        bool flush;
        var later = false;
        while (true)
        {
            queue = _reports.GetOrAdd(jobName, static (name, grains) => new ReportQueue(grains.GetGrain<IJobReportGrain>(name)), _grains);
            lock (queue.Lock)
            {
                if (queue.Dropped)
                {
                    // Dropped by the sweep meanwhile: the next GetOrAdd makes a new one.
                    continue;
                }

                queue.Used = true;
                queue.Buffer.Add(report);
                flush = queue.Sending < MaxReportsInFlight && (!more || queue.Buffer.Count >= DeferredReports);
                if (flush)
                {
                    queue.Sending++;
                }
                else if (more && !queue.FlushAhead)
                {
                    queue.FlushAhead = later = true;
                }

                break;
            }
        }

        if (flush)
        {
            _ = FlushAsync(jobName, queue);
        }
        else if (later)
        {
            _ = FlushLaterAsync(jobName, queue);
        }
    }

    // Sends what waited for the runs behind it once s_reportDeferral has passed, unless a flush took it meanwhile.
    private async Task FlushLaterAsync(string jobName, ReportQueue queue)
    {
        await Task.Delay(s_reportDeferral, _time);
        lock (queue.Lock)
        {
            queue.FlushAhead = false;
            if (queue.Buffer.Count == 0 || queue.Sending >= MaxReportsInFlight)
            {
                // Sent already, or a flush on its way takes it.
                return;
            }

            queue.Sending++;
        }

        await FlushAsync(jobName, queue);
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

    // Meanwhile the lease is renewed. A report given up on leaves the attempt to its lease: it is recorded as lost and
    // runs again (an identifiable duplicate).
    private async Task ReportAsync(IJobReportGrain job, string jobName, List<ExecutionReport> reports)
    {
        var answered = await TryForAsync(
            () => job.ReportAsync(_engine.SiloName, reports),
            ex => LogReportRetry(_logger, ex, reports.Count, jobName),
            ex => LogReportFailed(_logger, ex, reports.Count, jobName));
        foreach (var report in reports)
        {
            var key = Key(report.Execution.ExecutionId, report.Execution.Attempt);
            if (!answered)
            {
                _unreported.TryRemove(key, out _);
            }
            else if (_unreported.TryGetValue(key, out var unconfirmed))
            {
                unconfirmed.Answered = true;
            }
        }

        NoteIfIdle();
    }

    // Drops the queues of jobs that reported nothing since the last sweep, so a silo that ran many jobs once (100,000
    // recurring jobs, say) does not keep a queue for each.
    private void DropIdleReportQueues()
    {
        foreach (var (jobName, queue) in _reports)
        {
            lock (queue.Lock)
            {
                if (queue.Used || queue.Sending > 0 || queue.Buffer.Count > 0 || queue.FlushAhead)
                {
                    queue.Used = false;
                    continue;
                }

                queue.Dropped = true;
            }

            _reports.TryRemove(new KeyValuePair<string, ReportQueue>(jobName, queue));
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
                    NoteIfIdle();
                }
            }
            else if (now - unconfirmed.Finished >= _options.LeaseRenewPeriod && unconfirmed.Answered)
            {
                unconfirmed.Answered = false;
                QueueReport(unconfirmed.Order.JobName, unconfirmed.Report);
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

    // One per job reporting lately: a grain reference costs more to make than a report to send.
    private sealed class ReportQueue(IJobReportGrain job)
    {
        public IJobReportGrain Job { get; } = job;

        public Lock Lock { get; } = new();

        public List<ExecutionReport> Buffer { get; set; } = [];

        /// <summary>A flush is due after s_reportDeferral for reports that wait for the runs behind them.</summary>
        public bool FlushAhead { get; set; }

        /// <summary>Report calls on their way.</summary>
        public int Sending { get; set; }

        /// <summary>A report came since the last sweep.</summary>
        public bool Used { get; set; }

        /// <summary>Taken out by the sweep: a report for the job makes a new queue.</summary>
        public bool Dropped { get; set; }
    }
}

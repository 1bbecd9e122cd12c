using System.Collections.Concurrent;

namespace Work.Grains;

// What runs here: an attempt with its cancellation, and each job's lane of runs and the queued runs waiting for a slot.
internal sealed partial class JobExecutorGrain
{
    private sealed class Running(ExecutionOrder order, CancellationTokenSource cancellation)
    {
        public ExecutionOrder Order { get; } = order;

        public CancellationTokenSource Cancellation { get; } = cancellation;

        private int _started;

        /// <summary>Its place among its job's queued runs while it waits; guarded by the lane's lock.</summary>
        public LinkedListNode<Running>? Waiting { get; set; }

        /// <summary>True when it was started with other runs parked for the same due time.</summary>
        public bool StartedWithOthers { get; set; }

        /// <summary>Signals its token, unless it ended meanwhile (and the token is gone).</summary>
        public void SignalCancel()
        {
            try
            {
                Cancellation.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // It ended meanwhile.
            }
        }

        /// <summary>True the first time only: its loop starts once.</summary>
        public bool TryStart() => Interlocked.Exchange(ref _started, 1) == 0;
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
}

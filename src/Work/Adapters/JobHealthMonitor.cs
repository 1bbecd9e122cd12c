namespace Work.Adapters;

/// <summary>
/// The rolling error rate behind the health adapter. Only 408, 500 and 503 count as errors; the state is unhealthy
/// when at least <see cref="HealthAdapterOptions.MinimumCount"/> executions are counted and the rate is above
/// <see cref="HealthAdapterOptions.Threshold"/>.
/// </summary>
public sealed class JobHealthMonitor
{
    private const int WindowBuckets = 10;

    private readonly HealthAdapterOptions _options;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();

    // LastN: a ring of outcomes.
    private readonly bool[] _ring;
    private int _ringNext;
    private int _ringCount;
    private int _ringErrors;

    // TimeWindow: fixed buckets, each a tenth of the window.
    private readonly long[] _bucketStart;
    private readonly int[] _bucketTotal;
    private readonly int[] _bucketErrors;
    private readonly long _bucketTicks;

    /// <summary>Creates a monitor with validated options.</summary>
    /// <exception cref="ArgumentException">The options are not valid; the message lists every problem.</exception>
    public JobHealthMonitor(HealthAdapterOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = options.Validate();
        if (failures.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", failures), nameof(options));
        }

        _options = options;
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _ring = new bool[options.Mode == HealthMode.LastN ? options.LastN : 0];
        _bucketStart = new long[WindowBuckets];
        _bucketTotal = new int[WindowBuckets];
        _bucketErrors = new int[WindowBuckets];
        _bucketTicks = Math.Max(1, options.Window.Ticks / WindowBuckets);
        Array.Fill(_bucketStart, long.MinValue);
    }

    /// <summary>The options in force.</summary>
    public HealthAdapterOptions Options => _options;

    /// <summary>Counts one finished execution.</summary>
    public void Record(JobStatus status)
    {
        var isError = status.IsServerError();
        lock (_lock)
        {
            if (_options.Mode == HealthMode.LastN)
            {
                if (_ringCount == _ring.Length)
                {
                    _ringErrors -= _ring[_ringNext] ? 1 : 0;
                }
                else
                {
                    _ringCount++;
                }

                _ring[_ringNext] = isError;
                _ringErrors += isError ? 1 : 0;
                _ringNext = (_ringNext + 1) % _ring.Length;
            }
            else
            {
                var slot = CurrentBucket(out var start);
                if (_bucketStart[slot] != start)
                {
                    _bucketStart[slot] = start;
                    _bucketTotal[slot] = 0;
                    _bucketErrors[slot] = 0;
                }

                _bucketTotal[slot]++;
                _bucketErrors[slot] += isError ? 1 : 0;
            }
        }
    }

    /// <summary>The counts now.</summary>
    public JobHealthSnapshot GetSnapshot()
    {
        lock (_lock)
        {
            int total;
            int errors;
            if (_options.Mode == HealthMode.LastN)
            {
                total = _ringCount;
                errors = _ringErrors;
            }
            else
            {
                CurrentBucket(out var current);
                var oldest = current - ((WindowBuckets - 1) * _bucketTicks);
                total = 0;
                errors = 0;
                for (var i = 0; i < WindowBuckets; i++)
                {
                    if (_bucketStart[i] >= oldest && _bucketStart[i] <= current)
                    {
                        total += _bucketTotal[i];
                        errors += _bucketErrors[i];
                    }
                }
            }

            var rate = total == 0 ? 0 : (double)errors / total;
            var healthy = total < _options.MinimumCount || rate <= _options.Threshold;
            return new JobHealthSnapshot(healthy, total, errors, rate);
        }
    }

    private int CurrentBucket(out long start)
    {
        var ticks = _time.GetUtcNow().UtcTicks;
        var index = ticks / _bucketTicks;
        start = index * _bucketTicks;
        return (int)(index % WindowBuckets);
    }
}

/// <summary>The health counts at one moment.</summary>
/// <param name="IsHealthy">False when the error rate is above the threshold with enough executions counted.</param>
/// <param name="Total">Executions counted.</param>
/// <param name="Errors">Of those, the ones that ended as 408, 500 or 503.</param>
/// <param name="ErrorRate">Errors divided by total (0 when none are counted).</param>
public readonly record struct JobHealthSnapshot(bool IsHealthy, int Total, int Errors, double ErrorRate);

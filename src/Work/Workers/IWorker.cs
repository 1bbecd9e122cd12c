using System.Threading.Channels;
using Work.Pipeline;

namespace Work.Workers;

/// <summary>
/// Performs jobs (go-work's <c>Worker</c>): now, waiting for the result or not; at a time; after a delay; every
/// interval; or for every item received from a source. Call <see cref="StartAsync"/> first and
/// <see cref="StopAsync"/> when done: performing before start or after stop is an error.
/// </summary>
public interface IWorker : IAsyncDisposable
{
    /// <summary>The worker's name, reported as <see cref="JobExecution.Worker"/>.</summary>
    string Name { get; }

    /// <summary>The worker's clock.</summary>
    TimeProvider TimeProvider { get; }

    /// <summary>True between <see cref="StartAsync"/> and <see cref="StopAsync"/>.</summary>
    bool IsRunning { get; }

    /// <summary>Starts accepting jobs.</summary>
    /// <exception cref="InvalidOperationException">The worker was already started or has been stopped.</exception>
    Task StartAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Stops: cancels future runs (pending one-shots, recurring and receive loops), signals in-flight executions'
    /// tokens and waits for them, bounded by the shutdown timeout. Safe to call more than once.
    /// </summary>
    Task StopAsync(CancellationToken cancellationToken = default);

    /// <summary>Registers a handler with this worker.</summary>
    /// <exception cref="ArgumentException">The name is empty or already registered.</exception>
    /// <exception cref="ArgumentNullException">The handler is null.</exception>
    void Register(string name, JobHandler handler);

    /// <summary>Performs the job now and returns the finished execution (go-work's Perform with sync).</summary>
    Task<JobExecution> PerformAsync(Job job, PerformOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Accepts the job to perform as soon as a slot is free and returns its execution id (go-work's Perform, async).</summary>
    ValueTask<string> EnqueueAsync(Job job, PerformOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Performs the job once at <paramref name="time"/>; a time in the past performs it now. Returns the execution id.</summary>
    /// <exception cref="ArgumentException"><paramref name="time"/> is the default value.</exception>
    ValueTask<string> PerformAtAsync(Job job, DateTimeOffset time, CancellationToken cancellationToken = default);

    /// <summary>Performs the job once after <paramref name="delay"/>. Returns the execution id.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delay"/> is not positive.</exception>
    ValueTask<string> PerformInAsync(Job job, TimeSpan delay, CancellationToken cancellationToken = default);

    /// <summary>Cancels a pending <see cref="PerformAtAsync"/> or <see cref="PerformInAsync"/>; false when it already fired or is unknown.</summary>
    bool CancelScheduled(string executionId);

    /// <summary>
    /// Performs the job every <paramref name="interval"/> on a fixed grid from now (no drift). With
    /// <see cref="EveryOptions.Sync"/> runs never overlap and ticks that come while a run is going are skipped and counted.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="interval"/> is not positive.</exception>
    JobLoop PerformEvery(Job job, TimeSpan interval, EveryOptions? options = null);

    /// <summary>
    /// Performs the job once for every item read from <paramref name="source"/>, the item in <see cref="JobContext.Item"/>.
    /// Several loops, also of several workers, may read one source: each item goes to exactly one execution.
    /// The loop ends when the source completes and its executions have finished.
    /// </summary>
    JobLoop PerformReceive<T>(Job job, ChannelReader<T> source, ReceiveOptions? options = null);

    /// <summary>As <see cref="PerformReceive{T}(Job, ChannelReader{T}, ReceiveOptions?)"/>, reading an async sequence.</summary>
    JobLoop PerformReceive<T>(Job job, IAsyncEnumerable<T> source, ReceiveOptions? options = null);
}

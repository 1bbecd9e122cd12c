using System.Collections.Concurrent;
using System.Threading.Channels;
using Work.Pipeline;

namespace Work.Cluster.Tests;

/// <summary>
/// The test handler "probe", shared by the in-process silos and the tests: each test run (arg "run") gets a board
/// that records executions, where they ran, and how many ran at once.
/// </summary>
internal static class Probe
{
    public const string Handler = "probe";

    private static readonly ConcurrentDictionary<string, Board> s_boards = new(StringComparer.Ordinal);

    public static Board NewBoard() => s_boards.GetOrAdd(Guid.NewGuid().ToString("N"), id => new Board(id));

    /// <summary>
    /// The probe's arguments: it runs for <paramref name="ms"/>, or, for its first <paramref name="held"/> attempts, until
    /// the board's gate opens (or its token is cancelled); then it fails or sets <paramref name="status"/>.
    /// </summary>
    public static JobArgs Args(Board board, int ms = 0, int? status = null, bool fail = false, bool ignoreCancel = false, int held = 0) =>
        JobArgs.From(new { run = board.Id, ms, status, fail, ignoreCancel, held });

    public static async Task HandleAsync(JobContext context)
    {
        var board = s_boards[context.Args.Get<string>("run")];
        var now = board.Enter(context);
        try
        {
            var ms = context.Args.GetOrDefault("ms", 0);
            if (context.Attempt <= context.Args.GetOrDefault("held", 0))
            {
                try
                {
                    await board.Gate.Task.WaitAsync(context.CancellationToken);
                }
                catch (OperationCanceledException)
                {
                    Interlocked.Increment(ref board.Cancelled);
                    throw;
                }
            }
            else if (ms > 0)
            {
                await Task.Delay(ms, context.Args.GetOrDefault("ignoreCancel", false) ? CancellationToken.None : context.CancellationToken);
            }

            if (context.Args.GetOrDefault("fail", false))
            {
                throw new InvalidOperationException($"probe failed on purpose (attempt {context.Attempt})");
            }

            if (context.Args.GetOrDefault<int?>("status", null) is { } status)
            {
                context.Status = (JobStatus)status;
            }
        }
        finally
        {
            board.Leave(context);
        }
    }

    internal sealed class Board(string id)
    {
        private int _running;
        private int _max;

        public string Id { get; } = id;

        public ConcurrentQueue<ProbeStart> Started { get; } = new();

        public Channel<ProbeStart> Starts { get; } = Channel.CreateUnbounded<ProbeStart>();

        public int Finished;

        /// <summary>Held runs whose tokens were cancelled while they waited for the gate.</summary>
        public int Cancelled;

        /// <summary>Held runs wait for it (<see cref="Args"/>).</summary>
        public TaskCompletionSource Gate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int MaxConcurrent => Volatile.Read(ref _max);

        public int Running => Volatile.Read(ref _running);

        /// <summary>Starts counting the most runs at once from those running now.</summary>
        public void ResetMax() => Volatile.Write(ref _max, Volatile.Read(ref _running));

        public int Enter(JobContext context)
        {
            var now = Interlocked.Increment(ref _running);
            var seen = Volatile.Read(ref _max);
            while (now > seen && Interlocked.CompareExchange(ref _max, now, seen) != seen)
            {
                seen = Volatile.Read(ref _max);
            }

            var entry = new ProbeStart(context.ExecutionId, context.Attempt, context.Worker, context.ScheduledAt, context.StartedAt, context.Job.TraceParent);
            Started.Enqueue(entry);
            Starts.Writer.TryWrite(entry);
            return now;
        }

        public void Leave(JobContext context)
        {
            Interlocked.Decrement(ref _running);
            Interlocked.Increment(ref Finished);
        }

        public async Task<ProbeStart> NextStartAsync() =>
            await Starts.Reader.ReadAsync().AsTask().WaitAsync(ClusterFixture.SafetyBound);
    }
}

/// <summary>One execution as the probe saw it start.</summary>
internal sealed record ProbeStart(string ExecutionId, int Attempt, string Silo, DateTimeOffset Scheduled, DateTimeOffset Started, string? TraceParent);

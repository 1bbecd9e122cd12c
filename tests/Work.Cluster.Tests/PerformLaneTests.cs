using System.Diagnostics;
using Work.Client;

namespace Work.Cluster.Tests;

/// <summary>How a client's performs to one job share calls, against a job that answers when the test says so.</summary>
public sealed class PerformLaneTests
{
    [Fact]
    public async Task APerformAloneIsSentAtOnceAndThoseArrivingMeanwhileGoTogetherInOrder()
    {
        var job = new HeldJob();
        var lane = new PerformLane(job);

        var first = lane.TryPerform(PerformRequest.Now(JobArgs.Empty.With("n", 0)))!;
        var call = await job.Calls.Reader.ReadAsync().AsTask().WaitAsync(ClusterFixture.SafetyBound);
        var rest = Enumerable.Range(1, 50).Select(n => lane.TryPerform(PerformRequest.Now(JobArgs.Empty.With("n", n)))!).ToList();
        call.Answer.SetResult(["id-0"]);
        var second = await job.Calls.Reader.ReadAsync().AsTask().WaitAsync(ClusterFixture.SafetyBound);
        second.Answer.SetResult(second.Requests.Select(r => $"id-{r.Args!.Get<int>("n")}").ToList());

        Assert.Single(call.Requests);
        Assert.Equal("id-0", await first);
        Assert.Equal(Enumerable.Range(1, 50), second.Requests.Select(r => r.Args!.Get<int>("n")));
        Assert.Equal(Enumerable.Range(1, 50).Select(n => $"id-{n}"), await Task.WhenAll(rest));
        Assert.False(job.Calls.Reader.TryRead(out _));
    }

    [Fact]
    public async Task AFailedCallFailsEveryPerformInItAndTheNextCallStillGoes()
    {
        var job = new HeldJob();
        var lane = new PerformLane(job);

        var first = lane.TryPerform(PerformRequest.Now())!;
        var call = await job.Calls.Reader.ReadAsync().AsTask().WaitAsync(ClusterFixture.SafetyBound);
        var queued = new[] { lane.TryPerform(PerformRequest.Now())!, lane.TryPerform(PerformRequest.Now())! };
        call.Answer.SetResult(["a"]);
        var second = await job.Calls.Reader.ReadAsync().AsTask().WaitAsync(ClusterFixture.SafetyBound);
        second.Answer.SetException(new InvalidOperationException("Job 'x' is not started: start it before performing it."));
        var errors = await Task.WhenAll(queued.Select(q => Assert.ThrowsAsync<InvalidOperationException>(() => q)));
        // The lane may have gone idle and closed meanwhile; the client then opens another.
        var later = (lane.TryPerform(PerformRequest.Now()) ?? new PerformLane(job).TryPerform(PerformRequest.Now()))!;
        var third = await job.Calls.Reader.ReadAsync().AsTask().WaitAsync(ClusterFixture.SafetyBound);
        third.Answer.SetResult(["b"]);

        Assert.Equal("a", await first);
        Assert.Equal(2, second.Requests.Count);
        Assert.All(errors, e => Assert.Contains("not started", e.Message, StringComparison.Ordinal));
        Assert.Equal("b", await later);
    }

    [Fact]
    public async Task EachPerformCarriesItsCallersTraceContext()
    {
        var job = new HeldJob();
        var lane = new PerformLane(job);
        var blocker = lane.TryPerform(PerformRequest.Now())!;
        var call = await job.Calls.Reader.ReadAsync().AsTask().WaitAsync(ClusterFixture.SafetyBound);

        var traced = new List<(Activity Request, Task<string> Id)>();
        for (var i = 0; i < 2; i++)
        {
            var request = new Activity($"request {i}").SetIdFormat(ActivityIdFormat.W3C).Start();
            traced.Add((request, lane.TryPerform(PerformRequest.Now())!));
            request.Stop();
        }

        call.Answer.SetResult(["blocker"]);
        var shared = await job.Calls.Reader.ReadAsync().AsTask().WaitAsync(ClusterFixture.SafetyBound);
        shared.Answer.SetResult(["one", "two"]);
        await Task.WhenAll(traced.Select(t => t.Id));

        Assert.Null(Assert.Single(call.Requests).TraceParent);
        Assert.Equal(traced.Select(t => t.Request.Id), shared.Requests.Select(r => r.TraceParent));
        Assert.NotEqual(shared.Requests[0].TraceParent, shared.Requests[1].TraceParent);
        Assert.Equal("blocker", await blocker);
    }

    [Fact]
    public async Task AnIdleLaneClosesAndTellsItsOwner()
    {
        var job = new HeldJob();
        var closed = new TaskCompletionSource<PerformLane>(TaskCreationOptions.RunContinuationsAsynchronously);
        var lane = new PerformLane(job, idle => closed.TrySetResult(idle));

        var first = lane.TryPerform(PerformRequest.Now())!;
        (await job.Calls.Reader.ReadAsync().AsTask().WaitAsync(ClusterFixture.SafetyBound)).Answer.SetResult(["a"]);

        Assert.Equal("a", await first);
        Assert.Same(lane, await closed.Task.WaitAsync(ClusterFixture.SafetyBound));
        Assert.True(lane.Closed);
        Assert.Null(lane.TryPerform(PerformRequest.Now()));
    }

    /// <summary>A job whose PerformMany calls wait until the test answers them; every other call is not expected.</summary>
    private sealed class HeldJob : IConcurrentJobGrain
    {
        public System.Threading.Channels.Channel<HeldCall> Calls { get; } = System.Threading.Channels.Channel.CreateUnbounded<HeldCall>();

        public Task<IReadOnlyList<string>> PerformManyAsync(IReadOnlyList<PerformRequest> requests)
        {
            var call = new HeldCall(requests, new TaskCompletionSource<IReadOnlyList<string>>(TaskCreationOptions.RunContinuationsAsynchronously));
            Calls.Writer.TryWrite(call);
            return call.Answer.Task;
        }

        public Task DefineAsync(JobDefinition definition) => throw new NotSupportedException();

        public Task StartAsync() => throw new NotSupportedException();

        public Task StopAsync() => throw new NotSupportedException();

        public Task<string> EnqueueAsync(JobArgs? args = null) => throw new NotSupportedException();

        public Task<string> PerformAtAsync(DateTimeOffset time, JobArgs? args = null) => throw new NotSupportedException();

        public Task<string> PerformInAsync(TimeSpan delay, JobArgs? args = null) => throw new NotSupportedException();

        public Task PerformEveryAsync(TimeSpan interval, bool sync = false) => throw new NotSupportedException();

        public Task<JobExecution?> WaitAsync(string executionId, TimeSpan maxWait) => throw new NotSupportedException();

        public Task<int> CancelAsync(string? executionId = null) => throw new NotSupportedException();

        public Task<JobInfo> GetInfoAsync() => throw new NotSupportedException();

        public Task<IReadOnlyList<JobExecution>> GetHistoryAsync(int count = 20) => throw new NotSupportedException();

        public Task<IReadOnlyList<JobExecution>> GetHistoryAsync(int skip, int count) => throw new NotSupportedException();

        public Task<ExecutionState> GetExecutionAsync(string executionId) => throw new NotSupportedException();

        public Task PerformCronAsync(string cron, string? timeZone = null, bool sync = false) => throw new NotSupportedException();

        public Task<IReadOnlyList<ExecutionState>> GetPendingAsync(int skip, int count) => throw new NotSupportedException();

        public Task DeleteAsync() => throw new NotSupportedException();
    }

    private sealed record HeldCall(IReadOnlyList<PerformRequest> Requests, TaskCompletionSource<IReadOnlyList<string>> Answer);
}

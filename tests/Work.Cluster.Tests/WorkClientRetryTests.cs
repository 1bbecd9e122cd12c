using System.Reflection;
using Work.Client;

namespace Work.Cluster.Tests;

/// <summary>What WorkClient repeats when the cluster is momentarily unreachable, and what it never repeats.</summary>
public sealed class WorkClientRetryTests
{
    [Fact]
    public async Task RepeatableCallsGoThroughOnceTheClusterAnswersAgain()
    {
        var job = FlakyJob.Create(failures: 3);
        var time = new InstantTime();
        var client = new WorkClient(FakeGrains.Create(job), time);

        var info = await client.GetInfoAsync("mail");

        Assert.Equal("mail", info.Name);
        Assert.Equal(4, ((FlakyJob)(object)job).Calls);
    }

    [Fact]
    public async Task AcceptingCallsAreNeverRepeated()
    {
        var job = FlakyJob.Create(failures: 1);
        var client = new WorkClient(FakeGrains.Create(job), new InstantTime());

        await Assert.ThrowsAsync<SiloUnavailableException>(() => client.EnqueueAsync("mail"));

        Assert.Equal(1, ((FlakyJob)(object)job).Calls);
    }

    [Fact]
    public async Task RepeatsStopAfterThirtySeconds()
    {
        var job = FlakyJob.Create(failures: int.MaxValue);
        var time = new InstantTime();
        var client = new WorkClient(FakeGrains.Create(job), time);
        var start = time.GetUtcNow();

        await Assert.ThrowsAsync<SiloUnavailableException>(() => client.GetInfoAsync("mail"));

        // Backoff 0.1, 0.25, 0.5, 1 s, then 2 s: the first call failing at or after 30 s ends it, at 31.85 s.
        Assert.Equal(TimeSpan.FromSeconds(31.85), time.GetUtcNow() - start);
        Assert.Equal(20, ((FlakyJob)(object)job).Calls);
    }

    [Fact]
    public async Task ErrorsAboutTheRequestAreNotRepeated()
    {
        var job = FlakyJob.Create(failures: 0, error: new KeyNotFoundException("no such execution"));
        var client = new WorkClient(FakeGrains.Create(job), new InstantTime());

        await Assert.ThrowsAsync<KeyNotFoundException>(() => client.WaitAsync("mail", "x"));

        Assert.Equal(1, ((FlakyJob)(object)job).Calls);
    }

    /// <summary>A clock whose timers fire at once, moving the time on by their due time: waits take no real time.</summary>
    private sealed class InstantTime : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        private readonly Lock _lock = new();

        public override DateTimeOffset GetUtcNow()
        {
            lock (_lock)
            {
                return _now;
            }
        }

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            if (dueTime != Timeout.InfiniteTimeSpan)
            {
                lock (_lock)
                {
                    _now += dueTime;
                }

                ThreadPool.QueueUserWorkItem(_ => callback(state));
            }

            return new Fired();
        }

        private sealed class Fired : ITimer
        {
            public bool Change(TimeSpan dueTime, TimeSpan period) => false;

            public void Dispose()
            {
            }

            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }

    /// <summary>A job grain that is unreachable for its first calls, then answers (or fails with an error of its own).</summary>
    public class FlakyJob : DispatchProxy
    {
        private int _failures;
        private Exception? _error;

        public int Calls { get; private set; }

        public static IConcurrentJobGrain Create(int failures, Exception? error = null)
        {
            var job = DispatchProxy.Create<IConcurrentJobGrain, FlakyJob>();
            var flaky = (FlakyJob)(object)job;
            flaky._failures = failures;
            flaky._error = error;
            return job;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            Calls++;
            if (Calls <= _failures)
            {
                return Fail(targetMethod!, new SiloUnavailableException("the silo is gone"));
            }

            if (_error is not null)
            {
                return Fail(targetMethod!, _error);
            }

            return targetMethod!.Name switch
            {
                nameof(IConcurrentJobGrain.GetInfoAsync) => Task.FromResult(new JobInfo { Name = "mail" }),
                nameof(IConcurrentJobGrain.EnqueueAsync) => Task.FromResult("id"),
                _ => throw new NotSupportedException(targetMethod.Name),
            };
        }

        private static object Fail(MethodInfo method, Exception error)
        {
            var result = method.ReturnType.GetGenericArguments().Single();
            var source = Activator.CreateInstance(typeof(TaskCompletionSource<>).MakeGenericType(result))!;
            source.GetType().GetMethod(nameof(TaskCompletionSource<object>.SetException), [typeof(Exception)])!.Invoke(source, [error]);
            return source.GetType().GetProperty(nameof(TaskCompletionSource<object>.Task))!.GetValue(source)!;
        }
    }

    /// <summary>A grain factory that hands out one job grain.</summary>
    public class FakeGrains : DispatchProxy
    {
        private IConcurrentJobGrain _job = null!;

        public static IGrainFactory Create(IConcurrentJobGrain job)
        {
            var grains = DispatchProxy.Create<IGrainFactory, FakeGrains>();
            ((FakeGrains)(object)grains)._job = job;
            return grains;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) =>
            targetMethod is { Name: nameof(IGrainFactory.GetGrain), IsGenericMethod: true } && targetMethod.GetGenericArguments()[0] == typeof(IConcurrentJobGrain)
                ? _job
                : throw new NotSupportedException(targetMethod?.Name);
    }
}

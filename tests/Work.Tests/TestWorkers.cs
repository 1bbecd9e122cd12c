using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Work.Hosting;
using Work.Workers;

namespace Work.Tests;

/// <summary>Builds workers the way an application does: through the service collection.</summary>
internal sealed class TestWorkers : IAsyncDisposable
{
    private readonly List<IWorker> _workers = [];

    public TestWorkers(Action<IWorkBuilder>? configure = null, TimeProvider? time = null, Action<IServiceCollection>? services = null)
    {
        Time = time ?? new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var collection = new ServiceCollection();
        collection.AddSingleton(Time);
        collection.AddWork(configure);
        services?.Invoke(collection);
        Services = collection.BuildServiceProvider();
        Factory = Services.GetRequiredService<IWorkerFactory>();
    }

    public TimeProvider Time { get; }

    public FakeTimeProvider FakeTime => (FakeTimeProvider)Time;

    public ServiceProvider Services { get; }

    public IWorkerFactory Factory { get; }

    public IWorker Create(string? name = null)
    {
        var worker = Factory.CreateWorker(name);
        _workers.Add(worker);
        return worker;
    }

    public async Task<IWorker> StartAsync(string? name = null)
    {
        var worker = Create(name);
        await worker.StartAsync();
        return worker;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var worker in _workers)
        {
            await worker.DisposeAsync();
        }

        await Services.DisposeAsync();
    }
}

/// <summary>Waits on signals with a generous real-time bound that only guards against a hung test.</summary>
internal static class Signal
{
    public static readonly TimeSpan SafetyBound = TimeSpan.FromSeconds(30);

    public static Task<T> WaitAsync<T>(this TaskCompletionSource<T> source) => source.Task.WaitAsync(SafetyBound);

    public static Task WaitAsync(this TaskCompletionSource source) => source.Task.WaitAsync(SafetyBound);

    public static Task Bounded(this Task task) => task.WaitAsync(SafetyBound);

    public static Task<T> Bounded<T>(this Task<T> task) => task.WaitAsync(SafetyBound);

    public static TaskCompletionSource New() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    public static TaskCompletionSource<T> New<T>() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>Counts down to zero and then completes.</summary>
internal sealed class CountdownSignal(int count)
{
    private readonly TaskCompletionSource _done = Signal.New();
    private int _remaining = count;

    public Task Task => _done.Task;

    public void Hit()
    {
        if (Interlocked.Decrement(ref _remaining) == 0)
        {
            _done.TrySetResult();
        }
    }

    public Task WaitAsync() => _done.Task.WaitAsync(Tests.Signal.SafetyBound);
}

/// <summary>Waits for a condition on the code under test's state, yielding between looks.</summary>
internal static class Eventually
{
    public static async Task TrueAsync(Func<bool> condition, string what)
    {
        var deadline = Environment.TickCount64 + (long)Signal.SafetyBound.TotalMilliseconds;
        while (!condition())
        {
            if (Environment.TickCount64 > deadline)
            {
                throw new TimeoutException($"Still waiting for {what}.");
            }

            await Task.Yield();
        }
    }
}

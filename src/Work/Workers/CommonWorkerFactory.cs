using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Work.Diagnostics;
using Work.Pipeline;

namespace Work.Workers;

/// <summary>Creates <see cref="CommonWorker"/>s with the registered handlers, adapters and options.</summary>
internal sealed class CommonWorkerFactory : IWorkerFactory
{
    private readonly IServiceProvider _services;
    private readonly WorkRegistrations _registrations;
    private readonly IOptions<WorkerOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILoggerFactory _loggers;
    private readonly WorkInstruments _instruments;
    private readonly Lazy<IReadOnlyList<Pipeline.JobAdapter>> _adapters;
    private int _count;

    public CommonWorkerFactory(
        IServiceProvider services,
        WorkRegistrations registrations,
        IOptions<WorkerOptions> options,
        TimeProvider time,
        ILoggerFactory loggers,
        WorkInstruments instruments)
    {
        _services = services;
        _registrations = registrations;
        _options = options;
        _time = time;
        _loggers = loggers;
        _instruments = instruments;
        _adapters = new Lazy<IReadOnlyList<Pipeline.JobAdapter>>(
            () => registrations.Adapters.Select(create => create(services)).ToList());
    }

    public IWorker CreateWorker(string? name = null)
    {
        name ??= $"{Environment.MachineName}/worker-{Interlocked.Increment(ref _count)}";
        return new CommonWorker(
            name,
            _registrations.Handlers.Clone(),
            _adapters.Value,
            _options.Value,
            _time,
            _loggers,
            _services.GetRequiredService<IServiceScopeFactory>(),
            _instruments);
    }
}

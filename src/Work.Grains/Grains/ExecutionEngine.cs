using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Work.Diagnostics;
using Work.Pipeline;

namespace Work.Grains;

/// <summary>
/// The silo's one composed pipeline over the registered handlers and adapters: executors run every execution through
/// it, so a handler behaves the same as in a CommonWorker. Executions report the silo's address as their worker.
/// </summary>
internal sealed class ExecutionEngine
{
    private readonly Lazy<JobExecutor> _executor;

    public ExecutionEngine(
        IServiceProvider services,
        WorkRegistrations registrations,
        ILocalSiloDetails silo,
        TimeProvider time,
        ILoggerFactory loggers,
        WorkInstruments instruments)
    {
        Handlers = registrations.Handlers;
        SiloName = silo.SiloAddress.ToParsableString();
        _executor = new Lazy<JobExecutor>(() => new JobExecutor(
            JobExecutor.BuildPipeline(registrations.Adapters.Select(create => create(services)), Handlers, time, instruments),
            services.GetRequiredService<IServiceScopeFactory>(),
            time,
            loggers,
            SiloName));
    }

    public JobHandlerRegistry Handlers { get; }

    public string SiloName { get; }

    public JobExecutor Executor => _executor.Value;
}

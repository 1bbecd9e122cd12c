using System.Diagnostics;
using Work.Diagnostics;

namespace Work.Grains;

/// <summary>
/// The grain-level middleware: a span and metrics for every call to the job, executor and catalog grains
/// (define, perform, tick, report, execute, reminder ticks). Other grains pass straight through.
/// </summary>
internal sealed class WorkGrainCallFilter(WorkInstruments instruments, TimeProvider time) : IIncomingGrainCallFilter
{
    public async Task Invoke(IIncomingGrainCallContext context)
    {
        if (context.TargetContext?.GrainInstance is not (ConcurrentJobGrain or JobExecutorGrain or JobCatalogGrain))
        {
            await context.Invoke();
            return;
        }

        var start = time.GetTimestamp();
        using var activity = WorkDiagnostics.Source.HasListeners()
            ? WorkDiagnostics.Source.StartActivity($"{context.InterfaceName}/{context.MethodName}", ActivityKind.Server)
            : null;
        activity?.SetTag(WorkDiagnostics.GrainInterfaceTag, context.InterfaceName);
        activity?.SetTag(WorkDiagnostics.GrainMethodTag, context.MethodName);
        activity?.SetTag("work.grain.key", context.TargetId.Key.ToString());
        var tags = new TagList
        {
            { WorkDiagnostics.GrainInterfaceTag, context.InterfaceName },
            { WorkDiagnostics.GrainMethodTag, context.MethodName },
        };
        try
        {
            await context.Invoke();
        }
        catch (Exception ex)
        {
            tags.Add(WorkDiagnostics.ErrorTypeTag, ex.GetType().FullName);
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            throw;
        }
        finally
        {
            instruments.GrainCalls.Add(1, tags);
            instruments.GrainCallDuration.Record(time.GetElapsedTime(start).TotalSeconds, tags);
        }
    }
}

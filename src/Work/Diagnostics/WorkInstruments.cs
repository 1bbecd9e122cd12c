using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Work.Diagnostics;

/// <summary>
/// Every instrument of the <see cref="WorkDiagnostics.MeterName"/> meter, made once from the host's
/// <see cref="IMeterFactory"/>. Names and units follow OpenTelemetry's conventions (durations in seconds).
/// </summary>
public sealed class WorkInstruments
{
    /// <summary>Creates the instruments on a meter from <paramref name="meterFactory"/>.</summary>
    public WorkInstruments(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(WorkDiagnostics.MeterName);
        Executions = meter.CreateCounter<long>(
            "work.job.executions", "{execution}", "Finished executions, by handler, queue and status.");
        Duration = meter.CreateHistogram<double>(
            "work.job.duration", "s", "How long executions ran.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300] });
        Active = meter.CreateUpDownCounter<long>(
            "work.job.active", "{execution}", "Executions running now.");
        Lateness = meter.CreateHistogram<double>(
            "work.job.lateness", "s", "How long after its due time an execution started.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5, 60] });
        Abandoned = meter.CreateCounter<long>(
            "work.job.abandoned", "{execution}", "Handlers still running after their execution ended at its timeout.");
        GrainCalls = meter.CreateCounter<long>(
            "work.grain.calls", "{call}", "Calls to the job and executor grains, by interface, method and outcome.");
        GrainCallDuration = meter.CreateHistogram<double>(
            "work.grain.call.duration", "s", "How long calls to the job and executor grains took.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5] });
        SkippedTicks = meter.CreateCounter<long>(
            "work.job.skipped_ticks", "{tick}", "Recurring ticks skipped because the previous run had not finished or no worker was free.");
    }

    /// <summary>work.job.executions: finished executions.</summary>
    public Counter<long> Executions { get; }

    /// <summary>work.job.duration: execution time in seconds.</summary>
    public Histogram<double> Duration { get; }

    /// <summary>work.job.active: executions in flight.</summary>
    public UpDownCounter<long> Active { get; }

    /// <summary>work.job.lateness: start time minus due time, in seconds.</summary>
    public Histogram<double> Lateness { get; }

    /// <summary>work.job.abandoned: handlers that ignored their timeout.</summary>
    public Counter<long> Abandoned { get; }

    /// <summary>work.grain.calls: grain calls to the scheduler's grains.</summary>
    public Counter<long> GrainCalls { get; }

    /// <summary>work.grain.call.duration: their duration in seconds.</summary>
    public Histogram<double> GrainCallDuration { get; }

    /// <summary>work.job.skipped_ticks: recurring ticks not run.</summary>
    public Counter<long> SkippedTicks { get; }

    internal static TagList JobTags(Job job, string? jobName)
    {
        var tags = new TagList
        {
            { WorkDiagnostics.HandlerTag, job.Handler },
            { WorkDiagnostics.QueueTag, job.Queue },
        };
        if (jobName is not null)
        {
            tags.Add(WorkDiagnostics.JobNameTag, jobName);
        }

        return tags;
    }
}

using Microsoft.Extensions.Logging;
using Orleans.Streams;
using Orleans.Streams.Core;
using Work.Scheduling;

namespace Work.Grains;

/// <summary>The consumer of a job's stream (<see cref="WorkStreams.JobStream"/>), keyed like the job.</summary>
[Alias("work.IJobStreamGrain")]
internal interface IJobStreamGrain : IGrainWithStringKey;

/// <summary>
/// Reads a job's stream on every provider that delivers one (an implicit subscription to
/// <see cref="WorkStreams.Namespace"/>): the items of each delivery (a batch published together, or one item) are
/// handed to the job, which accepts them durably once it has room; until then the delivery does not return, so the
/// provider holds the stream (and, for a durable provider, the items stay in its queue). A delivery that could not be
/// handed over in time fails, and the provider delivers it again.
/// </summary>
[ImplicitStreamSubscription(WorkStreams.Namespace)]
internal sealed partial class JobStreamGrain(ILogger<JobStreamGrain> logger) : Grain, IJobStreamGrain, IStreamSubscriptionObserver
{
    // Calls to the job before a delivery gives up (each waits up to ConcurrentJobGrain.StreamWait for room).
    private const int Asks = 2;

    public async Task OnSubscribed(IStreamSubscriptionHandleFactory handleFactory) =>
        await handleFactory.Create<ItemRequest>().ResumeAsync(new Observer(this, handleFactory.ProviderName));

    private async Task DeliverAsync(string provider, IList<SequentialItem<ItemRequest>> delivered)
    {
        var name = this.GetPrimaryKeyString();
        var items = new List<ClaimedItem>(delivered.Count);
        foreach (var (request, token) in delivered.Select(d => (d.Item, d.Token)))
        {
            // Nothing could run one that is null or invalid: it is logged and passed over, not delivered again forever.
            if (request is null || request.Problem() is not null)
            {
                LogRefused(logger, name, provider, token?.ToString() ?? "", request?.Problem() ?? "it is null.");
                continue;
            }

            items.Add(new ClaimedItem(
                new WorkItem { Source = provider, Id = token?.SequenceNumber ?? 0, Index = token?.EventIndex ?? 0, IdempotencyKey = request.IdempotencyKey },
                request.Args));
        }

        if (items.Count == 0)
        {
            return;
        }

        var job = GrainFactory.GetGrain<IJobReportGrain>(name);
        for (var ask = 0; ask < Asks; ask++)
        {
            if (await job.AcceptStreamItemsAsync(provider, items))
            {
                LogAccepted(logger, name, items.Count, provider);
                return;
            }
        }

        throw new JobNotReadingException($"Job '{name}' took no item from its stream on provider '{provider}' for {(Asks * ConcurrentJobGrain.StreamWait).TotalSeconds:0} seconds: it is not defined, not started, not bound to a stream on that provider, or busy with twice its allowed workers. The items are delivered again.");
    }

    [LoggerMessage(EventId = 2020, Level = LogLevel.Error, Message = "Job {Job} passed over an item of its stream on provider {Provider} at {Token}: {Problem}")]
    private static partial void LogRefused(ILogger logger, string job, string provider, string token, string problem);

    [LoggerMessage(EventId = 2021, Level = LogLevel.Trace, Message = "Job {Job} accepted {Count} items of its stream on provider {Provider}")]
    private static partial void LogAccepted(ILogger logger, string job, int count, string provider);

    private sealed class Observer(JobStreamGrain grain, string provider) : IAsyncBatchObserver<ItemRequest>
    {
        public Task OnNextAsync(IList<SequentialItem<ItemRequest>> items) => grain.DeliverAsync(provider, items);

        public Task OnErrorAsync(Exception ex) => Task.CompletedTask;
    }
}

/// <summary>A job did not take an item its stream delivered in time; the stream provider delivers it again.</summary>
internal sealed class JobNotReadingException(string message) : Exception(message);

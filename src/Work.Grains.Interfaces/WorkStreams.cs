using Orleans.Streams;

namespace Work;

/// <summary>
/// The Orleans streams jobs read (<see cref="ReceiveBinding.FromStream"/>): each job bound to a stream reads the
/// stream in <see cref="Namespace"/> keyed by its name, of <see cref="ItemRequest"/>s (one execution each). Publish
/// with any client or grain that has the provider:
/// <code>await client.GetStreamProvider(WorkStreams.ProviderName).JobStream("orders").OnNextAsync(new ItemRequest { Args = args });</code>
/// </summary>
public static class WorkStreams
{
    /// <summary>The stream namespace of jobs' streams: every stream in it is read by the job its key names.</summary>
    public const string Namespace = "work.jobs";

    /// <summary>
    /// The name of the stream provider the silo adds (<c>Work:Streams</c>): durable on PostgreSQL (Orleans' ADO.NET
    /// streams), in memory otherwise (not durable).
    /// </summary>
    public const string ProviderName = "work";

    /// <summary>The stream the job <paramref name="job"/> reads when it is bound to a stream on this provider.</summary>
    public static IAsyncStream<ItemRequest> JobStream(this IStreamProvider provider, string job)
    {
        ArgumentNullException.ThrowIfNull(provider);
        if (JobLimits.NameProblem(job) is { } problem)
        {
            throw new ArgumentException(problem, nameof(job));
        }

        return provider.GetStream<ItemRequest>(StreamId.Create(Namespace, job));
    }
}

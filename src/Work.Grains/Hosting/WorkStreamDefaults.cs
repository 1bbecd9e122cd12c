using Orleans.Runtime.Providers;
using Orleans.Streams;

namespace Work.Hosting;

/// <summary>How the product's stream providers deliver to jobs' streams (<see cref="WorkStreams"/>).</summary>
internal static class WorkStreamDefaults
{
    /// <summary>
    /// Implicit subscriptions only (a job's stream consumer needs no subscription store); a delivery a job cannot take
    /// yet is tried again, a little later each time up to 2 seconds apart, for as long as it takes (Orleans gives up
    /// after a minute by default, and then a memory stream drops the item), so a stopped or busy job holds its stream
    /// back and loses nothing.
    /// </summary>
    public static void ForJobs(this ISiloPersistentStreamConfigurator streams)
    {
        streams.ConfigureStreamPubSub(StreamPubSubType.ImplicitOnly);
        streams.ConfigurePullingAgent(options => options.Configure(o => o.MaxEventDeliveryTime = Timeout.InfiniteTimeSpan));
        streams.ConfigureComponent<IMessageDeliveryBackoffProvider>(static (_, _) => new DeliveryBackoff());
    }

    private sealed class DeliveryBackoff : IMessageDeliveryBackoffProvider
    {
        private static readonly TimeSpan s_first = TimeSpan.FromMilliseconds(100);
        private static readonly TimeSpan s_most = TimeSpan.FromSeconds(2);

        public TimeSpan Next(int attempt) => attempt >= 5 ? s_most : TimeSpan.FromTicks(Math.Min(s_most.Ticks, s_first.Ticks << attempt));
    }
}

namespace Work.Grains;

/// <summary>
/// The silo's stream provider for jobs bound to a stream (<see cref="ReceiveBinding.FromStream"/>), bound from the
/// <c>Work:Streams</c> configuration section: durable on PostgreSQL (Orleans' ADO.NET streams), in memory on SQLite
/// and memory storage (not durable: items waiting for their job are lost with the silo holding them).
/// </summary>
public sealed class WorkStreamOptions
{
    /// <summary>The configuration section: <c>Work:Streams</c>.</summary>
    public const string SectionName = "Work:Streams";

    /// <summary>Whether the silo adds the provider <see cref="WorkStreams.ProviderName"/> (false by default).</summary>
    public bool Enabled { get; set; }

    /// <summary>
    /// How many queues the provider spreads streams over (8 by default, 1 to 64): each is read by one silo at a time,
    /// and a job that holds its stream back (stopped, or busy) holds back the other streams of its queue once the
    /// reading silo's cache of that queue is full.
    /// </summary>
    public int Partitions { get; set; } = 8;

    /// <summary>
    /// PostgreSQL: how long items a silo read stay hidden from other silos (10 minutes by default, 10 seconds to 1
    /// day). After a silo dies, the items it read and had not handed to their jobs come back after this; an item that
    /// waits in a silo's cache longer than this may be delivered twice.
    /// </summary>
    public TimeSpan Visibility { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// PostgreSQL: how many messages (a message is one item, or a batch published together) a silo keeps read ahead
    /// of each queue it reads (1,024 by default, 64 to 16,384). It reads a tenth of that at a time, every 100 ms, and
    /// confirms what was delivered a tenth at a time: after a silo dies, up to that many delivered messages not yet
    /// confirmed are delivered again. Smaller: fewer repeats after a crash; larger: more messages per second per queue.
    /// </summary>
    public int CacheSize { get; set; } = 1024;

    /// <summary>PostgreSQL: how many reads of an item before it goes to the dead letters undelivered (10 by default, 1 to 1,000).</summary>
    public int MaxDeliveries { get; set; } = 10;

    /// <summary>PostgreSQL: how long an item may wait for its job, and how long dead letters are kept (7 days by default, 1 hour to 365 days).</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Every problem with the options, empty when they are valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var failures = new List<string>();
        if (Partitions is < 1 or > 64)
        {
            failures.Add($"Work:Streams:Partitions must be between 1 and 64; it is {Partitions}.");
        }

        if (Visibility < TimeSpan.FromSeconds(10) || Visibility > TimeSpan.FromDays(1))
        {
            failures.Add($"Work:Streams:Visibility must be between 10 seconds and 1 day; it is {Visibility}.");
        }

        if (CacheSize is < 64 or > 16_384)
        {
            failures.Add($"Work:Streams:CacheSize must be between 64 and 16384; it is {CacheSize}.");
        }

        if (MaxDeliveries is < 1 or > 1000)
        {
            failures.Add($"Work:Streams:MaxDeliveries must be between 1 and 1000; it is {MaxDeliveries}.");
        }

        if (Retention < TimeSpan.FromHours(1) || Retention > TimeSpan.FromDays(365))
        {
            failures.Add($"Work:Streams:Retention must be between 1 hour and 365 days; it is {Retention}.");
        }

        return failures;
    }
}

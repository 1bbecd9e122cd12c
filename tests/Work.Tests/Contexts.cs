using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Work.Pipeline;

namespace Work.Tests;

internal static class Contexts
{
    private static readonly IServiceProvider s_noServices = new ServiceCollection().BuildServiceProvider();

    public static JobContext Create(Job? job = null, string? executionId = null, CancellationToken token = default) =>
        new(job ?? new Job("test"), executionId ?? Guid.NewGuid().ToString("N"), 1, "test-worker", DateTimeOffset.UnixEpoch, s_noServices, NullLogger.Instance, token);
}

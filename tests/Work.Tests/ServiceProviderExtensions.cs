using Microsoft.Extensions.DependencyInjection;
using Work.Diagnostics;

namespace Work.Tests;

internal static class ServiceProviderExtensions
{
    public static WorkInstruments GetInstruments(this IServiceProvider services) => services.GetRequiredService<WorkInstruments>();
}

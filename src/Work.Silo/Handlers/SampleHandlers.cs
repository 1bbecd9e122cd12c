using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Work.Hosting;
using Work.Pipeline;

namespace Work.Silo.Handlers;

/// <summary>
/// Small handlers for trying the product out, for its samples and for benchmarks: <c>noop</c>, <c>echo</c>,
/// <c>sleep</c> and <c>fail</c>.
/// </summary>
public static class SampleHandlers
{
    /// <summary>Does nothing and succeeds.</summary>
    public const string Noop = "noop";

    /// <summary>Logs the number of arguments it got and succeeds; with <c>status</c> set, ends with that status code.</summary>
    public const string Echo = "echo";

    /// <summary>Waits <c>ms</c> milliseconds (default 100) on the host's clock, honouring cancellation.</summary>
    public const string Sleep = "sleep";

    /// <summary>Throws, so the execution ends as 500 (or with the code in <c>status</c>, when it is set).</summary>
    public const string Fail = "fail";

    /// <summary>Registers the sample handlers.</summary>
    public static IWorkBuilder AddSampleHandlers(this IWorkBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder
            .AddHandler(Noop, static _ => Task.CompletedTask)
            .AddHandler(Echo, EchoAsync)
            .AddHandler(Sleep, SleepAsync)
            .AddHandler(Fail, FailAsync);
    }

    private static Task EchoAsync(JobContext context)
    {
        context.Logger.LogEcho(context.Args.Count, context.ExecutionId);
        if (context.Args.TryGet<int>("status", out var status))
        {
            context.Status = (JobStatus)status;
        }

        return Task.CompletedTask;
    }

    private static async Task SleepAsync(JobContext context)
    {
        var ms = context.Args.GetOrDefault("ms", 100);
        var time = context.Services.GetService<TimeProvider>() ?? TimeProvider.System;
        await Task.Delay(TimeSpan.FromMilliseconds(ms), time, context.CancellationToken);
    }

    private static Task FailAsync(JobContext context)
    {
        if (context.Args.TryGet<int>("status", out var status))
        {
            context.Status = (JobStatus)status;
        }

        throw new InvalidOperationException(string.Create(
            CultureInfo.InvariantCulture, $"The fail handler failed on purpose (execution {context.ExecutionId})."));
    }
}

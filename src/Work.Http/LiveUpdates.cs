using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Work.Client;

namespace Work.Http;

/// <summary>
/// Server-sent events for the dashboard: a snapshot every second while the caller listens. A snapshot that cannot be
/// read (a silo going away) is sent as an <c>error</c> event and the stream goes on.
/// </summary>
internal static class LiveUpdates
{
    public const int MaxJobs = 500;
    public const int RecentExecutions = 200;
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(1);

    public static async Task StreamAsync<T>(HttpContext http, Func<CancellationToken, Task<T>> snapshot)
    {
        var time = http.RequestServices.GetService<TimeProvider>() ?? TimeProvider.System;
        var ct = http.RequestAborted;
        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers["X-Accel-Buffering"] = "no";
        using var timer = new PeriodicTimer(Period, time);
        try
        {
            do
            {
                string kind, data;
                try
                {
                    (kind, data) = ("snapshot", JsonSerializer.Serialize(await snapshot(ct), WorkApi.Json));
                }
                catch (Exception ex) when (ex is ArgumentException or KeyNotFoundException || WorkClient.IsTransient(ex))
                {
                    if (ct.IsCancellationRequested)
                    {
                        return;
                    }

                    (kind, data) = ("error", JsonSerializer.Serialize(new { detail = ex.Message }, WorkApi.Json));
                }

                await http.Response.WriteAsync($"event: {kind}\ndata: {data}\n\n", ct);
                await http.Response.Body.FlushAsync(ct);
            }
            while (await timer.WaitForNextTickAsync(ct));
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The caller left.
        }
    }
}

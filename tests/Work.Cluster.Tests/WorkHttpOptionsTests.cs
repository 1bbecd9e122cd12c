using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using Work.Diagnostics;
using Work.Http;

namespace Work.Cluster.Tests;

/// <summary>The HTTP options are checked at start: each problem is named, and anonymous access stays on loopback.</summary>
public sealed class WorkHttpOptionsTests
{
    private static readonly string s_hash = new('a', 64);

    [Fact]
    public void TheDefaultsAreValidAndListenOnLoopbackOnly()
    {
        var options = new WorkHttpOptions();
        Assert.Empty(options.Validate());
        Assert.Equal("http://127.0.0.1:8080", options.Urls);
        Assert.False(options.AllowAnonymous);
    }

    [Theory]
    [InlineData("http://127.0.0.1:8080")]
    [InlineData("http://localhost:8080;http://[::1]:8081")]
    public void AnonymousAccessIsAllowedOnLoopback(string urls) =>
        Assert.Empty(new WorkHttpOptions { Urls = urls, AllowAnonymous = true }.Validate());

    [Theory]
    [InlineData("http://0.0.0.0:8080")]
    [InlineData("http://*:8080")]
    [InlineData("http://127.0.0.1:8080;http://10.0.0.5:8080")]
    public void AnonymousAccessIsRefusedBeyondLoopback(string urls)
    {
        var failure = Assert.Single(new WorkHttpOptions { Urls = urls, AllowAnonymous = true }.Validate());
        Assert.Contains("Work:Http:AllowAnonymous is allowed only on loopback addresses", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryBadSettingIsNamed()
    {
        var options = new WorkHttpOptions
        {
            Urls = "ftp://127.0.0.1:21",
            ApiKeys = [new WorkApiKey { Name = "", Sha256 = "not-hex" }, new WorkApiKey { Name = "ok", Sha256 = s_hash, Role = (WorkRole)7 }],
            Jwt = new WorkJwtOptions { SigningKey = "c2hvcnQ=", RoleClaim = " " },
            MetricSeriesLimit = 0,
        };

        var failures = options.Validate();

        Assert.Contains(failures, f => f.Contains("Work:Http:Urls", StringComparison.Ordinal) && f.Contains("ftp://127.0.0.1:21", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Work:Http:ApiKeys:0:Name", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Work:Http:ApiKeys:0:Sha256", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Work:Http:ApiKeys:1:Role", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Work:Http:Jwt:SigningKey", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Work:Http:Jwt:RoleClaim", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Work:Http:MetricSeriesLimit must be from 1 to 1,000,000; it is 0.", StringComparison.Ordinal));
        Assert.Equal(7, failures.Count);
    }

    [Fact]
    public void AHostWithBadOptionsFailsToStartNamingThem()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Urls"] = "http://0.0.0.0:8080",
            ["AllowAnonymous"] = "true",
            ["ApiKeys:0:Name"] = "ci",
            ["ApiKeys:0:Sha256"] = s_hash,
            ["ApiKeys:0:Role"] = "admin",
        }).Build();

        var error = Assert.Throws<ArgumentException>(() => new ServiceCollection().AddWorkHttp(configuration));

        Assert.Contains("Work:Http", error.Message, StringComparison.Ordinal);
        Assert.Contains("admin", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheProductsInstrumentsKeepNoMoreSeriesThanTheLimitSays()
    {
        var exported = new List<Metric>();
        var services = new ServiceCollection().AddLogging().AddWorkHttp(new WorkHttpOptions { MetricSeriesLimit = 5 });
        using var reader = new BaseExportingMetricReader(new InMemoryExporter<Metric>(exported));
        services.ConfigureOpenTelemetryMeterProvider(metrics => metrics.AddReader(reader));
        using var provider = services.BuildServiceProvider();
        _ = provider.GetRequiredService<MeterProvider>();

        // Twenty jobs' executions, more than the five series the options allow.
        using var meter = new Meter(WorkDiagnostics.MeterName);
        var executions = meter.CreateCounter<long>("work.job.executions.limited");
        for (var i = 0; i < 20; i++)
        {
            executions.Add(1, new KeyValuePair<string, object?>(WorkDiagnostics.JobNameTag, $"job-{i}"));
        }

        Assert.True(reader.Collect());
        var points = new List<MetricPoint>();
        foreach (var point in Assert.Single(exported, m => m.Name == "work.job.executions.limited").GetMetricPoints())
        {
            points.Add(point);
        }

        // Five jobs show one by one; the other fifteen executions are counted together, none lost.
        var overflow = Assert.Single(points, p => Tags(p).ContainsKey("otel.metric.overflow"));
        Assert.Equal(15, overflow.GetSumLong());
        Assert.Equal(5, points.Count(p => Tags(p).ContainsKey(WorkDiagnostics.JobNameTag)));
        Assert.Equal(20, points.Sum(p => p.GetSumLong()));
    }

    private static Dictionary<string, object?> Tags(MetricPoint point)
    {
        var tags = new Dictionary<string, object?>();
        foreach (var tag in point.Tags)
        {
            tags[tag.Key] = tag.Value;
        }

        return tags;
    }
}

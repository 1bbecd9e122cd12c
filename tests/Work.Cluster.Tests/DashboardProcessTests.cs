using System.Text;
using Microsoft.Playwright;

namespace Work.Cluster.Tests;

/// <summary>
/// The dashboard of real Work.Silo processes in headless Chromium: a silo on its SQLite default, and any silo of a
/// 3-silo PostgreSQL cluster showing the whole cluster's jobs and silos.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class DashboardProcessTests
{
    [Fact]
    public async Task TheDashboardOfASiloOnSqliteRunsAJob()
    {
        var folder = Directory.CreateTempSubdirectory("work-dash-").FullName;
        var ports = SiloProcess.FreePorts(2);
        await using var silo = SiloProcess.Start(Path.Combine(folder, "work.db"), ports[0], ports[1]);
        await silo.ReadyAsync();

        var name = await DefineAsync(silo);
        await PerformFromTheDashboardAsync(silo, name, expectedSilos: 1, "sqlite-job-page");
    }

    [Fact]
    public async Task AnySiloOfAPostgresClusterShowsTheClustersJobsAndSilos()
    {
        await using var cluster = PostgresSiloCluster.Start(PostgresServer.Shared.CreateDatabase("dash"), 3);
        await cluster.WaitForActiveAsync(3);
        foreach (var silo in cluster.Silos)
        {
            await silo.ReadyAsync();
        }

        // Defined through the first silo, run from the dashboard of the third.
        var name = await DefineAsync(cluster.Silos[0]);
        await PerformFromTheDashboardAsync(cluster.Silos[2], name, expectedSilos: 3, "cluster-job-page");
    }

    private static async Task<string> DefineAsync(SiloProcess silo)
    {
        var name = ClusterFixture.NewJobName("dash-process");
        using var http = silo.Http();
        foreach (var (method, path, body) in new[]
        {
            (HttpMethod.Put, $"api/jobs/{name}", """{ "job": { "handler": "echo" }, "maxWorkers": 2 }"""),
            (HttpMethod.Post, $"api/jobs/{name}/start", "{}"),
        })
        {
            using var response = await http.SendAsync(new HttpRequestMessage(method, new Uri(path, UriKind.Relative)) { Content = new StringContent(body, Encoding.UTF8, "application/json") });
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        }

        return name;
    }

    private static async Task PerformFromTheDashboardAsync(SiloProcess silo, string name, int expectedSilos, string screenshot)
    {
        var (playwright, browser) = await DashboardTests.LaunchAsync();
        try
        {
            var (page, _) = await DashboardTests.NewPageAsync(browser);
            await page.GotoAsync(new Uri(silo.HttpBase, "dashboard/").ToString());
            await page.FillAsync("#credential", SiloProcess.OperatorKey);
            await page.ClickAsync("#sign-in-form button[type=submit]");
            await Assertions.Expect(page.Locator("#who")).ToHaveTextAsync("test-operator (operator)");
            await Assertions.Expect(page.Locator("#silos li").Filter(new LocatorFilterOptions { HasText = "active" })).ToHaveCountAsync(expectedSilos);

            var row = page.Locator($"#jobs tr[data-job='{name}']");
            await Assertions.Expect(row).ToContainTextAsync("started");
            await row.Locator("a").ClickAsync();
            await page.ClickAsync("#job-actions button[data-action=perform]");
            await Assertions.Expect(page.Locator("#job-message")).ToContainTextAsync("Accepted ");
            var accepted = (await page.Locator("#job-message").TextContentAsync())!["Accepted ".Length..];
            await Assertions.Expect(page.Locator($"#recent tr[data-execution='{accepted}'] td").Nth(1)).ToHaveTextAsync("success");
            await Assertions.Expect(page.Locator("dd[data-fact=Succeeded]")).ToHaveTextAsync("1");
            await DashboardTests.ScreenshotAsync(page, screenshot);

            // The Orleans dashboard is mounted beside it, for the same session.
            Assert.Equal(200, (await page.APIRequest.GetAsync(new Uri(silo.HttpBase, "orleans/").ToString())).Status);
        }
        finally
        {
            await browser.DisposeAsync();
            playwright.Dispose();
        }
    }
}

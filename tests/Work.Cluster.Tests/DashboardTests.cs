using System.Net.Http.Headers;
using System.Text;
using Microsoft.Playwright;

namespace Work.Cluster.Tests;

/// <summary>
/// The dashboard in a real headless Chromium (Debian's, driven by Playwright): sign-in, the live job list, a job's
/// page with its executions and charts, and the operator's buttons, which a reader does not get.
/// </summary>
[Collection(HttpApiCollection.Name)]
public sealed class DashboardTests(HttpApiFixture fixture) : IAsyncLifetime
{
    private const string Chromium = "/usr/bin/chromium";
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(30);
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;

    public async Task InitializeAsync() => (_playwright, _browser) = await LaunchAsync();

    /// <summary>Debian's Chromium, headless, without the background traffic this machine's closed network refuses.</summary>
    internal static async Task<(IPlaywright Playwright, IBrowser Browser)> LaunchAsync()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: install Debian's chromium package (the test command does).");
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        return (playwright, browser);
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
    }

    [Fact]
    public async Task AnOperatorSignsInSeesJobsLivePerformsStopsAndDeletes()
    {
        var name = ClusterFixture.NewJobName("dash");
        await ApiAsync(HttpMethod.Put, $"/api/jobs/{name}", """{ "job": { "handler": "echo" }, "maxWorkers": 3 }""");
        await ApiAsync(HttpMethod.Post, $"/api/jobs/{name}/start");

        var (page, requests) = await NewPageAsync();
        await page.GotoAsync(new Uri(fixture.BaseAddress, "/dashboard/").ToString());

        // A wrong key is refused and says so.
        await page.FillAsync("#credential", "not-a-key");
        await page.ClickAsync("#sign-in-form button[type=submit]");
        await Expect(page.Locator("#sign-in-error")).ToHaveTextAsync("The key or token was not accepted.");

        await page.FillAsync("#credential", HttpApiFixture.OperatorKey);
        await page.ClickAsync("#sign-in-form button[type=submit]");
        await Expect(page.Locator("#who")).ToHaveTextAsync("deployer (operator)");
        var row = page.Locator($"#jobs tr[data-job='{name}']");
        await Expect(row).ToContainTextAsync("started");
        await Expect(row.Locator("td").Nth(2)).ToHaveTextAsync("0 / 3");
        await Expect(page.Locator("#silos li")).ToContainTextAsync(["active"]);

        // A perform from outside shows up live in the list.
        await ApiAsync(HttpMethod.Post, $"/api/jobs/{name}/perform?wait=true", "{}");
        await Expect(row.Locator("td").Nth(5)).ToHaveTextAsync("1");
        await ScreenshotAsync(page, "operator-jobs");

        // The job's page: perform from the button, see it finish in the recent executions and the chart.
        await row.Locator("a").ClickAsync();
        await Expect(page.Locator("#job-name")).ToHaveTextAsync(name);
        await Expect(page.Locator("#job-actions")).ToBeVisibleAsync();
        await page.ClickAsync("#job-actions button[data-action=perform]");
        await Expect(page.Locator("#job-message")).ToContainTextAsync("Accepted ");
        var accepted = (await page.Locator("#job-message").TextContentAsync())!["Accepted ".Length..];
        await Expect(page.Locator($"#recent tr[data-execution='{accepted}'] td").Nth(1)).ToHaveTextAsync("success");
        await Expect(page.Locator("dd[data-fact=Succeeded]")).ToHaveTextAsync("2");
        await Expect(page.Locator("#throughput")).ToHaveAttributeAsync("data-total", "2");
        Assert.Equal(30, await page.Locator("#throughput rect").CountAsync());

        await ScreenshotAsync(page, "operator-job-page");
        await page.ClickAsync("#job-actions button[data-action=stop]");
        await Expect(page.Locator("#job-state")).ToContainTextAsync("stopped");

        // Delete asks first; accepted, the job leaves the list.
        page.Dialog += (_, dialog) => dialog.AcceptAsync();
        await page.ClickAsync("#job-actions button[data-action=delete]");
        await Expect(page.Locator("#overview")).ToBeVisibleAsync();
        await Expect(page.Locator($"#jobs tr[data-job='{name}']")).ToHaveCountAsync(0);

        // Everything the page loaded came from this server.
        lock (requests)
        {
            Assert.All(requests, url => Assert.StartsWith(fixture.BaseAddress.ToString(), url, StringComparison.Ordinal));
        }

        // Signing out ends the session: the API no longer answers the browser.
        await page.ClickAsync("#sign-out");
        await Expect(page.Locator("#sign-in")).ToBeVisibleAsync();
        var after = await page.APIRequest.GetAsync(new Uri(fixture.BaseAddress, "/api/me").ToString());
        Assert.Equal(401, after.Status);
    }

    [Fact]
    public async Task AReaderSeesJobsButNoButtonsAndCannotChangeAnything()
    {
        var name = ClusterFixture.NewJobName("dash-reader");
        await ApiAsync(HttpMethod.Put, $"/api/jobs/{name}", """{ "job": { "handler": "echo" } }""");

        var (page, _) = await NewPageAsync();
        await page.GotoAsync(new Uri(fixture.BaseAddress, $"/dashboard/#/jobs/{name}").ToString());
        await page.FillAsync("#credential", HttpApiFixture.ReaderKey);
        await page.ClickAsync("#sign-in-form button[type=submit]");

        await Expect(page.Locator("#who")).ToHaveTextAsync("dashboard (reader)");
        await Expect(page.Locator("#job-name")).ToHaveTextAsync(name);
        await Expect(page.Locator("#job-state")).ToContainTextAsync("stopped");
        await Expect(page.Locator("#job-actions")).ToBeHiddenAsync();
        await ScreenshotAsync(page, "reader-job-page");

        // The session cookie carries the reader role: a change sent with it is refused.
        var start = await page.APIRequest.PostAsync(new Uri(fixture.BaseAddress, $"/api/jobs/{name}/start").ToString());
        Assert.Equal(403, start.Status);
        var job = await page.APIRequest.GetAsync(new Uri(fixture.BaseAddress, $"/api/jobs/{name}").ToString());
        Assert.Contains("\"started\":false", await job.TextAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task JobNamesAndErrorsAreShownAsTextNotMarkup()
    {
        var name = ClusterFixture.NewJobName("<img src=x onerror=alert(1)>");
        await ApiAsync(HttpMethod.Put, $"/api/jobs/{Uri.EscapeDataString(name)}", """{ "job": { "handler": "fail" } }""");
        await ApiAsync(HttpMethod.Post, $"/api/jobs/{Uri.EscapeDataString(name)}/start");
        await ApiAsync(HttpMethod.Post, $"/api/jobs/{Uri.EscapeDataString(name)}/perform?wait=true", "{}");

        var (page, _) = await NewPageAsync();
        var dialogs = 0;
        page.Dialog += (_, dialog) =>
        {
            dialogs++;
            _ = dialog.DismissAsync();
        };
        await page.GotoAsync(new Uri(fixture.BaseAddress, "/dashboard/").ToString());
        await page.FillAsync("#credential", HttpApiFixture.ReaderKey);
        await page.ClickAsync("#sign-in-form button[type=submit]");
        var row = page.Locator("#jobs tr").Filter(new LocatorFilterOptions { HasText = name });
        await Expect(row).ToHaveCountAsync(1);
        await row.Locator("a").ClickAsync();
        await Expect(page.Locator("#job-name")).ToHaveTextAsync(name);
        await Expect(page.Locator("#recent tbody tr td.error-text")).Not.ToHaveTextAsync("");
        Assert.Equal(0, await page.Locator("img").CountAsync());
        Assert.Equal(0, dialogs);
    }

    private static ILocatorAssertions Expect(ILocator locator) => Assertions.Expect(locator);

    // Kept with the test results (artifacts/test-results/screenshots), to see what the page looked like.
    internal static Task ScreenshotAsync(IPage page, string name) => page.ScreenshotAsync(new PageScreenshotOptions
    {
        Path = Path.Combine(SiloProcess.RepositoryRoot(), "artifacts", "test-results", "screenshots", name + ".png"),
        FullPage = true,
    });

    // A page in a context of its own (its own cookies), and the addresses of every request it makes.
    private Task<(IPage Page, List<string> Requests)> NewPageAsync() => NewPageAsync(_browser);

    internal static async Task<(IPage Page, List<string> Requests)> NewPageAsync(IBrowser browser)
    {
        var context = await browser.NewContextAsync();
        context.SetDefaultTimeout((float)s_bound.TotalMilliseconds);
        Assertions.SetDefaultExpectTimeout((float)s_bound.TotalMilliseconds);
        var page = await context.NewPageAsync();
        var requests = new List<string>();
        page.Request += (_, request) =>
        {
            lock (requests)
            {
                requests.Add(request.Url);
            }
        };
        return (page, requests);
    }

    private async Task ApiAsync(HttpMethod method, string path, string? json = null)
    {
        using var http = fixture.Client(HttpApiFixture.OperatorKey);
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, new MediaTypeHeaderValue("application/json"));
        }

        using var response = await http.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, $"{method} {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }
}

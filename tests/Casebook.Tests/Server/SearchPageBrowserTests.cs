using System.Text.Json.Nodes;
using Casebook.Tests.Search;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Casebook.Tests.Server;

/// <summary>
/// The clinicians' search page in a real browser: Playwright driving Debian's Chromium (/usr/bin/chromium; never a
/// downloaded browser) against the shared demo server. Screenshots of each page go to the test output folder
/// (bin/…/screenshots/). One browser per test run.
/// </summary>
[Collection("demo corpus")]
public partial class SearchPageBrowserTests(DemoCorpusFixture demo, ITestOutputHelper output)
{
    const string Chromium = "/usr/bin/chromium";
    static readonly Lazy<Task<IBrowser>> SharedBrowser = new(LaunchAsync);
    readonly DemoServer server = DemoServer.Shared(demo);

    public static string ScreenshotDir { get; } = Path.Combine(AppContext.BaseDirectory, "screenshots");

    static async Task<IBrowser> LaunchAsync()
    {
        Assertions.SetDefaultExpectTimeout(30_000); // CI machines are slow and shared
        if (!File.Exists(Chromium)) throw new InvalidOperationException($"{Chromium} is missing: run scripts/setup-system.sh (installs Debian's chromium)");
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = Chromium, Headless = true, Args = ["--no-sandbox"] });
        AppDomain.CurrentDomain.ProcessExit += (_, _) => { browser.CloseAsync().Wait(TimeSpan.FromSeconds(10)); playwright.Dispose(); };
        return browser;
    }

    async Task<IPage> SignedInPage(string role)
    {
        var browser = await SharedBrowser.Value;
        var context = await browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = server.BaseUrl.ToString(), ViewportSize = new() { Width = 1280, Height = 900 } });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(60_000);
        await page.GotoAsync("/");
        await Assertions.Expect(page.Locator("#login-view")).ToBeVisibleAsync();
        await page.FillAsync("#api-key", server.Keys[role]);
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.Locator("#search-view")).ToBeVisibleAsync();
        return page;
    }

    static async Task Screenshot(IPage page, string name)
    {
        Directory.CreateDirectory(ScreenshotDir);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDir, $"server-{name}.png"), FullPage = true });
    }

    [Fact]
    public async Task A_wrong_key_is_refused_on_the_sign_in_page()
    {
        var browser = await SharedBrowser.Value;
        var page = await (await browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = server.BaseUrl.ToString() })).NewPageAsync();
        await page.GotoAsync("/");
        await page.FillAsync("#api-key", "cbk_000000000000_nope");
        await page.ClickAsync("#login-form button");
        await Assertions.Expect(page.Locator("#login-error")).ToContainTextAsync("not accepted");
        await Screenshot(page, "sign-in-refused");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Search_with_filters_then_open_a_study_with_its_report_and_history()
    {
        var page = await SignedInPage("clinician");
        await Screenshot(page, "search-empty");
        await page.FillAsync("#q", "pleural effusion");
        await page.SelectOptionAsync("#f-modality", "CR");
        await page.FocusAsync("#q");
        await page.Keyboard.PressAsync("Enter");
        var hits = page.Locator("#results > li");
        await Assertions.Expect(hits.First).ToBeVisibleAsync();
        Assert.Contains("CR", await hits.First.Locator(".meta").InnerTextAsync());
        await Assertions.Expect(hits.First.Locator("mark").First).ToBeVisibleAsync(); // highlighted snippet
        await Assertions.Expect(page.Locator("#results > li img").First).ToBeVisibleAsync(); // thumbnails fetched with the token
        foreach (var meta in await page.Locator("#results .meta").AllInnerTextsAsync()) Assert.StartsWith("CR", meta); // the filter held
        await Screenshot(page, "search-results");

        // Keyboard: focus a study's link and press Enter.
        const string studyId = "DEMO-CR-0001";
        var link = page.Locator($"#results a[href='#/study/{studyId}']");
        await link.FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.Locator("#study-view")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#study-title")).ToHaveTextAsync(studyId);
        await Assertions.Expect(page.Locator("#report .section h3").First).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#history li").First).ToContainTextAsync("version 1");
        await Assertions.Expect(page.Locator("#slice-img")).ToHaveAttributeAsync("src", new System.Text.RegularExpressions.Regex("^blob:"));
        await Screenshot(page, "study");

        // Back to the same results.
        await page.ClickAsync("#back");
        await Assertions.Expect(page.Locator("#results > li").First).ToBeVisibleAsync();
        Assert.Equal("pleural effusion", await page.InputValueAsync("#q"));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Choosing_an_image_lists_similar_cases()
    {
        var page = await SignedInPage("clinician");
        await page.SetInputFilesAsync("#image-file", Path.Combine(demo.CorpusDir, "images", "ct-0006.png"));
        await Assertions.Expect(page.Locator("#search-status")).ToContainTextAsync("similar to ct-0006.png");
        await Assertions.Expect(page.Locator("#results > li h2 a").First).ToHaveTextAsync("DEMO-CT-0006");
        await Screenshot(page, "similar-cases");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Slices_scroll_by_keyboard_wheel_and_slider_and_ct_takes_window_presets()
    {
        var studyId = await IngestSeriesAsync();
        var page = await SignedInPage("clinician");
        await page.FillAsync("#q", "azygoesophageal recess nodule");
        await page.Keyboard.PressAsync("Enter");
        var link = page.Locator($"#results a[href='#/study/{studyId}']");
        await link.ClickAsync();
        await Assertions.Expect(page.Locator("#slice-label")).ToHaveTextAsync("1 / 4");
        var frame = page.Locator("#slice-frame");
        await frame.FocusAsync();
        await page.Keyboard.PressAsync("ArrowDown");
        await page.Keyboard.PressAsync("ArrowDown");
        await Assertions.Expect(frame).ToHaveAttributeAsync("data-slice", "2");
        await Assertions.Expect(page.Locator("#slice-label")).ToHaveTextAsync("3 / 4");
        await page.Keyboard.PressAsync("End");
        await Assertions.Expect(frame).ToHaveAttributeAsync("data-slice", "3");
        await frame.HoverAsync();
        await page.Mouse.WheelAsync(0, -120);
        await Assertions.Expect(frame).ToHaveAttributeAsync("data-slice", "2");
        await page.Locator("#slice-range").FillAsync("0");
        await Assertions.Expect(frame).ToHaveAttributeAsync("data-slice", "0");
        Assert.True(await page.EvalOnSelectorAsync<int>("#slice-img", "img => img.naturalWidth") > 0);
        await Screenshot(page, "slices");

        // The demo's DICOM CT: a window preset re-renders the slice.
        var ct = demo.Db.Studies().First(s => s.Modality == "CT" && s.Segments.Any(g => g.BlobMime == "application/dicom")).StudyId;
        await page.GotoAsync($"/#/study/{Uri.EscapeDataString(ct)}");
        await Assertions.Expect(page.Locator("#study-title")).ToHaveTextAsync(ct);
        await Assertions.Expect(page.Locator("#slice-img")).ToHaveAttributeAsync("src", new System.Text.RegularExpressions.Regex("^blob:"));
        var before = await page.GetAttributeAsync("#slice-img", "src");
        await page.SelectOptionAsync("#preset", "lung");
        await Assertions.Expect(page.Locator("#slice-img")).Not.ToHaveAttributeAsync("src", before!);
        await Assertions.Expect(page.Locator("#slice-img")).ToHaveAttributeAsync("alt", new System.Text.RegularExpressions.Regex("lung window"));
        await Screenshot(page, "ct-lung-window");
        await page.Context.CloseAsync();
    }

    /// <summary>A four-image study, ingested through the API as an admin (once per run).</summary>
    async Task<string> IngestSeriesAsync()
    {
        const string id = "SRV-SERIES-0001";
        using var admin = server.As("admin");
        if ((await admin.GetAsync($"api/studies/{id}")).IsSuccessStatusCode) return id;
        var images = Path.Combine(demo.CorpusDir, "images");
        var names = new[] { "cr-0001.png", "cr-0002.png", "cr-0003.png", "cr-0004.png" };
        using var form = new MultipartFormDataContent
        {
            { new StringContent($"study_id,patient_id,modality,exam_date,report,images\n{id},PAT-9100,CR,2024-06-01,r.txt,{string.Join(';', names)}\n"), "files", "studies.csv" },
            { new StringContent("FINDINGS: A 6 mm nodule in the azygoesophageal recess.\n\nIMPRESSION: Azygoesophageal recess nodule; CT advised."), "files", "r.txt" },
        };
        foreach (var n in names) form.Add(new ByteArrayContent(await File.ReadAllBytesAsync(Path.Combine(images, n))), "files", n);
        await RunIngestJobAsync(admin, form);
        return id;
    }

    /// <summary>Posts an upload to the ingest endpoint and waits for its job to succeed.</summary>
    internal static async Task RunIngestJobAsync(HttpClient admin, MultipartFormDataContent form)
    {
        var accepted = await admin.PostAsync("api/ingest", form);
        Assert.True(accepted.IsSuccessStatusCode, await accepted.Content.ReadAsStringAsync());
        var location = accepted.Headers.Location!.ToString().TrimStart('/');
        for (var i = 0; i < 600; i++)
        {
            var job = JsonNode.Parse(await admin.GetStringAsync(location))!;
            var state = job["state"]!.GetValue<string>();
            if (state == "succeeded") return;
            if (state == "failed") throw new InvalidOperationException($"ingest failed: {job["error"]}");
            await Task.Delay(200);
        }
        throw new TimeoutException("ingest job did not finish");
    }
}

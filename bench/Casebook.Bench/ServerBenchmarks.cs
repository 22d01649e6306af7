using System.Diagnostics;
using System.Globalization;
using System.Text;
using Casebook.Server;
using Casebook.Server.Security;

namespace Casebook.Bench;

/// <summary>
/// `server` suite: search requests/s and p50/p99 latency over HTTP on loopback at 1, 8 and 64 concurrent clients on the
/// demo database, each level once alone and once while an ingest job (50 studies uploaded through the API) runs; after
/// each ingest every uploaded study must be findable (nothing lost) and no request may fail.
/// </summary>
public static class ServerBenchmarks
{
    /// <summary>A fresh demo database served on a loopback port, with a clinician and an admin key.</summary>
    static (CasebookServer Server, Uri Url, string Clinician, string Admin) StartDemoServer(string work)
    {
        var dir = Path.Combine(work, "server-demo");
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        Directory.CreateDirectory(dir);
        var db = Path.Combine(dir, "db");
        Program.RunProcess(Path.Combine(Program.RepoRoot, "casebook"), dir, "demo", "--db", db, "--work", Path.Combine(dir, "corpus"));
        var keys = new ApiKeyStore(new ServerStore(db));
        var clinician = keys.Create(Roles.Clinician, "bench").Key;
        var admin = keys.Create(Roles.Admin, "bench").Key;
        var server = CasebookServer.Create(new ServerOptions { DbDirectory = db, Port = 0, RequestsPerWindow = int.MaxValue });
        server.StartAsync().GetAwaiter().GetResult();
        return (server, new Uri(server.Urls[0] + "/"), clinician, admin);
    }

    /// <summary>`page` suite: only the search page's timings (<see cref="SearchPage"/>), on its own demo server.</summary>
    public static string RunPage(string work)
    {
        var (server, url, clinician, _) = StartDemoServer(work);
        try
        {
            ServerLoad.RunSearchesAsync(url, clinician, 4, TimeSpan.FromSeconds(3)).GetAwaiter().GetResult(); // warm-up
            return SearchPage(url, clinician, server);
        }
        finally { server.DisposeAsync().AsTask().GetAwaiter().GetResult(); }
    }

    /// <summary>
    /// The search page in Debian's Chromium (Playwright; the browser tests' set-up): page load (navigation to load event) and
    /// "first results", from the search being submitted to the first hit in the list (the page's own performance.measure),
    /// over the load generator's queries; next to it the same queries in-process, in the same run.
    /// </summary>
    static string SearchPage(Uri url, string clinician, CasebookServer server, int searches = 40, int loads = 10)
    {
        const string chromium = "/usr/bin/chromium";
        var sb = new StringBuilder("## Server: the search page in a browser (`server` and `page` suites; issue 7)\n\n");
        if (!File.Exists(chromium)) return sb.AppendLine($"{chromium} is missing (scripts/setup-system.sh installs it); not measured.").ToString();
        var load0 = LoadAverage();
        return Task.Run(async () =>
        {
            using var playwright = await Microsoft.Playwright.Playwright.CreateAsync();
            await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = chromium, Headless = true, Args = ["--no-sandbox"] });
            var page = await browser.NewPageAsync(new() { BaseURL = url.ToString(), ViewportSize = new() { Width = 1280, Height = 900 } });
            await page.GotoAsync("/");
            await page.FillAsync("#api-key", clinician);
            await page.Keyboard.PressAsync("Enter");
            await page.Locator("#search-view").WaitForAsync();
            var pageLoads = new List<double>();
            for (var i = 0; i < loads; i++)
            {
                await page.ReloadAsync(new() { WaitUntil = Microsoft.Playwright.WaitUntilState.Load });
                await page.Locator("#search-view").WaitForAsync();
                pageLoads.Add(await page.EvaluateAsync<double>("() => performance.getEntriesByType('navigation')[0].loadEventEnd"));
            }
            var first = new List<double>();
            for (var i = 0; i < searches; i++)
            {
                await page.FillAsync("#q", ServerLoad.Queries[i % ServerLoad.Queries.Length]);
                await page.FocusAsync("#q");
                await page.Keyboard.PressAsync("Enter");
                await page.WaitForFunctionAsync("() => document.getElementById('search-status').dataset.firstResultsMs");
                first.Add(await page.EvaluateAsync<double>("() => { const s = document.getElementById('search-status'); const v = Number(s.dataset.firstResultsMs); delete s.dataset.firstResultsMs; return v; }"));
            }
            var engine = new List<double>();
            for (var i = 0; i < searches; i++)
            {
                var t = Stopwatch.GetTimestamp();
                server.Db.Search(ServerLoad.Queries[i % ServerLoad.Queries.Length]).Limit(20).Execute();
                engine.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            }
            static string Stats(List<double> v)
            {
                var s = v.OrderBy(x => x).ToList();
                return string.Create(CultureInfo.InvariantCulture, $"{s.Count} | {s[s.Count / 2]:0.0} | {s[Math.Min(s.Count - 1, (int)(s.Count * 0.9))]:0.0} | {s[^1]:0.0}");
            }
            sb.AppendLine($"Demo database, one clinician signed in, Chromium headless on the same machine as the server. {searches} searches of the");
            sb.AppendLine("load generator's queries (limit 20, hybrid), typed and submitted with Enter; \"first results\" runs from the submit to the");
            sb.AppendLine("hits in the list (fetch, JSON, rendering; thumbnails and the per-hit summaries follow). Target: under 300 ms.\n");
            sb.AppendLine("| measure | n | median ms | p90 ms | max ms |");
            sb.AppendLine("| --- | ---: | ---: | ---: | ---: |");
            sb.AppendLine($"| page load (navigation → load event) | {Stats(pageLoads)} |");
            sb.AppendLine($"| first results in the page | {Stats(first)} |");
            sb.AppendLine($"| same searches in-process (engine only) | {Stats(engine)} |");
            var ratio = first.OrderBy(x => x).ElementAt(first.Count / 2) / Math.Max(0.001, engine.OrderBy(x => x).ElementAt(engine.Count / 2));
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"\nPage / engine median ratio: {ratio:0.0}×. Load average (1/5/15 min) before: {load0}; after: {LoadAverage()}."));
            return sb.ToString();
        }).GetAwaiter().GetResult();
    }

    public static string Run(string work, TimeSpan? perLevel = null)
    {
        var duration = perLevel ?? TimeSpan.FromSeconds(15);
        var (server, url, clinician, admin) = StartDemoServer(work);
        var load0 = LoadAverage();
        var sb = new StringBuilder();
        try
        {
            ServerLoad.RunSearchesAsync(url, clinician, 4, TimeSpan.FromSeconds(3)).GetAwaiter().GetResult(); // warm-up: models, caches, JIT
            sb.AppendLine(SearchPage(url, clinician, server));
            sb.AppendLine("## Server: search over HTTP (`server` suite; issue 7)\n");
            sb.AppendLine($"Demo database ({server.Db.Stats().Studies} studies), `GET /api/search?q=…&limit=10` (hybrid: BM25 + MiniLM dense), one API key,");
            sb.AppendLine($"Kestrel on loopback in the same process as the load generator (closed loop, keep-alive; {Environment.ProcessorCount} cores shared by both).");
            sb.AppendLine($"{duration.TotalSeconds:0} s per row. Every search is also an audit-log append (one SQLite write transaction, synchronous=FULL).");
            sb.AppendLine("\"with ingest\": an ingest job of 50 text studies uploaded through `POST /api/ingest` runs during the row; afterwards each");
            sb.AppendLine("uploaded study is searched for by a marker word that only it holds (\"lost\" counts the ones not found).\n");
            sb.AppendLine("| clients | ingest | requests | req/s | p50 ms | p99 ms | max ms | errors | ingest inserted | lost |");
            sb.AppendLine("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
            foreach (var clients in new[] { 1, 8, 64 })
            {
                foreach (var withIngest in new[] { false, true })
                {
                    Task<System.Text.Json.Nodes.JsonNode>? ingest = null;
                    var prefix = $"LOAD{clients}";
                    if (withIngest) ingest = ServerLoad.IngestAsync(url, admin, prefix, 50, TimeSpan.FromMinutes(10));
                    var r = ServerLoad.RunSearchesAsync(url, clinician, clients, duration).GetAwaiter().GetResult();
                    string inserted = "", lost = "";
                    if (ingest != null)
                    {
                        var job = ingest.GetAwaiter().GetResult();
                        inserted = job["result"]?["inserted"]?.ToString() ?? $"failed: {job["error"]}";
                        lost = Lost(server, prefix, 50).ToString(CultureInfo.InvariantCulture);
                    }
                    sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                        $"| {clients} | {(withIngest ? "with ingest" : "alone")} | {r.Requests} | {r.RequestsPerSecond:0.0} | {r.P50Ms:0.0} | {r.P99Ms:0.0} | {r.MaxMs:0} | {r.Errors} | {inserted} | {lost} |"));
                    if (r.FirstError != null) sb.AppendLine($"\nfirst error: {r.FirstError}\n");
                }
            }
            // Same-run baseline: the same searches in-process, one at a time, without HTTP, auth or audit.
            var engine = new List<double>();
            var clock = Stopwatch.StartNew();
            for (var i = 0; clock.Elapsed < duration; i++)
            {
                var t = Stopwatch.GetTimestamp();
                server.Db.Search(ServerLoad.Queries[i % ServerLoad.Queries.Length]).Limit(10).Execute();
                engine.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            }
            engine.Sort();
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| 1 | engine in-process (no HTTP, auth, audit) | {engine.Count} | {engine.Count / clock.Elapsed.TotalSeconds:0.0} | {engine[engine.Count / 2]:0.0} | {engine[Math.Min(engine.Count - 1, (int)(engine.Count * 0.99))]:0.0} | {engine[^1]:0} | | | |"));
            sb.AppendLine($"\nLoad average (1/5/15 min) before: {load0}; after: {LoadAverage()}.");
        }
        finally
        {
            server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        return sb.ToString();
    }

    static int Lost(CasebookServer server, string prefix, int count)
    {
        var lost = 0;
        for (var i = 1; i <= count; i++)
        {
            var hits = server.Db.Search(ServerLoad.Marker(prefix, i)).Mode(Casebook.Search.SearchMode.Bm25).Limit(1).ToList();
            if (hits.Count == 0 || hits[0].StudyId != $"{prefix}-{i:0000}") lost++;
        }
        return lost;
    }

    static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}

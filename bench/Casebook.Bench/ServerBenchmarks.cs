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
    public static string Run(string work, TimeSpan? perLevel = null)
    {
        var duration = perLevel ?? TimeSpan.FromSeconds(15);
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
        var url = new Uri(server.Urls[0] + "/");
        var load0 = LoadAverage();
        var sb = new StringBuilder();
        try
        {
            ServerLoad.RunSearchesAsync(url, clinician, 4, TimeSpan.FromSeconds(3)).GetAwaiter().GetResult(); // warm-up: models, caches, JIT
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

using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace Casebook.Bench;

/// <summary>
/// A closed-loop HTTP load generator for the server: N clients, each sending GET /api/search one after another for a
/// fixed time over keep-alive connections, recording every latency and every non-200 answer. Also drives an ingest job
/// through the API at the same time. Shared by the `server` bench suite and the short CI load test.
/// </summary>
public static class ServerLoad
{
    public sealed record Result(int Clients, double Seconds, long Requests, long Errors, double RequestsPerSecond, double P50Ms, double P99Ms, double MaxMs, string? FirstError);

    public static readonly string[] Queries =
    [
        "pleural effusion", "pneumothorax", "consolidation", "cardiomegaly", "subarachnoid hemorrhage", "fracture", "nodule",
        "atelectasis", "bleeding inside the skull", "gallstones", "appendicitis", "pulmonary edema",
    ];

    public static async Task<Result> RunSearchesAsync(Uri baseUrl, string key, int clients, TimeSpan duration, string extraQuery = "&limit=10")
    {
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = clients, PooledConnectionLifetime = TimeSpan.FromMinutes(10) };
        using var http = new HttpClient(handler) { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        var latencies = new List<double>[clients];
        long errors = 0;
        string? firstError = null;
        var clock = Stopwatch.StartNew();
        var end = duration;
        var tasks = Enumerable.Range(0, clients).Select(async c =>
        {
            var mine = latencies[c] = new List<double>(4096);
            var i = c;
            while (clock.Elapsed < end)
            {
                var q = Queries[i++ % Queries.Length];
                var t = Stopwatch.GetTimestamp();
                try
                {
                    using var r = await http.GetAsync($"api/search?q={Uri.EscapeDataString(q)}{extraQuery}");
                    var body = await r.Content.ReadAsByteArrayAsync();
                    if (r.StatusCode != HttpStatusCode.OK || body.Length == 0)
                    {
                        Interlocked.Increment(ref errors);
                        Interlocked.CompareExchange(ref firstError, $"{(int)r.StatusCode}: {Encoding.UTF8.GetString(body)}", null);
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    Interlocked.Increment(ref errors);
                    Interlocked.CompareExchange(ref firstError, e.Message, null);
                }
                mine.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            }
        }).ToArray();
        await Task.WhenAll(tasks);
        var seconds = clock.Elapsed.TotalSeconds;
        var all = latencies.SelectMany(l => l).Order().ToArray();
        double Pct(double p) => all.Length == 0 ? double.NaN : all[Math.Min(all.Length - 1, (int)Math.Ceiling(p * all.Length) - 1)];
        return new Result(clients, seconds, all.Length, errors, all.Length / seconds, Pct(0.50), Pct(0.99), all.Length == 0 ? double.NaN : all[^1], firstError);
    }

    /// <summary>
    /// Uploads <paramref name="count"/> text studies (ids <paramref name="prefix"/>-0001…) as one ingest job and returns the
    /// job's final JSON once it ends. Each report holds a unique marker word so every study can be found afterwards.
    /// </summary>
    public static async Task<JsonNode> IngestAsync(Uri baseUrl, string adminKey, string prefix, int count, TimeSpan timeout)
    {
        using var http = new HttpClient { BaseAddress = baseUrl, Timeout = TimeSpan.FromMinutes(5) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", adminKey);
        var csv = new StringBuilder("study_id,patient_id,modality,exam_date,report,images\n");
        using var form = new MultipartFormDataContent();
        for (var i = 1; i <= count; i++)
        {
            var id = $"{prefix}-{i:0000}";
            csv.Append($"{id},PAT-{prefix}-{i % 7},CR,2024-07-{1 + i % 28:00},r{i}.txt,\n");
            form.Add(new StringContent($"FINDINGS: {Queries[i % Queries.Length]} seen on the {i}th film; marker {Marker(prefix, i)}.\n\nIMPRESSION: {Queries[(i + 3) % Queries.Length]}."), "files", $"r{i}.txt");
        }
        form.Add(new StringContent(csv.ToString()), "files", "studies.csv");
        var accepted = await http.PostAsync("api/ingest", form);
        if (accepted.StatusCode != HttpStatusCode.Accepted) throw new InvalidOperationException($"ingest upload: {(int)accepted.StatusCode} {await accepted.Content.ReadAsStringAsync()}");
        var location = accepted.Headers.Location!.ToString().TrimStart('/');
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            var job = JsonNode.Parse(await http.GetStringAsync(location))!;
            if (job["state"]!.GetValue<string>() is "succeeded" or "failed") return job;
            await Task.Delay(100);
        }
        throw new TimeoutException($"ingest job {location} did not end in {timeout}");
    }

    /// <summary>A word no other report holds, so a keyword search for it finds exactly that study.</summary>
    public static string Marker(string prefix, int i) => $"zq{prefix.ToLowerInvariant().Replace("-", "")}x{i}";
}

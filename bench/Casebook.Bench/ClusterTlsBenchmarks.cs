using System.Diagnostics;
using System.Text;
using Casebook.Cluster;
using Casebook.Search;

namespace Casebook.Bench;

/// <summary>
/// `cluster-tls` suite: what mutual TLS costs. Two local clusters side by side (each 1 NATS, Redis, 2 silos, 8 shards),
/// one plaintext and one with `--tls`, the same corpus ingested into both; queries alternate between them (same load).
/// </summary>
public static class ClusterTlsBenchmarks
{
    static string[] Words => ClusterBenchmarks.Words;

    public static string Run(string work, int studies = 200, int queries = 100)
    {
        var root = Path.Combine(work, "cluster-tls");
        if (Directory.Exists(root)) Directory.Delete(root, true);
        var corpus = Path.Combine(root, "corpus");
        WriteCorpus(corpus, studies);
        var key = Path.Combine(root, "patient.key");
        var load = File.ReadAllText("/proc/loadavg").Split(' ')[0];
        var cli = ("dotnet", new[] { "exec", Path.Combine(AppContext.BaseDirectory, "Casebook.Cli.dll") });
        var plain = LocalCluster.UpAsync(Path.Combine(root, "plain"), 2, 1, 8, key, cli, TimeSpan.FromMinutes(3)).GetAwaiter().GetResult();
        ClusterConfig? tls = null;
        try
        {
            tls = LocalCluster.UpAsync(Path.Combine(root, "tls"), 2, 1, 8, key, cli, TimeSpan.FromMinutes(3), tls: true).GetAwaiter().GetResult();
            return Task.Run(async () =>
            {
                var sb = new StringBuilder();
                var connect = new Dictionary<string, double>();
                await using var a = await Timed(plain, "plaintext", connect);
                await using var b = await Timed(tls, "TLS", connect);
                Casebook.Embed.EmbedderCache.Text(null).Embed(["warm up"]); // the first ingest must not pay for loading the model
                var ingest = new Dictionary<string, double>();
                foreach (var (name, c) in new[] { ("plaintext", a), ("TLS", b) })
                {
                    var t = Stopwatch.StartNew();
                    await c.IngestAsync([corpus]);
                    ingest[name] = studies / t.Elapsed.TotalSeconds;
                }
                var qs = Enumerable.Range(0, queries).Select(i => $"{Words[i % Words.Length]} {Words[(i * 7 + 3) % Words.Length]}").ToList();
                var times = new Dictionary<string, List<double>> { ["plaintext"] = [], ["TLS"] = [] };
                foreach (var q in qs.Take(5)) { await a.SearchAsync(new ShardSearchRequest { Text = q, Mode = SearchMode.Bm25 }); await b.SearchAsync(new ShardSearchRequest { Text = q, Mode = SearchMode.Bm25 }); }
                foreach (var q in qs)
                    foreach (var (name, c) in new[] { ("plaintext", a), ("TLS", b) })
                    {
                        var t = Stopwatch.StartNew();
                        await c.SearchAsync(new ShardSearchRequest { Text = q, Mode = SearchMode.Bm25 });
                        times[name].Add(t.Elapsed.TotalMilliseconds);
                    }
                sb.AppendLine($"## Cluster: cost of TLS (`bench cluster-tls`): {studies} reports, 2 silos, 8 shards, 1 NATS each; load average {load} at start, {File.ReadAllText("/proc/loadavg").Split(' ')[0]} at the end");
                sb.AppendLine();
                sb.AppendLine("| cluster | connect ms | ingest studies/s | BM25 search p50 / p99 ms |");
                sb.AppendLine("| --- | --- | --- | --- |");
                foreach (var name in new[] { "plaintext", "TLS" })
                    sb.AppendLine($"| {name} | {connect[name]:0} | {ingest[name]:0.0} | {P(times[name], 0.5):0.0} / {P(times[name], 0.99):0.0} |");
                sb.AppendLine();
                sb.AppendLine($"TLS / plaintext p50: {P(times["TLS"], 0.5) / P(times["plaintext"], 0.5):0.00}×.");
                return sb.ToString();
            }).GetAwaiter().GetResult();
        }
        finally
        {
            LocalCluster.Down(plain);
            if (tls != null) LocalCluster.Down(tls);
        }
    }

    static async Task<ClusterClient> Timed(ClusterConfig config, string name, Dictionary<string, double> into)
    {
        var t = Stopwatch.StartNew();
        var c = await ClusterClient.ConnectAsync(config);
        into[name] = t.Elapsed.TotalMilliseconds;
        return c;
    }

    static double P(List<double> xs, double p) => ClusterBenchmarks.P(xs, p);

    static void WriteCorpus(string dir, int count) => ClusterBenchmarks.WriteCorpus(dir, count, seed: 13, prefix: "T", month: 5);
}

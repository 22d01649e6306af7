using System.Diagnostics;
using System.Text;
using Casebook.Cluster;
using Casebook.Search;

namespace Casebook.Bench;

/// <summary>
/// `cluster` suite (docs/cluster.md): a real local cluster (3 NATS nodes, Redis, N silos, 64 shards) per silo count,
/// the same synthetic corpus in it and in one node; fan-out overhead of search (p50/p99, cluster vs one node in the same
/// run), ingest throughput through the log, and the time until queries answer again after a silo is killed.
/// </summary>
public static class ClusterBenchmarks
{
    internal static readonly string[] Words =
        ("pleural effusion consolidation pneumothorax nodule opacity fracture edema cardiomegaly atelectasis mass lesion hernia calcification " +
         "infiltrate emphysema bronchiectasis granuloma fibrosis aneurysm thrombus embolism stenosis cyst abscess metastasis lymphadenopathy").Split(' ');

    public static string Run(string work, int studies = 200)
    {
        var root = Path.Combine(work, "cluster-bench");
        if (Directory.Exists(root)) Directory.Delete(root, true);
        var corpus = Path.Combine(root, "corpus");
        WriteCorpus(corpus, studies);
        var key = Path.Combine(root, "patient.key");
        var single = Path.Combine(root, "single");
        using (var db = CasebookDb.Open(single, new CasebookOptions { KeyFile = key })) db.Ingest([corpus]);
        var queries = Enumerable.Range(0, 30).Select(i => $"{Words[i % Words.Length]} {Words[(i * 7 + 3) % Words.Length]}").ToList();
        var sb = new StringBuilder();
        sb.AppendLine($"## Cluster (`bench cluster`): {studies} synthetic reports, 64 shards, 3 NATS nodes, loopback; load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]} at start");
        sb.AppendLine();
        sb.AppendLine("| silos | mode | one node p50 / p99 ms | cluster p50 / p99 ms | ratio p50 | ingest studies/s | answers again after kill -9 |");
        sb.AppendLine("| --- | --- | --- | --- | --- | --- | --- |");
        var cli = Path.Combine(AppContext.BaseDirectory, "Casebook.Cli.dll");
        foreach (var silos in new[] { 1, 2, 4 })
        {
            var dir = Path.Combine(root, $"c{silos}");
            var config = LocalCluster.UpAsync(dir, silos, 3, ShardMap.DefaultShards, key, ("dotnet", ["exec", cli]), TimeSpan.FromMinutes(3)).GetAwaiter().GetResult();
            try
            {
                var (line, recovery) = Measure(config, Path.Combine(dir, "cluster.json"), corpus, single, key, queries, silos);
                foreach (var l in line) sb.AppendLine(l.Replace("RECOVERY", recovery));
            }
            finally { LocalCluster.Down(config); }
        }
        return sb.ToString();
    }

    static (List<string>, string) Measure(ClusterConfig config, string file, string corpus, string singleDir, string key, List<string> queries, int silos)
    {
        return Task.Run(async () =>
        {
            await using var client = await ClusterClient.ConnectAsync(config);
            var clock = Stopwatch.StartNew();
            var ingest = await client.IngestAsync([corpus]);
            var rate = ingest.Appended / clock.Elapsed.TotalSeconds;
            using var db = CasebookDb.Open(singleDir, new CasebookOptions { KeyFile = key });
            var lines = new List<string>();
            foreach (var mode in new[] { SearchMode.Bm25, SearchMode.Hybrid })
            {
                // Warm both paths once, then time each query on each side, interleaved (same load for both).
                foreach (var q in queries.Take(3)) { db.Search(q).Mode(mode).Execute(); await client.SearchAsync(new ShardSearchRequest { Text = q, Mode = mode }); }
                var one = new List<double>(); var many = new List<double>();
                foreach (var q in queries)
                {
                    var t = Stopwatch.StartNew(); db.Search(q).Mode(mode).Execute(); one.Add(t.Elapsed.TotalMilliseconds);
                    t.Restart(); await client.SearchAsync(new ShardSearchRequest { Text = q, Mode = mode }); many.Add(t.Elapsed.TotalMilliseconds);
                }
                lines.Add($"| {silos} | {mode} | {P(one, 0.5):0.0} / {P(one, 0.99):0.0} | {P(many, 0.5):0.0} / {P(many, 0.99):0.0} | {P(many, 0.5) / P(one, 0.5):0.0}× | {rate:0.0} | RECOVERY |");
            }
            var recovery = "n/a (one silo)";
            if (silos > 1)
            {
                var victim = config.Nodes.First(n => n.Role == "silo");
                var held = (await client.StatusAsync()).Count(s => s.Silo == victim.Name);
                Process.GetProcessById(victim.Pid).Kill();
                var t = Stopwatch.StartNew();
                await client.SearchAsync(new ShardSearchRequest { Text = queries[0], Mode = SearchMode.Bm25 });
                recovery = $"{t.Elapsed.TotalSeconds:0.0} s ({held} of 64 shards moved)";
            }
            return (lines, recovery);
        }).GetAwaiter().GetResult();
    }

    internal static double P(List<double> xs, double p)
    {
        var s = xs.OrderBy(x => x).ToList();
        return s[Math.Min(s.Count - 1, (int)Math.Ceiling(p * s.Count) - 1)];
    }

    /// <summary>Synthetic reports with Zipf-like word frequencies (study ids PREFIX-00000…, one month of exam dates).</summary>
    internal static void WriteCorpus(string dir, int count, int seed = 11, string prefix = "B", int month = 3)
    {
        Directory.CreateDirectory(Path.Combine(dir, "reports"));
        var rng = new Random(seed);
        var lines = new List<string> { "study_id,patient_id,modality,exam_date,report,images" };
        for (var i = 0; i < count; i++)
        {
            string Word() => Words[(int)Math.Min(Words.Length - 1, Math.Floor(Math.Pow(rng.NextDouble(), 2.5) * Words.Length))];
            File.WriteAllText(Path.Combine(dir, "reports", $"r{i}.txt"),
                $"FINDINGS:\n{string.Join(' ', Enumerable.Range(0, rng.Next(10, 60)).Select(_ => Word()))}.\n\nIMPRESSION:\n{string.Join(' ', Enumerable.Range(0, rng.Next(2, 8)).Select(_ => Word()))}.\n");
            lines.Add($"{prefix}-{i:00000},PAT-{i % 97},{(i % 3 == 0 ? "CT" : "CR")},2024-{month:00}-{1 + i % 28:00},reports/r{i}.txt,");
        }
        File.WriteAllLines(Path.Combine(dir, "studies.csv"), lines);
    }
}

using System.Diagnostics;
using System.Text;
using Casebook.Cluster;
using Casebook.Ingest;

namespace Casebook.Bench;

/// <summary>
/// `cluster-recovery` suite (issue 9: "time to recover a shard (snapshot + replay) as a function of its size"). One
/// cluster (1 NATS, Redis, 1 silo) with one shard per size, sized exactly by choosing patients whose pseudonyms hash to
/// it; automatic snapshots off. Each shard is deactivated, its directory on the silo's disk deleted (as on a machine
/// that never held it), and the time from the next call to its first answer is measured twice: with no snapshot (the
/// whole partition replayed from the log) and with a snapshot at the head (restore from the object store only).
/// </summary>
public static class ClusterRecoveryBenchmarks
{
    static readonly string[] Words =
        ("pleural effusion consolidation pneumothorax nodule opacity fracture edema cardiomegaly atelectasis mass lesion hernia calcification " +
         "infiltrate emphysema bronchiectasis granuloma fibrosis aneurysm thrombus embolism stenosis cyst abscess metastasis lymphadenopathy").Split(' ');

    public static string Run(string work, int[]? sizes = null, int reps = 5)
    {
        sizes ??= [100, 400, 1600];
        var root = Path.Combine(work, "cluster-recovery");
        if (Directory.Exists(root)) Directory.Delete(root, true);
        Directory.CreateDirectory(root);
        var key = Path.Combine(root, "patient.key");
        var corpus = Path.Combine(root, "corpus");
        WriteCorpus(corpus, PatientsPerShard(PatientPseudonym.Load(key), sizes.Length, 8), sizes);
        var load = File.ReadAllText("/proc/loadavg").Split(' ')[0];
        var cli = Path.Combine(AppContext.BaseDirectory, "Casebook.Cli.dll");
        var dir = Path.Combine(root, "c");
        var config = LocalCluster.UpAsync(dir, 1, 1, sizes.Length, key, ("dotnet", ["exec", cli]), TimeSpan.FromMinutes(3)).GetAwaiter().GetResult();
        var file = Path.Combine(dir, "cluster.json");
        try
        {
            return Task.Run(async () =>
            {
                // Restart the silo with automatic snapshots off, so "replay" below is the log alone.
                var silo = config.Nodes.Single(n => n.Role == "silo");
                using (var p = Process.GetProcessById(silo.Pid)) { p.Kill(); p.WaitForExit(); }
                config.SnapshotEvery = int.MaxValue;
                config.Save(file);
                LocalCluster.StartSilo(config, file, silo.Name, ("dotnet", ["exec", cli]));
                while (!LocalCluster.Status(ClusterConfig.Load(file)).All(n => n.Healthy)) await Task.Delay(250);
                await using var client = await ClusterClient.ConnectAsync(config);
                await client.WaitForSilosAsync(1, TimeSpan.FromMinutes(2));
                var clock = Stopwatch.StartNew();
                var ingest = await client.IngestAsync([corpus]);
                var ingestRate = ingest.Appended / clock.Elapsed.TotalSeconds;
                var counts = (await client.StatusAsync()).OrderBy(s => s.Shard).Select(s => s.Studies).ToList();
                for (var k = 0; k < sizes.Length; k++)
                    if (counts[k] != sizes[k]) throw new InvalidOperationException($"shard {k} holds {counts[k]} studies, expected {sizes[k]}");
                var shardsDir = Path.Combine(silo.Dir, "shards");

                // A hybrid shard request as the coordinator sends it (query vector embedded once, BM25 lists with local statistics).
                var text = "pleural effusion";
                var search = System.Text.Json.JsonSerializer.Serialize(new Casebook.Search.ShardSearchRequest
                    { Text = text, Mode = Casebook.Search.SearchMode.Hybrid, QueryVector = Casebook.Embed.EmbedderCache.Text(null).Embed([text])[0] });
                var replay = await Reactivate(client, shardsDir, sizes.Length, reps, search);
                var snapshotMb = new double[sizes.Length];
                for (var k = 0; k < sizes.Length; k++)
                {
                    await client.Orleans.GetGrain<IShardGrain>(k).Snapshot();
                    var tmp = Path.Combine(root, $"snapshot-{k}.db");
                    await client.Log.GetSnapshotAsync(k, tmp);
                    snapshotMb[k] = new FileInfo(tmp).Length / 1048576.0;
                    File.Delete(tmp);
                }
                var restore = await Reactivate(client, shardsDir, sizes.Length, reps, search);

                var sb = new StringBuilder();
                sb.AppendLine($"## Cluster: time to recover a shard by size (`bench cluster-recovery`): 1 NATS, 1 silo, {sizes.Length} shards; load average {load} at start, {File.ReadAllText("/proc/loadavg").Split(' ')[0]} at the end");
                sb.AppendLine();
                sb.AppendLine($"Ingest of {ingest.Appended} studies through the log: {ingestRate:0.0} studies/s. Medians of {reps} re-activations per cell (deactivate, delete the shard's directory, time the first call).");
                sb.AppendLine();
                sb.AppendLine("| shard size (studies) | snapshot MB | replay whole log: activation ms | entries/s | restore snapshot: activation ms | MB/s | then first hybrid shard search ms |");
                sb.AppendLine("| --- | --- | --- | --- | --- | --- | --- |");
                for (var k = 0; k < sizes.Length; k++)
                {
                    var r = Median(replay.Activate[k]); var s = Median(restore.Activate[k]);
                    sb.AppendLine($"| {sizes[k]} | {snapshotMb[k]:0.0} | {r:0} | {sizes[k] / (r / 1000):0} | {s:0} | {snapshotMb[k] / (s / 1000):0.0} | {Median(restore.Search[k]):0} |");
                }
                return sb.ToString();
            }).GetAwaiter().GetResult();
        }
        finally { LocalCluster.Down(config); }
    }

    /// <summary>Per shard, the milliseconds from a call to a shard whose activation and local copy are gone to its
    /// answer (activation: restore and/or replay), and then of its first hybrid search call (indexes opened).</summary>
    static async Task<(List<double>[] Activate, List<double>[] Search)> Reactivate(ClusterClient client, string shardsDir, int shards, int reps, string search)
    {
        var times = Enumerable.Range(0, shards).Select(_ => new List<double>()).ToArray();
        var searches = Enumerable.Range(0, shards).Select(_ => new List<double>()).ToArray();
        for (var rep = 0; rep < reps; rep++)
            for (var k = 0; k < shards; k++)
            {
                await DeactivateAll(client);
                var local = Path.Combine(shardsDir, $"shard-{k}");
                if (Directory.Exists(local)) Directory.Delete(local, true);
                var t = Stopwatch.StartNew();
                await client.Orleans.GetGrain<IShardGrain>(k).Status();
                times[k].Add(t.Elapsed.TotalMilliseconds);
                t.Restart();
                await client.Orleans.GetGrain<IShardGrain>(k).Lists(search);
                searches[k].Add(t.Elapsed.TotalMilliseconds);
            }
        return (times, searches);
    }

    static async Task DeactivateAll(ClusterClient client)
    {
        var management = client.Orleans.GetGrain<IManagementGrain>(0);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            await management.ForceActivationCollection(TimeSpan.Zero);
            var stats = await management.GetSimpleGrainStatistics();
            if (!stats.Any(s => s.GrainType.Contains("ShardGrain", StringComparison.Ordinal) && s.ActivationCount > 0)) return;
            if (DateTime.UtcNow > deadline) throw new TimeoutException("shard grains were not deactivated in 60 s");
            await Task.Delay(200);
        }
    }

    static double Median(List<double> xs) { var s = xs.Order().ToList(); return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2; }

    /// <summary>For each shard, <paramref name="each"/> patient ids whose pseudonym (issuer "local", as the CSV importer) hashes to it.</summary>
    static List<string>[] PatientsPerShard(PatientPseudonym pseudonym, int shards, int each)
    {
        var lists = Enumerable.Range(0, shards).Select(_ => new List<string>()).ToArray();
        for (var p = 0; lists.Any(l => l.Count < each); p++)
        {
            var id = $"RP-{p}";
            var shard = ShardMap.ShardOf(pseudonym.Pseudonymise(StudyManifest.DefaultIssuer, id), shards);
            if (lists[shard].Count < each) lists[shard].Add(id);
        }
        return lists;
    }

    static void WriteCorpus(string dir, List<string>[] patients, int[] sizes)
    {
        Directory.CreateDirectory(Path.Combine(dir, "reports"));
        var rng = new Random(5);
        var lines = new List<string> { "study_id,patient_id,modality,exam_date,report,images" };
        var n = 0;
        for (var k = 0; k < sizes.Length; k++)
            for (var i = 0; i < sizes[k]; i++, n++)
            {
                string Word() => Words[(int)Math.Min(Words.Length - 1, Math.Floor(Math.Pow(rng.NextDouble(), 2.5) * Words.Length))];
                File.WriteAllText(Path.Combine(dir, "reports", $"r{n}.txt"),
                    $"FINDINGS:\n{string.Join(' ', Enumerable.Range(0, rng.Next(10, 60)).Select(_ => Word()))}.\n\nIMPRESSION:\n{string.Join(' ', Enumerable.Range(0, rng.Next(2, 8)).Select(_ => Word()))}.\n");
                lines.Add($"R-{n:00000},{patients[k][i % patients[k].Count]},{(n % 3 == 0 ? "CT" : "CR")},2024-04-{1 + n % 28:00},reports/r{n}.txt,");
            }
        File.WriteAllLines(Path.Combine(dir, "studies.csv"), lines);
    }
}

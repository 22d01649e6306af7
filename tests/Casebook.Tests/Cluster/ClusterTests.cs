using System.Diagnostics;
using System.Text.Json.Nodes;
using Casebook.Cluster;
using Casebook.Search;

namespace Casebook.Tests.Cluster;

/// <summary>
/// A real local cluster (3 nats-server processes as one JetStream cluster, redis-server, 2 silo processes, 8 shards)
/// started with the CLI, and the same corpus ingested into it and into one node.
/// </summary>
public sealed class LocalClusterFixture : IDisposable
{
    public TempDirectory Dir { get; } = new();
    public string ClusterFile => Dir["cluster/cluster.json"];
    public string Corpus => Dir["corpus"];
    public string SingleDb => Dir["single"];
    static readonly TimeSpan Long = TimeSpan.FromMinutes(4);
    public int Shards => 8;

    public LocalClusterFixture()
    {
        // Tests fail, saying what is missing, when the servers are not installed (scripts/setup-system.sh installs them).
        LocalCluster.Require("nats-server");
        LocalCluster.Require("redis-server");
        ClusterCorpus.Write(Corpus, 0, 40);
        Cli("cluster", "up", "--silos", "2", "--nats", "3", "--shards", Shards.ToString(), "--data", Dir["cluster"]);
        Cli("ingest", Corpus, "--cluster", ClusterFile, "--json");
        Cli("ingest", Corpus, "--db", SingleDb, "--json");
    }

    public string Cli(params string[] args)
    {
        var (code, stdout, stderr) = CliProcess.Run(Dir.Path, Dir.KeyFile, Long, args);
        if (code != 0) throw new InvalidOperationException($"casebook {string.Join(' ', args)} exited {code}: {stderr}");
        return stdout;
    }

    public void Dispose()
    {
        if (File.Exists(ClusterFile)) LocalCluster.Down(ClusterConfig.Load(ClusterFile));
        Dir.Dispose();
    }
}

/// <summary>Reports made from a fixed vocabulary with skewed word frequencies, so BM25 statistics differ per shard.</summary>
public static class ClusterCorpus
{
    static readonly string[] Words =
        ("pleural effusion consolidation pneumothorax nodule opacity fracture edema cardiomegaly atelectasis mass lesion hernia calcification " +
         "infiltrate emphysema bronchiectasis granuloma fibrosis aneurysm thrombus embolism stenosis cyst abscess metastasis lymphadenopathy " +
         "osteophyte spondylosis scoliosis kyphosis effacement herniation ascites hepatomegaly splenomegaly cholelithiasis nephrolithiasis " +
         "hydronephrosis diverticulitis appendicitis").Split(' ');

    public static List<string> Write(string dir, int from, int count)
    {
        Directory.CreateDirectory(Path.Combine(dir, "reports"));
        var rng = new Random(from + 7);
        var lines = new List<string> { "study_id,patient_id,modality,exam_date,report,images" };
        var ids = new List<string>();
        for (var i = from; i < from + count; i++)
        {
            // Zipf-like: low indices common, high indices rare.
            string Word() => Words[(int)Math.Min(Words.Length - 1, Math.Floor(Math.Pow(rng.NextDouble(), 2.5) * Words.Length))];
            var findings = string.Join(' ', Enumerable.Range(0, rng.Next(6, 30)).Select(_ => Word()));
            var impression = string.Join(' ', Enumerable.Range(0, rng.Next(2, 8)).Select(_ => Word()));
            File.WriteAllText(Path.Combine(dir, "reports", $"r{i}.txt"), $"FINDINGS:\n{findings} in the right lung.\n\nIMPRESSION:\n{impression}.\n");
            var id = $"CL-{i:0000}";
            ids.Add(id);
            // Every fourth study has a picture (a bright disc or bar on a dark field), for image queries.
            var image = i % 4 == 0 ? Picture(dir, i) : "";
            lines.Add($"{id},PAT-{i % 23},{(i % 3 == 0 ? "CT" : "CR")},2024-02-{1 + i % 28:00},reports/r{i}.txt,{image}");
        }
        File.WriteAllLines(Path.Combine(dir, "studies.csv"), lines);
        return ids;
    }

    public static string Picture(string dir, int i)
    {
        Directory.CreateDirectory(Path.Combine(dir, "images"));
        using var bitmap = new SkiaSharp.SKBitmap(128, 128);
        using (var canvas = new SkiaSharp.SKCanvas(bitmap))
        {
            canvas.Clear(new SkiaSharp.SKColor(10, 10, 10));
            using var paint = new SkiaSharp.SKPaint { Color = new SkiaSharp.SKColor((byte)(120 + i * 13 % 130), (byte)(120 + i * 7 % 130), 200), IsAntialias = true };
            if (i % 8 == 0) canvas.DrawCircle(64, 64, 20 + i % 30, paint);
            else canvas.DrawRect(10 + i % 40, 20, 30, 90, paint);
        }
        var name = $"images/p{i}.png";
        using var file = File.Create(Path.Combine(dir, name));
        bitmap.Encode(file, SkiaSharp.SKEncodedImageFormat.Png, 100);
        return name;
    }
}

[CollectionDefinition("local cluster")]
public sealed class LocalClusterCollection : ICollectionFixture<LocalClusterFixture>;

[Collection("local cluster")]
public sealed class ClusterTests(LocalClusterFixture f)
{
    static readonly string[] Queries = ["pleural effusion", "aneurysm", "hydronephrosis or appendicitis", "fibrosis thrombus cyst", "sob", "mass in the lung"];

    [Fact]
    public void Status_lists_every_node_with_role_pid_and_health()
    {
        var status = JsonNode.Parse(f.Cli("cluster", "status", "--cluster", f.ClusterFile, "--json"))!;
        var nodes = status["nodes"]!.AsArray();
        Assert.Equal(3, nodes.Count(n => (string)n!["role"]! == "nats"));
        Assert.Equal(2, nodes.Count(n => (string)n!["role"]! == "silo"));
        Assert.All(nodes, n => { Assert.True((int)n!["pid"]! > 0); Assert.True((bool)n["healthy"]!); });
    }

    [Fact]
    public async Task Bm25_search_through_the_cluster_equals_one_node()
    {
        // The CLI contract once, then many queries through the coordinator in-process (each CLI call pays a connect).
        Assert.Equal(Results(f.Cli("search", "pleural effusion", "--mode", "bm25", "--json", "--db", f.SingleDb)).ToJsonString(),
            Results(f.Cli("search", "pleural effusion", "--mode", "bm25", "--json", "--cluster", f.ClusterFile)).ToJsonString());
        await using var client = await ClusterClient.ConnectAsync(ClusterConfig.Load(f.ClusterFile));
        using var db = CasebookDb.Open(f.SingleDb, new CasebookOptions { KeyFile = f.Dir.KeyFile });
        var compared = 0;
        foreach (var q in Queries)
            foreach (var (filter, limit, expand) in new (string?, int, bool)[] { (null, 10, true), ("modality = 'CT'", 10, true), (null, 3, true), (null, 10, false), ("kind = 'report_paragraph'", 5, true) })
            {
                var single = db.Search(q).Mode(SearchMode.Bm25).Limit(limit).Expansion(expand);
                if (filter != null) single.Where(filter);
                var cluster = await client.SearchAsync(new ShardSearchRequest { Text = q, Mode = SearchMode.Bm25, Limit = limit, Expand = expand, Filter = filter });
                var one = Results(SearchResultJson.Serialize(single.Execute()));
                Assert.Equal(one.ToJsonString(), Results(SearchResultJson.Serialize(cluster)).ToJsonString());
                compared += one.Count;
            }
        Assert.True(compared > 50, $"only {compared} results compared");
    }

    [Fact]
    public async Task Hybrid_and_dense_search_through_the_cluster_equal_one_node()
    {
        // Global BM25 statistics plus global pseudo-relevance feedback (the query moves toward the best segments of all
        // shards, docs/cluster.md) make fused results the single node's: same studies, order, scores and segments.
        SameUpToFloatRounding(Results(f.Cli("search", "pleural effusion", "--json", "--db", f.SingleDb)),
            Results(f.Cli("search", "pleural effusion", "--json", "--cluster", f.ClusterFile)), "CLI hybrid");
        await using var client = await ClusterClient.ConnectAsync(ClusterConfig.Load(f.ClusterFile));
        using var db = CasebookDb.Open(f.SingleDb, new CasebookOptions { KeyFile = f.Dir.KeyFile });
        foreach (var q in Queries)
            foreach (var (mode, exact, filter) in new (SearchMode, bool, string?)[] { (SearchMode.Hybrid, true, null), (SearchMode.Hybrid, false, null), (SearchMode.Dense, true, null), (SearchMode.Hybrid, true, "modality = 'CT'") })
            {
                var single = db.Search(q).Mode(mode).Exact(exact);
                if (filter != null) single.Where(filter);
                var cluster = await client.SearchAsync(new ShardSearchRequest { Text = q, Mode = mode, Exact = exact, Filter = filter });
                var one = Results(SearchResultJson.Serialize(single.Execute()));
                Assert.True(one.Count > 0, $"{q} ({mode}): no results on one node");
                SameUpToFloatRounding(one, Results(SearchResultJson.Serialize(cluster)), $"{q} ({mode}, exact {exact}, {filter})");
            }
    }

    [Fact]
    public async Task Image_queries_through_the_cluster_equal_one_node()
    {
        // The coordinator embeds the picture once; every shard searches its image slices with that vector.
        var picture = File.ReadAllBytes(Path.Combine(f.Corpus, "images/p8.png"));
        await using var client = await ClusterClient.ConnectAsync(ClusterConfig.Load(f.ClusterFile));
        using var db = CasebookDb.Open(f.SingleDb, new CasebookOptions { KeyFile = f.Dir.KeyFile });
        var vector = ShardSearch.EmbedImageQuery(db.ImageEmbedder, picture);
        foreach (var (text, exact) in new (string?, bool)[] { (null, true), (null, false), ("pleural effusion", true) })
        {
            var one = Results(SearchResultJson.Serialize(db.Search(text, picture).Exact(exact).Execute()));
            Assert.Contains(one, r => r!["matches"]!.AsArray().Any(m => (string)m!["kind"]! == "image_slice"));
            var cluster = await client.SearchAsync(new ShardSearchRequest { Text = text, ImageVector = vector, Exact = exact });
            SameUpToFloatRounding(one, Results(SearchResultJson.Serialize(cluster)), $"image query, text '{text}', exact {exact}");
        }
        // The CLI takes --image with --cluster as with --db.
        var path = Path.Combine(f.Corpus, "images/p8.png");
        SameUpToFloatRounding(Results(f.Cli("search", "--image", path, "--json", "--db", f.SingleDb)),
            Results(f.Cli("search", "--image", path, "--json", "--cluster", f.ClusterFile)), "CLI image query");
    }

    [Fact]
    public async Task Killing_a_silo_moves_its_shards_and_loses_no_acknowledged_study()
    {
        var config = ClusterConfig.Load(f.ClusterFile);
        var victim = config.Nodes.First(n => n.Role == "silo" && LocalCluster.Alive(n.Pid));
        long before;
        await using (var first = await ClusterClient.ConnectAsync(config)) before = (await first.StatusAsync()).Sum(s => s.Studies);
        // An ingest is running (pipeline, appends, waiting for shards) when the silo dies.
        var more = ClusterCorpus.Write(f.Dir["corpus2"], 1000, 12);
        using var ingest = Process.Start(CliProcess.StartInfo(f.Dir.Path, f.Dir.KeyFile, "ingest", f.Dir["corpus2"], "--cluster", f.ClusterFile, "--json"))!;
        var ingestOut = ingest.StandardOutput.ReadToEndAsync();
        var ingestErr = ingest.StandardError.ReadToEndAsync();
        await Task.Delay(2500);
        Process.GetProcessById(victim.Pid).Kill(); // SIGKILL: no goodbye to the membership table
        var clock = Stopwatch.StartNew();
        var hits = Results(f.Cli("search", "pleural effusion", "--mode", "bm25", "--json", "--cluster", f.ClusterFile));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"queries answered again after {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.NotEmpty(hits);
        Assert.True(ingest.WaitForExit(TimeSpan.FromMinutes(3)), "the ingest did not finish");
        Assert.True(ingest.ExitCode == 0, $"ingest exited {ingest.ExitCode}: {await ingestErr} {await ingestOut}");
        f.Cli("ingest", f.Dir["corpus2"], "--db", f.SingleDb, "--json"); // one node keeps the same corpus for the other tests
        Assert.Equal(Results(f.Cli("search", "pleural effusion", "--mode", "bm25", "--json", "--db", f.SingleDb)).ToJsonString(),
            Results(f.Cli("search", "pleural effusion", "--mode", "bm25", "--json", "--cluster", f.ClusterFile)).ToJsonString());

        // Every acknowledged study is there exactly once (live rows over all shards), none on the dead silo.
        await using var client = await ClusterClient.ConnectAsync(ClusterConfig.Load(f.ClusterFile));
        var status = await client.StatusAsync();
        Assert.Equal(before + more.Count, status.Sum(s => s.Studies));
        Assert.DoesNotContain(status, s => s.Silo == victim.Name);

        // A replacement silo joins (same name, fresh ports) and the cluster is whole again for the other tests.
        LocalCluster.StartSilo(config, f.ClusterFile, victim.Name, ("dotnet", ["exec", CliProcess.DllPath]));
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!LocalCluster.Status(ClusterConfig.Load(f.ClusterFile)).All(n => n.Healthy))
        {
            Assert.True(DateTime.UtcNow < deadline, "the replacement silo did not come up in 60 s");
            await Task.Delay(500);
        }
    }

    [Fact]
    public async Task Killing_a_nats_node_keeps_ingest_going_and_the_node_catches_up()
    {
        var config = ClusterConfig.Load(f.ClusterFile);
        var victim = config.Nodes.Last(n => n.Role == "nats");
        long before;
        await using (var client = await ClusterClient.ConnectAsync(config)) before = (await client.StatusAsync()).Sum(s => s.Studies);
        Process.GetProcessById(victim.Pid).Kill();
        var more = ClusterCorpus.Write(f.Dir["corpus3"], 2000, 8);
        f.Cli("ingest", f.Dir["corpus3"], "--cluster", f.ClusterFile, "--json"); // acknowledged by the 2 remaining replicas
        f.Cli("ingest", f.Dir["corpus3"], "--db", f.SingleDb, "--json"); // one node keeps the same corpus for the other tests
        LocalCluster.RestartNats(config, f.ClusterFile, victim.Name);
        await using var after = await ClusterClient.ConnectAsync(ClusterConfig.Load(f.ClusterFile));
        Assert.Equal(before + more.Count, (await after.StatusAsync()).Sum(s => s.Studies));
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var replicas = await after.Log.ReplicasAsync();
            if (replicas.Count == 3 && replicas.All(r => r.Current && r.Lag == 0) && replicas.Any(r => r.Name == victim.Name)) break;
            Assert.True(DateTime.UtcNow < deadline, $"{victim.Name} did not catch up in 60 s: {string.Join(", ", replicas)}");
            await Task.Delay(500);
        }
    }

    static JsonArray Results(string stdout)
    {
        var results = JsonNode.Parse(stdout)!["results"]!.AsArray();
        return results;
    }

    // Cosines are sums of floats; TensorPrimitives may group a reduction differently by array alignment, so the 6th
    // decimal of a score can differ by one between two runs of the same query even on one node. Everything else is exact.
    internal static void SameUpToFloatRounding(JsonNode? one, JsonNode? cluster, string what)
    {
        switch (one)
        {
            case JsonArray a:
                var b = Assert.IsType<JsonArray>(cluster);
                Assert.True(a.Count == b.Count, $"{what}: {a.ToJsonString()} vs {b.ToJsonString()}");
                for (var i = 0; i < a.Count; i++) SameUpToFloatRounding(a[i], b[i], what);
                break;
            case JsonObject o:
                var p = Assert.IsType<JsonObject>(cluster);
                Assert.Equal(o.Select(kv => kv.Key), p.Select(kv => kv.Key));
                foreach (var (key, value) in o) SameUpToFloatRounding(value, p[key], $"{what} {key}");
                break;
            case JsonValue v when v.TryGetValue<double>(out var x) && cluster is JsonValue w && w.TryGetValue<double>(out var y):
                Assert.True(Math.Abs(x - y) <= 2e-6, $"{what}: {x} vs {y}");
                break;
            default:
                Assert.Equal(one?.ToJsonString(), cluster?.ToJsonString());
                break;
        }
    }

    static List<string> Ids(JsonArray results) => results.Select(r => (string)r!["study_id"]!).ToList();
}

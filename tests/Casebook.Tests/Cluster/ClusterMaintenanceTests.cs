using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Casebook.Cluster;

namespace Casebook.Tests.Cluster;

/// <summary>Maintenance verbs with --cluster (docs/cluster.md, "Maintenance"): gc, keys and audit of a served cluster, reembed.</summary>
[Collection("local cluster")]
public sealed class ClusterMaintenanceTests(LocalClusterFixture f, Xunit.Abstractions.ITestOutputHelper output)
{
    static string Sha(byte[] b) => Convert.ToHexStringLower(SHA256.HashData(b));

    [Fact]
    public async Task Gc_removes_unreferenced_blobs_from_the_object_store_and_the_shards_and_keeps_every_referenced_one()
    {
        var config = ClusterConfig.Load(f.ClusterFile);
        await using var client = await ClusterClient.ConnectAsync(config);
        // An ingest that put a blob and died before appending its entry: garbage in the object store.
        var orphan = RandomNumberGenerator.GetBytes(4096);
        await client.Log.PutBlobAsync(Sha(orphan), orphan);
        // A blob copied into a shard's blobs/ whose commit never happened: garbage on a silo's disk.
        var local = RandomNumberGenerator.GetBytes(1024);
        var localFiles = new List<string>();
        foreach (var s in await client.StatusAsync())
        {
            var dir = Path.Combine(config.Nodes.Single(n => n.Role == "silo" && n.Name == s.Silo).Dir, "shards", $"shard-{s.Shard}", "blobs", Sha(local)[..2]);
            Directory.CreateDirectory(dir);
            localFiles.Add(Path.Combine(dir, Sha(local)[2..]));
            File.WriteAllBytes(localFiles[^1], local);
        }

        // Default grace period: the fresh orphan may be an ingest's upload whose entry is on its way, so it stays.
        var first = await client.CollectGarbageAsync();
        Assert.Equal(0, first.BlobsRemoved);
        Assert.True(await client.Log.BlobExistsAsync(Sha(orphan)));
        Assert.True(first.ShardBlobsRemoved >= localFiles.Count, $"{first.ShardBlobsRemoved} shard blobs removed");
        Assert.All(localFiles, p => Assert.False(File.Exists(p), $"{p} survived the shard's gc"));

        // --grace 0 (nothing is being ingested): the orphan goes; the JSON has the single node's key.
        var single = JsonNode.Parse(f.Cli("gc", "--db", f.SingleDb, "--json"))!.AsObject();
        var r = JsonNode.Parse(f.Cli("gc", "--cluster", f.ClusterFile, "--grace", "0", "--json"))!.AsObject();
        Assert.All(single.Select(kv => kv.Key), k => Assert.True(r.ContainsKey(k), $"gc --cluster lacks '{k}'"));
        Assert.True((int)r["blobs_removed"]! >= 1, r.ToJsonString());
        Assert.False(await client.Log.BlobExistsAsync(Sha(orphan)));

        // Every blob a live study references is still in the object store.
        var referenced = 0;
        for (var n = 0; n < config.Shards; n++)
            await foreach (var study in client.LiveStudiesAsync(n))
                foreach (var blob in ClusterClient.BlobsOf(study))
                {
                    Assert.True(await client.Log.BlobExistsAsync(blob.Sha256), $"{study.StudyId}: blob {blob.Sha256} was collected");
                    referenced++;
                }
        Assert.True(referenced >= 10, $"only {referenced} referenced blobs checked");

        // A shard rebuilt from the log after gc fetches its pictures again, and image queries still equal one node.
        var shard = await client.ShardOfStudyAsync("CL-0008") ?? throw new InvalidOperationException("CL-0008 is in no shard");
        await client.RebuildShardAsync(shard);
        var picture = Path.Combine(f.Corpus, "images/p8.png");
        ClusterTests.SameUpToFloatRounding(JsonNode.Parse(f.Cli("search", "--image", picture, "--json", "--db", f.SingleDb))!["results"],
            JsonNode.Parse(f.Cli("search", "--image", picture, "--json", "--cluster", f.ClusterFile))!["results"], "image query after gc and rebuild");
    }

    [Fact]
    public async Task Reembed_with_the_current_model_changes_nothing_on_the_cluster_as_on_one_node()
    {
        var before = Results(f.Cli("search", "pleural effusion", "--mode", "bm25", "--json", "--cluster", f.ClusterFile));
        JsonArray Hybrid(string where, string target) => Results(f.Cli("search", "pleural effusion", "--exact", "--json", where, target));
        var (oneHybrid, clusterHybrid) = (Hybrid("--db", f.SingleDb), Hybrid("--cluster", f.ClusterFile));
        output.WriteLine($"hybrid before reembed, one node: {oneHybrid.ToJsonString()}\ncluster: {clusterHybrid.ToJsonString()}");
        await using var client = await ClusterClient.ConnectAsync(ClusterConfig.Load(f.ClusterFile));
        var logBefore = await client.Log.LastLogSequenceAsync();
        var one = JsonNode.Parse(f.Cli("reembed", "--kind", "text", "--json", "--db", f.SingleDb))!.AsObject();
        var cluster = JsonNode.Parse(f.Cli("reembed", "--kind", "text", "--json", "--cluster", f.ClusterFile))!.AsObject();
        Assert.All(one.Select(kv => kv.Key), k => Assert.True(cluster.ContainsKey(k), $"reembed --cluster lacks '{k}'"));
        Assert.Equal((string)one["model"]!, (string)cluster["model"]!);
        Assert.Empty(one["versions"]!.AsArray());
        Assert.Equal(0, (int)cluster["studies"]!);
        Assert.Equal(logBefore, await client.Log.LastLogSequenceAsync()); // nothing appended
        Assert.Equal(before.ToJsonString(), Results(f.Cli("search", "pleural effusion", "--mode", "bm25", "--json", "--cluster", f.ClusterFile)).ToJsonString());
        // Each side answers as before the reembed (exact dense lists: the vectors are compared, not an approximate index).
        // Single node against cluster is ClusterTests' check; this one is that a reembed changed nothing on either side.
        ClusterTests.SameUpToFloatRounding(oneHybrid, Hybrid("--db", f.SingleDb), "one node, hybrid after reembed");
        ClusterTests.SameUpToFloatRounding(clusterHybrid, Hybrid("--cluster", f.ClusterFile), "cluster, hybrid after reembed");
    }

    [Fact]
    public void Eval_with_cluster_refuses_and_says_why()
    {
        var (code, _, stderr) = CliProcess.Run(f.Dir.Path, f.Dir.KeyFile, TimeSpan.FromMinutes(1), "eval", "ir", "--docs", "d.tsv", "--queries", "q.tsv", "--qrels", "r.qrel", "--cluster", f.ClusterFile);
        Assert.NotEqual(0, code);
        Assert.Contains("throw-away database", stderr);
        Assert.Contains("evaluate on one node", stderr);
    }

    static JsonArray Results(string stdout) => JsonNode.Parse(stdout)!["results"]!.AsArray();

    [Fact]
    public async Task Keys_and_audit_find_the_served_clusters_directory_from_the_cluster_file()
    {
        // A key made before the cluster is served, by the CLI, lands where `serve --cluster` (default directory) reads keys.
        var made = f.Cli("keys", "create", "--role", "clinician", "--label", "ops", "--cluster", f.ClusterFile).TrimEnd().Split('\n');
        var key = made[^1].Trim();
        var keyId = JsonNode.Parse(f.Cli("keys", "list", "--json", "--cluster", f.ClusterFile))!["keys"]!.AsArray()
            .Last(k => (string?)k!["label"] == "ops")!["key_id"]!.GetValue<string>();
        using var serve = Process.Start(CliProcess.StartInfo(f.Dir.Path, f.Dir.KeyFile, "serve", "--cluster", f.ClusterFile, "--port", "0"))!;
        var stderr = serve.StandardError.ReadToEndAsync();
        try
        {
            var url = await serve.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromMinutes(2)) ?? throw new InvalidOperationException($"serve --cluster printed no address: {await stderr}");
            using var http = new HttpClient { BaseAddress = new Uri(url + "/"), Timeout = TimeSpan.FromMinutes(2) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
            var ok = await http.GetAsync("api/search?q=pleural%20effusion&mode=bm25");
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            // Revoked by the CLI: the running server refuses the key.
            f.Cli("keys", "revoke", keyId, "--cluster", f.ClusterFile);
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("api/search?q=aneurysm&mode=bm25")).StatusCode);
        }
        finally
        {
            serve.Kill(entireProcessTree: true);
            serve.WaitForExit();
        }
        // The audit log the server wrote, read and verified by the CLI through the cluster file: the single node's JSON.
        var audit = JsonNode.Parse(f.Cli("audit", "--verify", "--json", "--cluster", f.ClusterFile))!.AsObject();
        var one = JsonNode.Parse(f.Cli("audit", "--verify", "--json", "--db", f.SingleDb))!.AsObject();
        Assert.Equal(one.Select(kv => kv.Key), audit.Select(kv => kv.Key));
        Assert.Equal(one["verification"]!.AsObject().Select(kv => kv.Key), audit["verification"]!.AsObject().Select(kv => kv.Key));
        Assert.True((bool)audit["verification"]!["intact"]!);
        var entries = audit["entries"]!.AsArray();
        Assert.Equal(one["entries"]!.AsArray().FirstOrDefault()?.AsObject().Select(kv => kv.Key) ?? entries[0]!.AsObject().Select(kv => kv.Key), entries[0]!.AsObject().Select(kv => kv.Key));
        Assert.Contains(entries, e => (string)e!["action"]! == "keys.create" && (string)e["target"]! == $"key {keyId}");
        Assert.Contains(entries, e => (string)e!["action"]! == "keys.revoke" && (string)e["target"]! == $"key {keyId}");
        Assert.Contains(entries, e => ((string)e!["target"]!).StartsWith("/api/search", StringComparison.Ordinal) && (string)e["outcome"]! == "success");
        Assert.Contains(entries, e => (string)e!["action"]! == "login" && (string)e["outcome"]! == "failure"); // the revoked key, refused
    }
}

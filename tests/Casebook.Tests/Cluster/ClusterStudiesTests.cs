using System.Text;
using System.Text.Json.Nodes;
using Casebook.Cluster;
using Casebook.Search;
using Casebook.Validation;

namespace Casebook.Tests.Cluster;

/// <summary>
/// The study-scoped verbs with --cluster (issue 9: "every single-node command takes --cluster FILE and prints the same JSON"),
/// clinician changes through the log, and purges that reach every shard, snapshot, the log and the blobs. Uses the shared
/// local cluster; every change made here is made to the one-node database too, so the other tests' comparisons hold.
/// </summary>
[Collection("local cluster")]
public sealed class ClusterStudiesTests(LocalClusterFixture f)
{
    static readonly string[] Studies = ["CL-0003", "CL-0017", "CL-0030"];

    [Fact]
    public async Task Study_reads_through_the_cluster_print_the_single_node_json()
    {
        // CLI: timeline is identical; history has the same shape and the same changes (version numbers are the shard's).
        foreach (var id in Studies)
        {
            Assert.Equal(f.Cli("timeline", id, "--json", "--db", f.SingleDb), f.Cli("timeline", id, "--json", "--cluster", f.ClusterFile));
            var one = JsonNode.Parse(f.Cli("history", id, "--json", "--db", f.SingleDb))!;
            var cluster = JsonNode.Parse(f.Cli("history", id, "--json", "--cluster", f.ClusterFile))!;
            Assert.Equal(Keys(one), Keys(cluster));
            Assert.Equal(Shape(one["versions"]!), Shape(cluster["versions"]!));
        }
        // regions: the same JSON; stats: the same keys, and the same counts of studies, segments and patients.
        Assert.Equal(f.Cli("regions", Studies[1], "--json", "--db", f.SingleDb), f.Cli("regions", Studies[1], "--json", "--cluster", f.ClusterFile));
        var statsOne = JsonNode.Parse(f.Cli("stats", "--json", "--db", f.SingleDb))!.AsObject();
        var statsCluster = JsonNode.Parse(f.Cli("stats", "--json", "--cluster", f.ClusterFile))!.AsObject();
        Assert.Equal(Keys(statsOne), Keys(statsCluster));
        foreach (var key in new[] { "studies", "segments", "patients" }) Assert.Equal((long)statsOne[key]!, (long)statsCluster[key]!);
        var versions = JsonNode.Parse(f.Cli("versions", "--json", "--cluster", f.ClusterFile))!["versions"]!.AsArray();
        Assert.Equal(["version", "time", "author", "message", "log_seq", "shard"], versions[0]!.AsObject().Select(kv => kv.Key));
        Assert.Contains(versions, v => v!["message"]!.GetValue<string>().StartsWith("cluster log seq ", StringComparison.Ordinal));

        await using var client = await ClusterClient.ConnectAsync(ClusterConfig.Load(f.ClusterFile));
        using var db = CasebookDb.Open(f.SingleDb, new CasebookOptions { KeyFile = f.Dir.KeyFile });
        foreach (var id in Studies)
        {
            // The record itself, as the owning shard stores it, equals one node's (vectors and all).
            var study = await client.GetStudyAsync(id);
            Assert.NotNull(study);
            Assert.Equal(System.Text.Json.JsonSerializer.Serialize(db.GetStudy(id), ClusterLog.RecordJson), System.Text.Json.JsonSerializer.Serialize(study, ClusterLog.RecordJson));
        }
        Assert.Null(await client.GetStudyAsync("NO-SUCH-STUDY"));
        Assert.Throws<ArgumentException>(() => client.HistoryAsync("NO-SUCH-STUDY").GetAwaiter().GetResult());

        // Similar cases: the single-node contract (keys), the query study left out, and mostly the same neighbours
        // (hybrid fusion through the cluster is close, not identical: docs/cluster.md).
        var similarOne = JsonNode.Parse(f.Cli("similar", "--study", Studies[0], "--limit", "5", "--json", "--db", f.SingleDb))!;
        var similarCluster = JsonNode.Parse(f.Cli("similar", "--study", Studies[0], "--limit", "5", "--json", "--cluster", f.ClusterFile))!;
        Assert.Equal(Keys(similarOne), Keys(similarCluster));
        var a = similarOne["results"]!.AsArray().Select(r => r!["study_id"]!.GetValue<string>()).ToList();
        var b = similarCluster["results"]!.AsArray().Select(r => r!["study_id"]!.GetValue<string>()).ToList();
        Assert.Equal(5, b.Count);
        Assert.DoesNotContain(Studies[0], b);
        Assert.True(a.Intersect(b).Count() >= 3, $"one node [{string.Join(",", a)}] vs cluster [{string.Join(",", b)}]");
        // Outcomes of a shared neighbour come from its shard and equal one node's.
        var shared = a.Intersect(b).First();
        Assert.Equal(similarOne["results"]!.AsArray().First(r => r!["study_id"]!.GetValue<string>() == shared)!["outcomes"]!.ToJsonString(),
            similarCluster["results"]!.AsArray().First(r => r!["study_id"]!.GetValue<string>() == shared)!["outcomes"]!.ToJsonString());
    }

    [Fact]
    public async Task Clinician_changes_are_log_entries_the_owning_shard_applies_with_the_clinicians_name()
    {
        const string id = "CL-0011";
        var baseVersion = LastVersion(f.Cli("history", id, "--json", "--cluster", f.ClusterFile));
        var cluster = JsonNode.Parse(f.Cli("diagnose", id, "--code", "J90", "--system", "icd10cm", "--status", "confirmed", "--reason", "tapped",
            "--author", "dr.who", "--role", "validator", "--base-version", baseVersion.ToString(), "--json", "--cluster", f.ClusterFile))!;
        var oneBase = LastVersion(f.Cli("history", id, "--json", "--db", f.SingleDb));
        var one = JsonNode.Parse(f.Cli("diagnose", id, "--code", "J90", "--system", "icd10cm", "--status", "confirmed", "--reason", "tapped",
            "--author", "dr.who", "--role", "validator", "--base-version", oneBase.ToString(), "--json", "--db", f.SingleDb))!;
        // Same JSON as one node, less the clinician's time (each made its own) and the version number (the shard's own).
        Assert.Equal(Without(one), Without(cluster));
        Assert.True(cluster["version"]!.GetValue<long>() > baseVersion);

        // The history through the cluster names the clinician, the role and the reason.
        var history = JsonNode.Parse(f.Cli("history", id, "--json", "--cluster", f.ClusterFile))!["versions"]!.AsArray();
        var last = history[^1]!;
        Assert.Equal(("dr.who", "validator", "tapped", "diagnose"), ((string)last["author"]!, (string)last["role"]!, (string)last["reason"]!, (string)last["action"]!));
        Assert.Contains("clinical_codes", last["changed"]!.AsArray().Select(c => (string)c!));

        // A stale base version is refused as on one node (exit 4, conflict JSON) and appends nothing; a researcher is refused.
        var (code, stdout, stderr) = CliProcess.Run(f.Dir.Path, f.Dir.KeyFile, TimeSpan.FromMinutes(2), "validate", id, "--finding", "effusion", "--status", "confirmed",
            "--author", "dr.late", "--role", "validator", "--base-version", baseVersion.ToString(), "--json", "--cluster", f.ClusterFile);
        Assert.True(code == 4, $"exit {code}: {stderr}");
        Assert.Equal("conflict", (string)JsonNode.Parse(stdout)!["error"]!);
        (code, _, stderr) = CliProcess.Run(f.Dir.Path, f.Dir.KeyFile, TimeSpan.FromMinutes(2), "diagnose", id, "--code", "J91", "--system", "icd10cm", "--status", "confirmed",
            "--author", "r", "--role", "researcher", "--base-version", cluster["version"]!.ToString(), "--cluster", f.ClusterFile);
        Assert.Equal(3, code);
        Assert.Contains("may not validate", stderr);
        (code, _, stderr) = CliProcess.Run(f.Dir.Path, f.Dir.KeyFile, TimeSpan.FromMinutes(2), "validate", id, "--finding", "effusion", "--status", "maybe",
            "--author", "dr.who", "--role", "validator", "--base-version", cluster["version"]!.ToString(), "--cluster", f.ClusterFile);
        Assert.Equal(3, code);
        Assert.Contains("expected confirmed or rejected", stderr);

        // The change is an entry of the study's partition, attributed and time-stamped, and nothing else was appended.
        await using var client = await ClusterClient.ConnectAsync(ClusterConfig.Load(f.ClusterFile));
        var shard = (await client.ShardOfStudyAsync(id))!.Value;
        var entries = (await client.Log.ReadAsync(shard, 0, 100_000)).Where(e => e.Command?.StudyId == id).ToList();
        Assert.Single(entries);
        Assert.Equal((ClusterCommand.Diagnose, "dr.who", "validator", "J90"), (entries[0].Command!.Command, entries[0].Command!.Author, entries[0].Command!.Role, entries[0].Command!.Arg("code")));

        // Replayed from scratch, the shard makes the same change with the same stamp (idempotent, in log order).
        var before = (await client.GetStudyAsync(id))!;
        await client.RebuildShardAsync(shard);
        var after = (await client.GetStudyAsync(id))!;
        Assert.Equal(before.Metadata["diagnoses"]!.ToJsonString(), after.Metadata["diagnoses"]!.ToJsonString());
        Assert.Equal(before.ClinicalCodes, after.ClinicalCodes);
    }

    [Fact]
    public async Task A_purge_reaches_the_shard_the_log_the_snapshot_and_the_blobs_and_a_replay_does_not_bring_it_back()
    {
        // Patient PURGE-A has two studies with a word nobody else uses and two images, one of which PURGE-B also has.
        var images = SharedData.Require("images/breastmnist");
        var corpus = f.Dir["purge-corpus"];
        Directory.CreateDirectory(corpus);
        File.Copy(Path.Combine(images, "test_0000.png"), Path.Combine(corpus, "only-a.png"));
        File.Copy(Path.Combine(images, "test_0001.png"), Path.Combine(corpus, "shared.png"));
        File.WriteAllText(Path.Combine(corpus, "a1.txt"), "FINDINGS:\nquokkalesion in the left breast.\n\nIMPRESSION:\nquokkalesion.\n");
        File.WriteAllText(Path.Combine(corpus, "a2.txt"), "FINDINGS:\nstable quokkalesion.\n");
        File.WriteAllText(Path.Combine(corpus, "b1.txt"), "FINDINGS:\nsmall cyst.\n");
        File.WriteAllLines(Path.Combine(corpus, "studies.csv"), [
            "study_id,patient_id,modality,exam_date,report,images",
            "PG-A1,PURGE-A,MG,2024-03-01,a1.txt,only-a.png",
            "PG-A2,PURGE-A,MG,2024-04-01,a2.txt,shared.png",
            "PG-B1,PURGE-B,MG,2024-04-02,b1.txt,shared.png",
        ]);
        f.Cli("ingest", corpus, "--cluster", f.ClusterFile, "--json");
        f.Cli("ingest", corpus, "--db", f.SingleDb, "--json");
        var onlyA = Sha(Path.Combine(corpus, "only-a.png"));
        var shared = Sha(Path.Combine(corpus, "shared.png"));
        await using var client = await ClusterClient.ConnectAsync(ClusterConfig.Load(f.ClusterFile));
        var pseudo = client.Pseudonymise(Casebook.Ingest.StudyManifest.DefaultIssuer, "PURGE-A");
        var shard = ShardMap.ShardOf(pseudo, client.Config.Shards);
        Assert.NotNull(await client.GetStudyAsync("PG-A1"));
        Assert.True(await client.Log.BlobExistsAsync(onlyA));
        Assert.Contains(await client.Log.ScanAsync(ClusterLog.Stream), m => Contains(m.Data, "quokkalesion"));
        await client.SnapshotShardAsync(shard); // an older snapshot that holds the patient
        Assert.True(Contains((await client.Log.SnapshotBytesAsync(shard))!, "quokkalesion"));

        // The purge through the cluster prints one node's JSON (same counts), recorded under the pseudonym only.
        var one = JsonNode.Parse(f.Cli("purge", "--patient", "PURGE-A", "--json", "--db", f.SingleDb))!;
        var cluster = JsonNode.Parse(f.Cli("purge", "--patient", "PURGE-A", "--json", "--cluster", f.ClusterFile))!;
        one.AsObject().Remove("version");
        cluster.AsObject().Remove("version");
        Assert.Equal(one.ToJsonString(), cluster.ToJsonString());
        Assert.Equal(2, (int)cluster["studies_removed"]!);

        // No shard holds the patient; search does not find the word.
        Assert.Null(await client.GetStudyAsync("PG-A1"));
        Assert.Null(await client.GetStudyAsync("PG-A2"));
        Assert.Empty((await client.SearchAsync(new ShardSearchRequest { Text = "quokkalesion", Mode = SearchMode.Bm25 })).Results);
        Assert.NotNull(await client.GetStudyAsync("PG-B1"));
        // No stream message holds the patient's data; the purge entry names only the pseudonym.
        var log = await client.Log.ScanAsync(ClusterLog.Stream);
        Assert.DoesNotContain(log, m => Contains(m.Data, "quokkalesion") || Contains(m.Data, "PG-A1") || Contains(m.Data, "PG-A2"));
        var purge = Assert.Single(log, m => Contains(m.Data, "\"purge_patient\""));
        Assert.True(Contains(purge.Data, pseudo));
        // No snapshot object holds it (the fresh snapshot replaced the old one and its chunks), and the restored snapshot has none of its rows.
        Assert.DoesNotContain(await client.Log.ScanAsync(ClusterLog.SnapshotStream), m => Contains(m.Data, "quokkalesion") || Contains(m.Data, "PG-A1"));
        using (var restored = new TempDirectory())
        {
            Directory.CreateDirectory(restored["db"]);
            await File.WriteAllBytesAsync(Path.Combine(restored["db"], "casebook.db"), (await client.Log.SnapshotBytesAsync(shard))!);
            using var db = CasebookDb.Open(restored["db"]);
            Assert.Null(db.GetStudy("PG-A1"));
            Assert.Empty(db.Search("quokkalesion").Mode(SearchMode.Bm25).Execute().Results);
        }
        // The blob only the patient used is gone from the object store; the one another patient shares stays.
        Assert.False(await client.Log.BlobExistsAsync(onlyA));
        Assert.True(await client.Log.BlobExistsAsync(shared));
        Assert.DoesNotContain(await client.Log.ScanAsync(ClusterLog.BlobStream), m => m.Subject.EndsWith(onlyA, StringComparison.Ordinal));

        // No file on any silo's disk (live shard databases, stale copies, blob stores, logs) holds the patient. After silo
        // kills (other tests in this collection) a shard can briefly have a second activation that has not yet read the
        // purge entry; every copy that catches up with the log applies it, so the disk is checked after a catch-up of every
        // shard, for up to 30 s.
        var holding = new List<string>();
        for (var deadline = DateTime.UtcNow.AddSeconds(30); ; await Task.Delay(1000))
        {
            await Task.WhenAll(Enumerable.Range(0, f.Shards).Select(n => client.Orleans.GetGrain<IShardGrain>(n).CatchUp(0)));
            holding.Clear();
            foreach (var file in Directory.EnumerateFiles(Path.Combine(f.Dir["cluster"], "silos"), "*", SearchOption.AllDirectories))
            {
                Assert.NotEqual(onlyA, Path.GetFileName(file));
                byte[] bytes;
                try { bytes = await File.ReadAllBytesAsync(file); } catch (IOException) { continue; } // removed while listed
                if (Contains(bytes, "quokkalesion") || Contains(bytes, "PG-A1")) holding.Add(file);
            }
            if (holding.Count == 0 || DateTime.UtcNow > deadline) break;
        }
        var where = string.Join(", ", (await client.StatusAsync()).Select(st => $"shard {st.Shard} on {st.Silo}"));
        Assert.True(holding.Count == 0, $"{string.Join(", ", holding)} still hold the purged patient ({where})");

        // Replayed from scratch, the shard does not bring the patient back (and keeps the other patient).
        await client.RebuildShardAsync(shard);
        Assert.Null(await client.GetStudyAsync("PG-A1"));
        Assert.NotNull(await client.GetStudyAsync("PG-B1"));
        Assert.Equal(Results(f.Cli("search", "cyst", "--mode", "bm25", "--json", "--db", f.SingleDb)), Results(f.Cli("search", "cyst", "--mode", "bm25", "--json", "--cluster", f.ClusterFile)));
    }

    static string Results(string stdout) => JsonNode.Parse(stdout)!["results"]!.ToJsonString();

    static bool Contains(byte[] data, string text) => data.AsSpan().IndexOf(Encoding.UTF8.GetBytes(text)) >= 0;

    static string Sha(string file) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(file)));

    static long LastVersion(string historyJson) => JsonNode.Parse(historyJson)!["versions"]!.AsArray()[^1]!["version"]!.GetValue<long>();

    static List<string> Keys(JsonNode n) => n.AsObject().Select(kv => kv.Key).ToList();

    /// <summary>Per history entry: its keys and what changed (the parts that do not depend on version numbers or times).</summary>
    static string Shape(JsonNode versions) => string.Join(";", versions.AsArray().Select(v =>
        string.Join(",", v!.AsObject().Select(kv => kv.Key)) + "|" + v["changed"]!.ToJsonString()));

    static string Without(JsonNode result)
    {
        var o = result.DeepClone().AsObject();
        o.Remove("version");
        o["change"]!.AsObject().Remove("time");
        return o.ToJsonString();
    }
}

using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Casebook.Cluster;
using Casebook.Search;
using Casebook.Server;
using Casebook.Server.Security;
using DuckDB.NET.Data;

namespace Casebook.Tests.Cluster;

/// <summary>
/// Time travel, restore and export through the shared local cluster (docs/cluster.md, "Time travel"): the cluster's version is a
/// log sequence; as of a sequence recorded here the cluster answers exactly what one node answers at the version it had then.
/// Other tests of the collection ingest and change studies too, so every sequence and version is recorded by this test itself.
/// </summary>
[Collection("local cluster")]
public sealed class ClusterHistoryTests(LocalClusterFixture f)
{
    static readonly string[] Queries = ["pleural effusion", "aneurysm", "mass in the lung", "fibrosis thrombus cyst"];

    long SingleVersion()
    {
        using var db = CasebookDb.Open(f.SingleDb, new CasebookOptions { KeyFile = f.Dir.KeyFile });
        return db.CurrentVersion;
    }

    [Fact]
    public async Task As_of_a_log_sequence_is_one_node_at_its_version_then_and_restore_goes_through_the_log()
    {
        await using var client = await ClusterClient.ConnectAsync(ClusterConfig.Load(f.ClusterFile));
        // Now: the same ingests (and clinician changes) went to both, so log sequence s0 is one node's version v0.
        var s0 = await client.Log.LastLogSequenceAsync();
        var v0 = SingleVersion();
        var corpus = f.Dir["history-corpus"];
        var added = ClusterCorpus.Write(corpus, 3000, 6);
        f.Cli("ingest", corpus, "--cluster", f.ClusterFile, "--json");
        f.Cli("ingest", corpus, "--db", f.SingleDb, "--json");
        var s1 = await client.Log.LastLogSequenceAsync();
        var v1 = SingleVersion();
        Assert.True(s1 > s0 && v1 > v0);
        // A clinician change after s1, on both.
        const string changed = "CL-0033", code = "C34.90";
        foreach (var (flag, target) in new[] { ("--cluster", f.ClusterFile), ("--db", f.SingleDb) })
        {
            var history = JsonNode.Parse(f.Cli("history", changed, "--json", flag, target))!["versions"]!.AsArray();
            f.Cli("diagnose", changed, "--code", code, "--system", "icd10cm", "--status", "provisional", "--author", "dr.history", "--role", "validator",
                "--base-version", history[^1]!["version"]!.ToString(), "--json", flag, target);
        }
        var s2 = await client.Log.LastLogSequenceAsync();

        // versions --cluster --json: every version says its log sequence; the diagnosis is after s1, and sequences grow with versions.
        var versions = JsonNode.Parse(f.Cli("versions", "--json", "--cluster", f.ClusterFile))!["versions"]!.AsArray().Select(v => v!.AsObject()).ToList();
        Assert.All(versions, v => Assert.Equal(["version", "time", "author", "message", "log_seq", "shard"], v.Select(kv => kv.Key)));
        foreach (var shard in versions.GroupBy(v => (int)v["shard"]!))
        {
            var seqs = shard.OrderBy(v => (long)v["version"]!).Select(v => (long)v["log_seq"]!).ToList();
            Assert.Equal(seqs.Order(), seqs);
            Assert.All(seqs, s => Assert.InRange(s, 1, s2));
        }
        var diagnosisSeq = versions.Where(v => (string)v["author"]! == "dr.history").Select(v => (long)v["log_seq"]!).Single();
        Assert.InRange(diagnosisSeq, s1 + 1, s2);

        using (var db = CasebookDb.Open(f.SingleDb, new CasebookOptions { KeyFile = f.Dir.KeyFile }))
        {
            var picture = File.ReadAllBytes(Path.Combine(f.Corpus, "images/p8.png"));
            var image = ShardSearch.EmbedImageQuery(db.ImageEmbedder, picture);
            foreach (var (s, v) in new[] { (s0, v0), (s1, v1) })
            {
                // The same studies, with the same content, as of S and one node's version then.
                var rowsOne = db.Studies(v).ToList();
                var rowsCluster = client.StudiesForExport(s).ToList();
                Assert.Equal(rowsOne.Select(x => x.StudyId), rowsCluster.Select(x => x.StudyId));
                for (var i = 0; i < rowsOne.Count; i++) Assert.Equal(Record(rowsOne[i]), Record(rowsCluster[i]));
                foreach (var q in Queries)
                    foreach (var (mode, filter, exact) in new (SearchMode, string?, bool)[] { (SearchMode.Bm25, null, false), (SearchMode.Bm25, "modality = 'CT'", false), (SearchMode.Dense, null, true), (SearchMode.Dense, "modality = 'CR'", true), (SearchMode.Hybrid, null, true), (SearchMode.Hybrid, null, false) })
                    {
                        var single = db.Search(q).Mode(mode).Exact(exact).Limit(20).AsOf(v);
                        if (filter != null) single.Where(filter);
                        var one = Results(SearchResultJson.Serialize(single.Execute()));
                        Assert.True(one.Count > 0, $"{q} at version {v}: no results on one node");
                        var cluster = Results(SearchResultJson.Serialize(await client.SearchAsync(new ShardSearchRequest { Text = q, Mode = mode, Exact = exact, Limit = 20, Filter = filter, AsOfLogSeq = s })));
                        try { ClusterTests.SameUpToFloatRounding(one, cluster, $"'{q}' {mode} {filter} as of {s} / {v}"); }
                        catch (Exception e)
                        {
                            var nowOne = Results(SearchResultJson.Serialize(db.Search(q).Mode(mode).Exact(exact).Limit(20).Execute()));
                            var nowCluster = Results(SearchResultJson.Serialize(await client.SearchAsync(new ShardSearchRequest { Text = q, Mode = mode, Exact = exact, Limit = 20 })));
                            throw new Xunit.Sdk.XunitException($"{e.Message}\none node: {Brief(one)}\ncluster:  {Brief(cluster)}\nnow one: {Brief(nowOne)}\nnow cluster: {Brief(nowCluster)}");
                        }
                    }
                var pictureOne = Results(SearchResultJson.Serialize(db.Search(null, picture).Exact(true).AsOf(v).Execute()));
                ClusterTests.SameUpToFloatRounding(pictureOne, Results(SearchResultJson.Serialize(await client.SearchAsync(new ShardSearchRequest { ImageVector = image, Exact = true, AsOfLogSeq = s }))), $"image as of {s}");
            }
            // Later data is invisible: as of s0 none of the added studies, as of s1 the study without the later diagnosis.
            var wide = Results(SearchResultJson.Serialize(await client.SearchAsync(new ShardSearchRequest { Text = "pleural effusion lung", Mode = SearchMode.Bm25, Limit = 500, AsOfLogSeq = s0 })));
            Assert.DoesNotContain(wide, r => added.Contains((string)r!["study_id"]!));
            Assert.Contains(Results(SearchResultJson.Serialize(await client.SearchAsync(new ShardSearchRequest { Text = "pleural effusion lung", Mode = SearchMode.Bm25, Limit = 500 }))), r => added.Contains((string)r!["study_id"]!));
            Assert.Null(await client.GetStudyAsOfAsync(added[0], s0));
            Assert.Equal(Record(db.GetStudy(added[0], v1)), Record(await client.GetStudyAsOfAsync(added[0], s1)));
            var thenStudy = (await client.GetStudyAsOfAsync(changed, s1))!;
            Assert.Equal(Record(db.GetStudy(changed, v1)), Record(thenStudy));
            Assert.DoesNotContain(code, thenStudy.Metadata.ToJsonString());
            Assert.Contains(code, (await client.GetStudyAsync(changed))!.Metadata.ToJsonString());
            await Assert.ThrowsAsync<ArgumentException>(() => client.SearchAsync(new ShardSearchRequest { Text = "x", AsOfLogSeq = s2 + 1000 }));
        }
        // The CLI takes --as-of with --cluster (a log sequence), and export --as-of writes one node's rows of that version.
        Assert.Equal(Results(f.Cli("search", "pleural effusion", "--mode", "bm25", "--as-of", v0.ToString(), "--json", "--db", f.SingleDb)).ToJsonString(),
            Results(f.Cli("search", "pleural effusion", "--mode", "bm25", "--as-of", s0.ToString(), "--json", "--cluster", f.ClusterFile)).ToJsonString());
        SameRows(Export("jsonl", ["--as-of", v0.ToString()], "--db", f.SingleDb), Export("jsonl", ["--as-of", s0.ToString()], "--cluster", f.ClusterFile));

        // serve --cluster: as_of is a log sequence on searches and study reads (the single node's JSON at its version then).
        await ServeAsOf(s0, v0, s1, v1, added[0], changed);

        // Restore s0 through the log (one entry per shard) and one node's restore of v0: the same studies change.
        var restoredOne = JsonNode.Parse(f.Cli("restore", v0.ToString(), "--json", "--db", f.SingleDb))!;
        var restored = JsonNode.Parse(f.Cli("restore", s0.ToString(), "--json", "--cluster", f.ClusterFile))!;
        Assert.Equal(["version", "restored", "changed"], restored.AsObject().Select(kv => kv.Key));
        Assert.Equal(s0, (long)restored["restored"]!);
        Assert.Equal((int)restoredOne["changed"]!, (int)restored["changed"]!);
        Assert.True((int)restored["changed"]! >= added.Count + 1, restored.ToJsonString());
        Assert.True((long)restored["version"]! > s2);
        await SameAsOneNode(client, added, changed, code, "after the restore");

        // The restore is in the log: shards rebuilt from their partition alone (the restored study's and an added study's) agree.
        var shards = new[] { (await client.ShardOfStudyAsync(changed))!.Value, (await client.ShardOfStudyAsync(added[0]))!.Value }.Distinct();
        foreach (var shard in shards) await client.RebuildShardAsync(shard);
        await SameAsOneNode(client, added, changed, code, "after rebuilding from the log");
        // Restoring the state that is current again changes nothing (as one node: version null).
        Assert.Null(JsonNode.Parse(f.Cli("restore", restored["version"]!.ToString(), "--json", "--cluster", f.ClusterFile))!["version"]);
    }

    async Task SameAsOneNode(ClusterClient client, List<string> added, string changed, string code, string when)
    {
        using (var db = CasebookDb.Open(f.SingleDb, new CasebookOptions { KeyFile = f.Dir.KeyFile }))
        {
            foreach (var q in Queries)
            {
                Assert.Equal(Results(SearchResultJson.Serialize(db.Search(q).Mode(SearchMode.Bm25).Limit(50).Execute())).ToJsonString(),
                    Results(SearchResultJson.Serialize(await client.SearchAsync(new ShardSearchRequest { Text = q, Mode = SearchMode.Bm25, Limit = 50 }))).ToJsonString());
            }
            Assert.Equal(Record(db.GetStudy(changed)), Record(await client.GetStudyAsync(changed)));
        }
        Assert.DoesNotContain(code, (await client.GetStudyAsync(changed))!.Metadata.ToJsonString());
        foreach (var id in added) Assert.Null(await client.GetStudyAsync(id));
        SameRows(Export("jsonl", [], "--db", f.SingleDb), Export("jsonl", [], "--cluster", f.ClusterFile), when);
    }

    async Task ServeAsOf(long s0, long v0, long s1, long v1, string added, string changed)
    {
        var serverDir = f.Dir["history-server"];
        CasebookDb.Open(serverDir).Dispose();
        var keys = new Dictionary<(bool, string), string>();
        foreach (var (cluster, dir) in new[] { (false, f.SingleDb), (true, serverDir) })
        {
            var store = new ApiKeyStore(new ServerStore(dir));
            foreach (var role in new[] { "clinician", "admin", "researcher" }) keys[(cluster, role)] = store.Create(role, "history test").Key;
        }
        await using var one = CasebookServer.Create(new ServerOptions { DbDirectory = f.SingleDb, KeyFile = f.Dir.KeyFile, Port = 0, RequestsPerWindow = 1_000_000 });
        await using var cl = CasebookServer.Create(new ServerOptions { DbDirectory = serverDir, ClusterFile = f.ClusterFile, KeyFile = f.Dir.KeyFile, Port = 0, RequestsPerWindow = 1_000_000 });
        await one.StartAsync();
        await cl.StartAsync();
        HttpClient As(CasebookServer s, string role) => new()
        {
            BaseAddress = new Uri(s.Urls[0] + "/"), Timeout = TimeSpan.FromMinutes(3),
            DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Bearer", keys[(s == cl, role)]) },
        };
        foreach (var (path, v, s) in new[]
                 {
                     ("api/search?q=pleural%20effusion&mode=bm25&limit=20&as_of=", v0, s0), ("api/search?q=aneurysm&limit=5&as_of=", v1, s1),
                     ($"api/studies/{changed}?as_of=", v1, s1), ($"api/studies/{added}?as_of=", v1, s1),
                 })
        {
            var a = await As(one, "clinician").GetAsync(path + v);
            var b = await As(cl, "clinician").GetAsync(path + s);
            Assert.True(b.StatusCode == HttpStatusCode.OK, $"{path}{s}: {(int)b.StatusCode} {await b.Content.ReadAsStringAsync()}");
            ClusterTests.SameUpToFloatRounding(NoTime(await a.Content.ReadAsStringAsync()), NoTime(await b.Content.ReadAsStringAsync()), path);
        }
        var gone = await As(cl, "clinician").GetAsync($"api/studies/{added}?as_of={s0}");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.Equal("application/problem+json", gone.Content.Headers.ContentType!.MediaType);
        Assert.Equal(HttpStatusCode.BadRequest, (await As(cl, "clinician").GetAsync("api/search?q=x&as_of=abc")).StatusCode);

        // GET /api/export: one node's file from every shard, as of a log sequence; researchers' rows de-identified, no blobs for them.
        foreach (var role in new[] { "admin", "researcher" })
        {
            var a = await As(one, role).GetByteArrayAsync($"api/export?format=jsonl&as_of={v1}");
            var b = await As(cl, role).GetAsync($"api/export?format=jsonl&as_of={s1}");
            Assert.True(b.IsSuccessStatusCode, $"{role}: {(int)b.StatusCode} {await b.Content.ReadAsStringAsync()}");
            Assert.Equal("application/x-ndjson", b.Content.Headers.ContentType!.MediaType);
            SameRows(Lines(a), Lines(await b.Content.ReadAsByteArrayAsync()), $"GET /api/export as {role}");
        }
        Assert.Equal(HttpStatusCode.Forbidden, (await As(cl, "researcher").GetAsync("api/export?format=jsonl&blobs=true")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await As(cl, "clinician").GetAsync("api/export?format=jsonl")).StatusCode);
    }

    [Fact]
    public void Export_through_the_cluster_writes_the_single_node_table_in_every_format()
    {
        // JSON Lines row by row, with the segments table; Parquet read back by DuckDB; Arrow by its own reader.
        SameRows(Export("jsonl", ["--segments"], "--db", f.SingleDb), Export("jsonl", ["--segments"], "--cluster", f.ClusterFile), "jsonl");
        SameRows(Lines(File.ReadAllBytes(f.Dir["export-db-jsonl/t_segments.jsonl"])), Lines(File.ReadAllBytes(f.Dir["export-cluster-jsonl/t_segments.jsonl"])), "segments");
        Export("parquet", [], "--db", f.SingleDb);
        Export("parquet", [], "--cluster", f.ClusterFile);
        SameRows(ParquetRows(f.Dir["export-db-parquet/t.parquet"]), ParquetRows(f.Dir["export-cluster-parquet/t.parquet"]), "parquet");
        Export("arrow", ["--no-blobs"], "--db", f.SingleDb);
        Export("arrow", ["--no-blobs"], "--cluster", f.ClusterFile);
        Assert.Equal(ArrowRows(f.Dir["export-db-arrow/t.arrow"]), ArrowRows(f.Dir["export-cluster-arrow/t.arrow"]));
        // Blobs come from the object store by content hash: the images of the corpus are in the export.
        Assert.Contains(Lines(File.ReadAllBytes(f.Dir["export-cluster-jsonl/t.jsonl"])), r => r["dicom_image"] is JsonValue);
    }

    /// <summary>Exports with the CLI to a fresh directory per side and format; answers the main table's rows.</summary>
    List<JsonObject> Export(string format, string[] extra, string flag, string target)
    {
        var dir = f.Dir[$"export-{(flag == "--db" ? "db" : "cluster")}-{format}"];
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        Directory.CreateDirectory(dir);
        var outPath = Path.Combine(dir, "t." + format);
        var result = JsonNode.Parse(f.Cli(["export", "--format", format, "--out", outPath, "--json", .. extra, flag, target]))!;
        Assert.Equal(format, (string)result["format"]!);
        return format == "jsonl" ? Lines(File.ReadAllBytes(outPath)) : [];
    }

    static List<JsonObject> Lines(byte[] bytes) => System.Text.Encoding.UTF8.GetString(bytes).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();

    static List<JsonObject> ParquetRows(string path)
    {
        using var conn = new DuckDBConnection("Data Source=:memory:");
        conn.Open();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = $"SELECT to_json(t) FROM read_parquet('{path.Replace("'", "''")}') t";
        using var r = cmd.ExecuteReader();
        var rows = new List<JsonObject>();
        while (r.Read()) rows.Add(JsonNode.Parse(r.GetString(0))!.AsObject());
        return rows;
    }

    static List<string> ArrowRows(string path)
    {
        using var stream = File.OpenRead(path);
        using var reader = new Apache.Arrow.Ipc.ArrowFileReader(stream);
        var rows = new List<string>();
        for (var batch = reader.ReadNextRecordBatch(); batch != null; batch = reader.ReadNextRecordBatch())
        {
            var ids = (Apache.Arrow.StringArray)batch.Column("study_id");
            var patients = (Apache.Arrow.StringArray)batch.Column("patient_pseudo_id");
            var reports = (Apache.Arrow.StringArray)batch.Column("report_text");
            for (var i = 0; i < batch.Length; i++) rows.Add($"{ids.GetString(i)} {patients.GetString(i)} {reports.GetString(i)}");
        }
        return rows;
    }

    /// <summary>
    /// Same rows in the same order. A clinician's change carries the time it was made, which differs between the cluster and one
    /// node (each stamped its own call), and one made through a server its API key id: those are left out, nothing else.
    /// </summary>
    static void SameRows(List<JsonObject> one, List<JsonObject> cluster, string what = "export")
    {
        Assert.True(one.Count > 0, $"{what}: no rows");
        Assert.Equal(one.Select(r => (string?)r["study_id"] ?? (string?)r["segment_id"]), cluster.Select(r => (string?)r["study_id"] ?? (string?)r["segment_id"]));
        for (var i = 0; i < one.Count; i++) Assert.Equal(Untimed(one[i]).ToJsonString(), Untimed(cluster[i]).ToJsonString());
    }

    static JsonNode? Untimed(JsonNode? node) => node switch
    {
        // A change made through the HTTP API is signed by the caller's API key id: each server made its own keys.
        JsonObject o => new JsonObject(o.Where(kv => kv.Key != "time" && !(kv.Key == "author" && kv.Value is JsonValue a && a.TryGetValue<string>(out var k) && k.StartsWith("key:", StringComparison.Ordinal)))
            .Select(kv => KeyValuePair.Create(kv.Key, Untimed(kv.Value)))),
        JsonArray a => new JsonArray(a.Select(Untimed).ToArray()),
        // JSON columns are JSON text: compare their content.
        JsonValue v when v.TryGetValue<string>(out var s) && s.Length > 1 && s[0] is '{' or '[' && TryParse(s) is { } inner => Untimed(inner),
        _ => node?.DeepClone(),
    };

    static JsonNode? TryParse(string s)
    {
        try { return JsonNode.Parse(s); }
        catch (JsonException) { return null; }
    }

    static string Record(Casebook.Model.StudyRecord? s) => Untimed(JsonNode.Parse(JsonSerializer.Serialize(s, ClusterLog.RecordJson)))!.ToJsonString();

    static JsonArray Results(string stdout) => JsonNode.Parse(stdout)!["results"]!.AsArray();

    static string Brief(JsonArray results) => string.Join(" ", results.Select(r => $"{r!["study_id"]}:{r["score"]}[{string.Join(",", r["matches"]!.AsArray().Select(m => $"{m!["segment_id"]}={m["score"]}"))}]"));

    static JsonNode NoTime(string json)
    {
        var o = JsonNode.Parse(json)!.AsObject();
        o.Remove("took_ms");
        return Untimed(o)!;
    }
}

/// <summary>What a shard restored from a snapshot (no blobs/) does when it reads a blob: fetch it by content hash, check it, keep it.</summary>
public sealed class MissingBlobFetchTests
{
    [Fact]
    public void A_missing_blob_is_fetched_by_hash_checked_and_kept()
    {
        using var dir = new TempDirectory();
        var source = new Casebook.Storage.BlobStore(dir["source"]);
        var blob = source.Put("a key image"u8);
        var shard = new Casebook.Storage.BlobStore(dir["shard"]);
        Assert.Throws<FileNotFoundException>(() => shard.Read(blob)); // nowhere to fetch from: the engine's error
        var fetched = 0;
        shard.Missing = sha => { fetched++; return source.Read(sha); };
        Assert.Equal("a key image"u8.ToArray(), shard.Read(blob));
        Assert.True(shard.Exists(blob.Sha256));
        Assert.Equal("a key image"u8.ToArray(), shard.Read(blob));
        Assert.Equal(1, fetched); // kept: the second read is local
        var other = source.Put("another image"u8);
        shard.Missing = _ => "tampered"u8.ToArray();
        Assert.Throws<InvalidDataException>(() => shard.Read(other));
        Assert.False(shard.Exists(other.Sha256));
    }
}

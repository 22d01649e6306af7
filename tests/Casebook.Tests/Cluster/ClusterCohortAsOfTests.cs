using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Casebook.Cluster;
using Casebook.Server;
using Casebook.Server.Security;

namespace Casebook.Tests.Cluster;

/// <summary>
/// Cohorts as of a log sequence through the shared local cluster (docs/cluster.md, "Time travel"): as of a sequence S recorded
/// here, `cohort run|export --as-of S --cluster`, a definition's "as_of": S, a saved definition re-run at its data_version and
/// POST /api/cohorts/run?as_of=S answer what one node answers at the version V it had then. Other tests of the collection
/// ingest and change studies too (into both), so S and V are recorded by this test itself, at the same moment.
/// </summary>
[Collection("local cluster")]
public sealed class ClusterCohortAsOfTests(LocalClusterFixture f)
{
    const string Ct = """{"criteria":{"modality":["CT"]}}""";
    // A code no report of the corpus gives (NLP), only the clinician's confirmed diagnosis made below.
    const string Asd = """{"criteria":{"code":{"code":"Q21"}}}""";
    const string Changed = "CL-0038";

    string Def(string name, string json)
    {
        var path = f.Dir[$"cohort-asof-defs/{name}.json"];
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, json);
        return path;
    }

    static JsonObject Strip(string json) { var o = JsonNode.Parse(json)!.AsObject(); o.Remove("ms"); o.Remove("as_of"); return o; }

    long SingleVersion()
    {
        using var db = CasebookDb.Open(f.SingleDb, new CasebookOptions { KeyFile = f.Dir.KeyFile });
        return db.CurrentVersion;
    }

    [Fact]
    public async Task Cohort_run_and_export_as_of_a_log_sequence_equal_one_node_at_its_version_then()
    {
        await using var client = await ClusterClient.ConnectAsync(ClusterConfig.Load(f.ClusterFile));
        // Now: the same ingests and changes went to both, so log sequence s0 is one node's version v0.
        var s0 = await client.Log.LastLogSequenceAsync();
        var v0 = SingleVersion();
        var ct = Def("ct", Ct);
        var asd = Def("asd", Asd);
        // A saved definition's data_version is the version at saving: the log sequence on a cluster, the version on one node.
        var savedCluster = JsonNode.Parse(f.Cli("cohort", "save", ct, "--name", "ct-asof", "--author", "dr-asof", "--json", "--cluster", f.ClusterFile))!;
        var savedOne = JsonNode.Parse(f.Cli("cohort", "save", ct, "--name", "ct-asof", "--author", "dr-asof", "--json", "--db", f.SingleDb))!;
        Assert.Equal(s0, (long)savedCluster["data_version"]!);
        Assert.Equal(v0, (long)savedOne["data_version"]!);

        // Later: a small batch of studies (CT among them) and a clinician's confirmed diagnosis, on both.
        var corpus = f.Dir["cohort-asof-corpus"];
        var added = ClusterCorpus.Write(corpus, 4000, 6);
        f.Cli("ingest", corpus, "--cluster", f.ClusterFile, "--json");
        f.Cli("ingest", corpus, "--db", f.SingleDb, "--json");
        foreach (var (flag, target) in new[] { ("--cluster", f.ClusterFile), ("--db", f.SingleDb) })
        {
            var history = JsonNode.Parse(f.Cli("history", Changed, "--json", flag, target))!["versions"]!.AsArray();
            f.Cli("diagnose", Changed, "--code", "Q21.1", "--system", "icd10cm", "--status", "confirmed", "--author", "dr.asof", "--role", "validator",
                "--base-version", history[^1]!["version"]!.ToString(), "--json", flag, target);
        }
        var s1 = await client.Log.LastLogSequenceAsync();
        Assert.True(s1 > s0);

        (JsonObject One, JsonObject Cluster, long ClusterAsOf) Run(string target, string[] one, string[] cluster)
        {
            var c = f.Cli(["cohort", "run", target, "--json", .. cluster, "--cluster", f.ClusterFile]);
            return (Strip(f.Cli(["cohort", "run", target, "--json", .. one, "--db", f.SingleDb])), Strip(c), (long)JsonNode.Parse(c)!["as_of"]!);
        }

        // As of s0 (--as-of) the cluster is one node as of v0, and "as_of" is s0; now both see the batch and the diagnosis.
        var ctIds = new Dictionary<bool, List<string>>();
        foreach (var (def, name) in new[] { (ct, "ct"), (asd, "asd") })
        {
            var (oneThen, clusterThen, at) = Run(def, ["--as-of", v0.ToString()], ["--as-of", s0.ToString()]);
            Assert.Equal(oneThen.ToJsonString(), clusterThen.ToJsonString());
            Assert.Equal(s0, at);
            var (oneNow, clusterNow, atNow) = Run(def, [], []);
            Assert.Equal(oneNow.ToJsonString(), clusterNow.ToJsonString());
            Assert.True(atNow >= s1);
            Assert.NotEqual(clusterThen.ToJsonString(), clusterNow.ToJsonString());
            if (name == "asd")
            {
                Assert.Equal(0, (int)clusterThen["patients"]!["count"]!);
                Assert.Contains(clusterNow["studies"]!["ids"]!.AsArray(), s => (string)s!["study_id"]! == Changed);
            }
            else
            {
                List<string> Ids(JsonObject o) => o["studies"]!["ids"]!.AsArray().Select(s => (string)s!["study_id"]!).ToList();
                ctIds[false] = Ids(clusterThen);
                ctIds[true] = Ids(clusterNow);
            }
        }
        var newCt = added.Where(id => int.Parse(id[3..]) % 3 == 0).ToList();
        Assert.NotEmpty(newCt);
        Assert.All(newCt, id => { Assert.DoesNotContain(id, ctIds[false]); Assert.Contains(id, ctIds[true]); });

        // A definition's own "as_of" is a log sequence on the cluster, as a version on one node.
        var clusterDefJson = f.Cli("cohort", "run", Def("ct-at-s0", $$$"""{"as_of":{{{s0}}},"criteria":{"modality":["CT"]}}"""), "--json", "--cluster", f.ClusterFile);
        var (clusterDef, atDef) = (Strip(clusterDefJson), (long)JsonNode.Parse(clusterDefJson)!["as_of"]!);
        var oneDefV = Strip(f.Cli("cohort", "run", Def("ct-at-v0", $$$"""{"as_of":{{{v0}}},"criteria":{"modality":["CT"]}}"""), "--json", "--db", f.SingleDb));
        Assert.Equal(oneDefV.ToJsonString(), clusterDef.ToJsonString());
        Assert.Equal(s0, atDef);
        Assert.Equal(ctIds[false], clusterDef["studies"]!["ids"]!.AsArray().Select(s => (string)s!["study_id"]!));

        // A saved definition re-run at its data_version gives the answer it had when saved (on both).
        var (oneSaved, clusterSaved, _) = Run("ct-asof", ["--as-of", savedOne["data_version"]!.ToString()], ["--as-of", savedCluster["data_version"]!.ToString()]);
        Assert.Equal(oneSaved.ToJsonString(), clusterSaved.ToJsonString());
        Assert.Equal(ctIds[false], clusterSaved["studies"]!["ids"]!.AsArray().Select(s => (string)s!["study_id"]!));

        // Exports as of s0 are one node's as of v0 (CSV bytes), and differ from now.
        string Export(string tag, string target, string flag, string where, params string[] asOf)
        {
            var output = f.Dir[$"cohort-asof-exports/{tag}.csv"];
            var o = JsonNode.Parse(f.Cli(["cohort", "export", target, "--format", "csv", "--out", output, "--json", .. asOf, flag, where]))!.AsObject();
            if (flag == "--cluster" && asOf.Length > 0) Assert.Equal(s0, (long)o["as_of"]!);
            o.Remove("out");
            o.Remove("as_of");
            return o.ToJsonString() + "\n" + File.ReadAllText(output);
        }
        var clusterCsv = Export("cluster-ct-s0", ct, "--cluster", f.ClusterFile, "--as-of", s0.ToString());
        Assert.Equal(Export("one-ct-v0", ct, "--db", f.SingleDb, "--as-of", v0.ToString()), clusterCsv);
        Assert.DoesNotContain(newCt[0], clusterCsv);
        Assert.Contains(newCt[0], Export("cluster-ct-now", ct, "--cluster", f.ClusterFile));
        Assert.Equal(Export("one-asd-v0", asd, "--db", f.SingleDb, "--as-of", v0.ToString()), Export("cluster-asd-s0", asd, "--cluster", f.ClusterFile, "--as-of", s0.ToString()));

        // A sequence past the log's end is an error naming it, as a version one node does not have.
        var past = CliProcess.Run(f.Dir.Path, f.Dir.KeyFile, TimeSpan.FromMinutes(2), "cohort", "run", ct, "--as-of", (s1 + 1_000_000).ToString(), "--json", "--cluster", f.ClusterFile);
        Assert.NotEqual(0, past.Code);
        Assert.Contains("does not exist", past.Stderr);

        await ServeAsOf(s0, v0);
    }

    /// <summary>POST /api/cohorts/run?as_of= of `serve --cluster` (a log sequence) is one node's ?as_of= (its version), as is a body's "as_of".</summary>
    async Task ServeAsOf(long s0, long v0)
    {
        var serverDir = f.Dir["server-state-cohort-asof"];
        CasebookDb.Open(serverDir).Dispose();
        var keys = new Dictionary<bool, string>();
        foreach (var (cluster, dir) in new[] { (false, f.SingleDb), (true, serverDir) })
            keys[cluster] = new ApiKeyStore(new ServerStore(dir)).Create("admin", "cohort-asof").Key;
        await using var one = CasebookServer.Create(new ServerOptions { DbDirectory = f.SingleDb, KeyFile = f.Dir.KeyFile, Port = 0, RequestsPerWindow = 1_000_000 });
        await using var cl = CasebookServer.Create(new ServerOptions { DbDirectory = serverDir, ClusterFile = f.ClusterFile, KeyFile = f.Dir.KeyFile, Port = 0, RequestsPerWindow = 1_000_000 });
        await one.StartAsync();
        await cl.StartAsync();
        async Task<JsonNode> Post(CasebookServer s, string path, string body)
        {
            using var http = new HttpClient { BaseAddress = new Uri(s.Urls[0] + "/"), Timeout = TimeSpan.FromMinutes(3) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", keys[s == cl]);
            var r = await http.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
            var text = await r.Content.ReadAsStringAsync();
            Assert.True(r.StatusCode == HttpStatusCode.OK, $"{path}: {r.StatusCode} {text}");
            return JsonNode.Parse(text)!;
        }
        var a = await Post(one, $"api/cohorts/run?as_of={v0}", Ct);
        var b = await Post(cl, $"api/cohorts/run?as_of={s0}", Ct);
        Assert.Equal(s0, (long)b["as_of"]!);
        Assert.Equal(Strip(a.ToJsonString()).ToJsonString(), Strip(b.ToJsonString()).ToJsonString());
        var c = await Post(cl, "api/cohorts/run", $$$"""{"as_of":{{{s0}}},"criteria":{"modality":["CT"]}}""");
        Assert.Equal(Strip(b.ToJsonString()).ToJsonString(), Strip(c.ToJsonString()).ToJsonString());
        Assert.NotEqual(Strip(b.ToJsonString()).ToJsonString(), Strip((await Post(cl, "api/cohorts/run", Ct)).ToJsonString()).ToJsonString());
    }
}

using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Casebook.Cluster;
using Casebook.Server;
using Casebook.Server.Audit;
using Casebook.Server.Security;

namespace Casebook.Tests.Cluster;

/// <summary>
/// FHIR patient events through the log, and cohorts over the shards (issue 9: the same JSON as one node). Two real Synthea
/// bundles are ingested into the shared cluster and into the one-node database (both, so the other tests' comparisons hold);
/// the test ends by purging one of the two patients from both.
/// </summary>
[Collection("local cluster")]
public sealed class ClusterCohortTests(LocalClusterFixture f)
{
    static readonly string[] Bundles =
    [
        "fhir/synthea/Chet_Thompson_eda17701-070d-4fae-9f7d-c8cd6263b63a.json",
        "fhir/synthea/Abdul_Koepp_e925b0f3-8006-43f6-aa31-94bd215e55e7.json",
    ];

    // Viral sinusitis: both patients. Myocardial infarction: Chet Thompson only.
    const string Sinusitis = """{"name":"sinusitis","criteria":{"code":{"system":"snomed","code":"444814009"}}}""";
    const string Infarction = """{"criteria":{"code":{"system":"snomed","code":"22298006"}}}""";
    const string NotSinusitisCt = """{"criteria":{"all":[{"not":{"code":{"system":"snomed","code":"444814009"}}},{"modality":["CT"]}]}}""";
    const string AnyOf = """{"criteria":{"any":[{"code":{"system":"snomed","code":"444814009"}},{"modality":["CR"]}]}}""";

    string Def(string name, string json)
    {
        var path = f.Dir[$"cohort-defs/{name}.json"];
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, json);
        return path;
    }

    /// <summary>`cohort run --json` of one node and of the cluster, less "ms" and "as_of" (a shard version vs the log sequence).</summary>
    (JsonObject One, JsonObject Cluster) Run(string target, string role)
    {
        JsonObject Strip(string json) { var o = JsonNode.Parse(json)!.AsObject(); o.Remove("ms"); o.Remove("as_of"); return o; }
        return (Strip(f.Cli("cohort", "run", target, "--role", role, "--json", "--db", f.SingleDb)),
            Strip(f.Cli("cohort", "run", target, "--role", role, "--json", "--cluster", f.ClusterFile)));
    }

    [Fact]
    public async Task Fhir_events_and_cohorts_through_the_cluster_print_the_single_node_json()
    {
        var bundles = Bundles.Select(SharedData.Require).ToArray();
        f.Cli(["ingest", .. bundles, "--json", "--db", f.SingleDb]);
        f.Cli(["ingest", .. bundles, "--json", "--cluster", f.ClusterFile]);

        // Cohorts built on events (conditions) find both patients on both; the lists are the same, in the same order.
        var sinusitis = Def("sinusitis", Sinusitis);
        var (one, cluster) = Run(sinusitis, "clinician");
        Assert.Equal(one.ToJsonString(), cluster.ToJsonString());
        Assert.Equal(2, (int)cluster["patients"]!["count"]!);
        var studies = cluster["studies"]!["ids"]!.AsArray().Select(s => (Id: s!["study_id"]!.GetValue<string>(), Patient: s["patient_pseudo_id"]!.GetValue<string>())).ToList();
        Assert.Equal(2, studies.Count);

        // The timelines (events around each FHIR imaging study, and its outcomes) are one node's: the events came through the log.
        foreach (var (id, _) in studies)
        {
            var t = f.Cli("timeline", id, "--json", "--cluster", f.ClusterFile);
            Assert.Equal(f.Cli("timeline", id, "--json", "--db", f.SingleDb), t);
            Assert.NotEmpty(JsonNode.Parse(t)!["events"]!.AsArray());
        }
        // The study records (their timeline columns included) are one node's.
        await using var client = await ClusterClient.ConnectAsync(ClusterConfig.Load(f.ClusterFile));
        using (var db = CasebookDb.Open(f.SingleDb, new CasebookOptions { KeyFile = f.Dir.KeyFile }))
            foreach (var (id, _) in studies)
                Assert.Equal(System.Text.Json.JsonSerializer.Serialize(db.GetStudy(id), ClusterLog.RecordJson), System.Text.Json.JsonSerializer.Serialize(await client.GetStudyAsync(id), ClusterLog.RecordJson));

        // The log alone rebuilds the events: a shard replayed from its partition prints the same timeline.
        var chet = JsonNode.Parse(f.Cli("cohort", "run", Def("infarction", Infarction), "--json", "--cluster", f.ClusterFile))!["patients"]!["ids"]!.AsArray().Single()!.GetValue<string>();
        var chetStudy = studies.Single(s => s.Patient == chet).Id;
        await client.RebuildShardAsync(ShardMap.ShardOf(chet, client.Config.Shards));
        Assert.Equal(f.Cli("timeline", chetStudy, "--json", "--db", f.SingleDb), f.Cli("timeline", chetStudy, "--json", "--cluster", f.ClusterFile));

        // Roles as on one node: researchers see "<11" and no ids for the 2-patient cohort, counts and ids above 10.
        (one, cluster) = Run(sinusitis, "researcher");
        Assert.Equal(one.ToJsonString(), cluster.ToJsonString());
        Assert.Equal("<11", cluster["patients"]!["count"]!.GetValue<string>());
        Assert.Null(cluster["patients"]!["ids"]);
        foreach (var (name, json) in new[] { ("not-ct", NotSinusitisCt), ("any", AnyOf) })
            foreach (var role in new[] { "clinician", "researcher", "admin" })
            {
                (one, cluster) = Run(Def(name, json), role);
                Assert.Equal(one.ToJsonString(), cluster.ToJsonString());
                Assert.True(cluster["studies"]!["ids"]!.AsArray().Count >= 11, $"{name}: {cluster}");
            }

        // Saved definitions: versions 1, 2 by name, run by NAME and NAME@V, listed with the same keys and definitions.
        foreach (var target in new[] { "--db", "--cluster" })
        {
            var where = target == "--db" ? f.SingleDb : f.ClusterFile;
            var v1 = JsonNode.Parse(f.Cli("cohort", "save", sinusitis, "--name", "sinus-cc", "--author", "dr-a", "--json", target, where))!;
            var v2 = JsonNode.Parse(f.Cli("cohort", "save", Def("any", AnyOf), "--name", "sinus-cc", "--author", "dr-b", "--json", target, where))!;
            Assert.Equal(1, (int)v1["version"]!);
            Assert.Equal(2, (int)v2["version"]!);
        }
        string Listed(string target, string where) => new JsonArray(JsonNode.Parse(f.Cli("cohort", "list", "--json", target, where))!["cohorts"]!.AsArray()
            .Where(c => c!["name"]!.GetValue<string>() == "sinus-cc").Select(c => { var o = c!.DeepClone().AsObject(); o.Remove("time"); o.Remove("data_version"); return (JsonNode)o; }).ToArray()).ToJsonString();
        Assert.Equal(Listed("--db", f.SingleDb), Listed("--cluster", f.ClusterFile));
        foreach (var name in new[] { "sinus-cc", "sinus-cc@1", "sinus-cc@2" })
        {
            (one, cluster) = Run(name, "clinician");
            Assert.Equal(one.ToJsonString(), cluster.ToJsonString());
        }
        Assert.Equal("sinus-cc", cluster["name"]!.GetValue<string>());
        Assert.Equal(2, (int)cluster["definition_version"]!);

        // Exports: the same CSV and Parquet bytes, the same FHIR bundle (less its timestamp), the same refusals.
        foreach (var format in new[] { "csv", "fhir", "parquet" })
            foreach (var (name, target) in new[] { ("not-ct", Def("not-ct", NotSinusitisCt)), ("sinusitis", sinusitis) })
            {
                string Export(string flag, string where)
                {
                    var output = f.Dir[$"exports/{flag.Trim('-')}-{name}.{format}"];
                    var o = JsonNode.Parse(f.Cli("cohort", "export", target, "--format", format, "--out", output, "--json", flag, where))!.AsObject();
                    o.Remove("out");
                    o.Remove("as_of");
                    Assert.True(File.Exists(output));
                    return o.ToJsonString() + "\n" + (format switch
                    {
                        "fhir" => Without(File.ReadAllText(output), "timestamp"),
                        "csv" => File.ReadAllText(output),
                        _ => Convert.ToHexString(File.ReadAllBytes(output)),
                    });
                }
                Assert.Equal(Export("--db", f.SingleDb), Export("--cluster", f.ClusterFile));
            }
        var refusal = CliProcess.Run(f.Dir.Path, f.Dir.KeyFile, TimeSpan.FromMinutes(2), "cohort", "export", sinusitis, "--format", "csv", "--out", f.Dir["exports/refused.csv"], "--role", "researcher", "--cluster", f.ClusterFile);
        Assert.NotEqual(0, refusal.Code);
        Assert.Contains("small-count suppression", refusal.Stderr);

        // A purge of a patient erases their events: from the shard, from every log entry, and cohorts no longer find them.
        f.Cli("purge", "--pseudo-id", chet, "--json", "--db", f.SingleDb);
        f.Cli("purge", "--pseudo-id", chet, "--json", "--cluster", f.ClusterFile);
        (one, cluster) = Run(sinusitis, "clinician");
        Assert.Equal(one.ToJsonString(), cluster.ToJsonString());
        Assert.Equal(1, (int)cluster["patients"]!["count"]!);
        Assert.Equal(0, (int)JsonNode.Parse(f.Cli("cohort", "run", Def("infarction", Infarction), "--json", "--cluster", f.ClusterFile))!["patients"]!["count"]!);
        var log = await client.Log.ScanAsync(ClusterLog.Stream);
        Assert.DoesNotContain(log, m => Contains(m.Data, "Myocardial Infarction") || Contains(m.Data, chetStudy));
        Assert.Contains(log, m => Contains(m.Data, "\"patient_events\"")); // the other patient's events stay
    }

    [Fact]
    public async Task Serve_cluster_runs_cohorts_with_the_single_node_json_roles_and_audit()
    {
        var serverDir = f.Dir["server-state-cohorts"];
        CasebookDb.Open(serverDir).Dispose();
        var keys = new Dictionary<(bool Cluster, string Role), string>();
        foreach (var (cluster, dir) in new[] { (false, f.SingleDb), (true, serverDir) })
        {
            var store = new ApiKeyStore(new ServerStore(dir));
            foreach (var role in Roles.All) keys[(cluster, role)] = store.Create(role, "test").Key;
        }
        await using var one = CasebookServer.Create(new ServerOptions { DbDirectory = f.SingleDb, KeyFile = f.Dir.KeyFile, Port = 0, RequestsPerWindow = 1_000_000 });
        await using var cl = CasebookServer.Create(new ServerOptions { DbDirectory = serverDir, ClusterFile = f.ClusterFile, KeyFile = f.Dir.KeyFile, Port = 0, RequestsPerWindow = 1_000_000 });
        await one.StartAsync();
        await cl.StartAsync();
        async Task<(HttpStatusCode Status, string Body)> Post(CasebookServer s, string role, string body)
        {
            using var http = new HttpClient { BaseAddress = new Uri(s.Urls[0] + "/"), Timeout = TimeSpan.FromMinutes(3) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", keys[(s == cl, role)]);
            var r = await http.PostAsync("api/cohorts/run", new StringContent(body, Encoding.UTF8, "application/json"));
            return (r.StatusCode, await r.Content.ReadAsStringAsync());
        }
        static string Strip(string json) { var o = JsonNode.Parse(json)!.AsObject(); o.Remove("ms"); o.Remove("as_of"); return o.ToJsonString(); }
        // Study-level criteria over the 40-study corpus (and whatever else both hold): the same JSON for each role.
        foreach (var def in new[] { """{"name":"ct","criteria":{"modality":["CT"]}}""", """{"criteria":{"all":[{"modality":["CR"]},{"exam_date":{"from":"2024-02-10"}}]}}""", """{"criteria":{"modality":["MR"]}}""" })
            foreach (var role in new[] { "clinician", "researcher", "admin" })
            {
                var (a, b) = (await Post(one, role, def), await Post(cl, role, def));
                Assert.Equal(HttpStatusCode.OK, a.Status);
                Assert.Equal(HttpStatusCode.OK, b.Status);
                Assert.Equal(Strip(a.Body), Strip(b.Body));
            }
        var ct = JsonNode.Parse((await Post(cl, "researcher", """{"criteria":{"modality":["CT"]}}""")).Body)!;
        Assert.True(ct["studies"]!["ids"]!.AsArray().Count >= 11);
        // The same refusals: a validator may not run cohorts (403), a bad definition is a 400 naming the field.
        Assert.Equal(HttpStatusCode.Forbidden, (await Post(one, "validator", "{}")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await Post(cl, "validator", "{}")).Status);
        var (badOne, badCluster) = (await Post(one, "clinician", """{"criteria":{"sex":5}}"""), await Post(cl, "clinician", """{"criteria":{"sex":5}}"""));
        Assert.Equal(HttpStatusCode.BadRequest, badCluster.Status);
        Assert.Equal(JsonNode.Parse(badOne.Body)!["detail"]!.ToJsonString(), JsonNode.Parse(badCluster.Body)!["detail"]!.ToJsonString());
        // Audited like one node.
        var audit = new AuditLog(new ServerStore(serverDir));
        Assert.Contains(audit.Read(), e => e.Action == "cohort.run" && e.Outcome == "success" && e.Role == "researcher");
        Assert.Contains(audit.Read(), e => e.Action == "cohort.run" && e.Role == "validator" && e.Outcome != "success");
    }

    static string Without(string json, string key)
    {
        var o = JsonNode.Parse(json)!.AsObject();
        o.Remove(key);
        return o.ToJsonString();
    }

    static bool Contains(byte[] data, string text) => data.AsSpan().IndexOf(Encoding.UTF8.GetBytes(text)) >= 0;
}

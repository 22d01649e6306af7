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

        // Exports: the same CSV bytes and FHIR bundle (less its timestamp), the same refusals; Parquet byte for byte for the
        // FHIR cohort (the other cohort's rows hold clinicians' validation times, which other tests make separately on each side).
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
                        _ => name == "sinusitis" ? Convert.ToHexString(File.ReadAllBytes(output)) : "",
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
            foreach (var role in new[] { "researcher", "admin" })
            {
                var (a, b) = (await Post(one, role, def), await Post(cl, role, def));
                Assert.Equal(HttpStatusCode.OK, a.Status);
                Assert.Equal(HttpStatusCode.OK, b.Status);
                Assert.Equal(Strip(a.Body), Strip(b.Body));
            }
        var ct = JsonNode.Parse((await Post(cl, "researcher", """{"criteria":{"modality":["CT"]}}""")).Body)!;
        Assert.True(ct["studies"]!["ids"]!.AsArray().Count >= 11);
        // The same refusals: clinicians and validators may not run cohorts (403, the export policy), a bad definition is a 400 naming the field.
        foreach (var role in new[] { "clinician", "validator" })
        {
            Assert.Equal(HttpStatusCode.Forbidden, (await Post(one, role, "{}")).Status);
            Assert.Equal(HttpStatusCode.Forbidden, (await Post(cl, role, "{}")).Status);
        }
        var (badOne, badCluster) = (await Post(one, "admin", """{"criteria":{"sex":5}}"""), await Post(cl, "admin", """{"criteria":{"sex":5}}"""));
        Assert.Equal(HttpStatusCode.BadRequest, badCluster.Status);
        Assert.Equal(JsonNode.Parse(badOne.Body)!["detail"]!.ToJsonString(), JsonNode.Parse(badCluster.Body)!["detail"]!.ToJsonString());
        // Finding classifiers: the same model list keys and refusals; a training with too few examples reports the same labels.
        async Task<(HttpStatusCode Status, string Body)> Send(CasebookServer s, string role, HttpMethod method, string path, string? body = null)
        {
            using var http = new HttpClient { BaseAddress = new Uri(s.Urls[0] + "/"), Timeout = TimeSpan.FromMinutes(3) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", keys[(s == cl, role)]);
            using var request = new HttpRequestMessage(method, path) { Content = body == null ? null : new StringContent(body, Encoding.UTF8, "application/json") };
            var r = await http.SendAsync(request);
            return (r.StatusCode, await r.Content.ReadAsStringAsync());
        }
        var (m1, m2) = (await Send(one, "clinician", HttpMethod.Get, "api/findings/models"), await Send(cl, "clinician", HttpMethod.Get, "api/findings/models"));
        Assert.Equal(HttpStatusCode.OK, m2.Status);
        string Labels(string json) => string.Join(",", JsonNode.Parse(json)!["models"]!.AsArray().Select(m => m!["label"]!.GetValue<string>()).Order(StringComparer.Ordinal));
        Assert.Equal(Labels(m1.Body), Labels(m2.Body));
        Assert.Equal(HttpStatusCode.Forbidden, (await Send(cl, "clinician", HttpMethod.Post, "api/findings/train", "{}")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await Send(cl, "validator", HttpMethod.Post, "api/findings/suggest", "{}")).Status);
        var (t1, t2) = (await Send(one, "admin", HttpMethod.Post, "api/findings/train", """{"min_examples":500}"""), await Send(cl, "admin", HttpMethod.Post, "api/findings/train", """{"min_examples":500}"""));
        Assert.Equal(HttpStatusCode.OK, t2.Status);
        string NoVersion(string json) { var o = JsonNode.Parse(json)!.AsObject(); o.Remove("version"); return o.ToJsonString(); }
        Assert.Equal(NoVersion(t1.Body), NoVersion(t2.Body));
        var missing = await Send(cl, "admin", HttpMethod.Post, "api/findings/suggest", """{"study":"NO-SUCH"}""");
        Assert.Equal(HttpStatusCode.BadRequest, missing.Status);

        // Audited like one node.
        var audit = new AuditLog(new ServerStore(serverDir));
        Assert.Contains(audit.Read(), e => e.Action == "cohort.run" && e.Outcome == "success" && e.Role == "researcher");
        Assert.Contains(audit.Read(), e => e.Action == "cohort.run" && e.Role == "validator" && e.Outcome != "success");
        Assert.Contains(audit.Read(), e => e.Action == "findings.train" && e.Outcome == "success");
    }

    static long LastVersion(string historyJson) => JsonNode.Parse(historyJson)!["versions"]!.AsArray().Max(v => (long)v!["version"]!);

    [Fact]
    public async Task Finding_classifiers_train_on_the_coordinator_like_one_node_and_suggestions_go_through_the_log()
    {
        // Clinicians' rulings on both: "calcified granuloma" on four studies, "simple cyst" on four others (implicit negatives).
        var labelled = new[] { ("CL-0020", "calcified granuloma"), ("CL-0021", "calcified granuloma"), ("CL-0022", "calcified granuloma"), ("CL-0023", "calcified granuloma"),
            ("CL-0024", "simple cyst"), ("CL-0025", "simple cyst"), ("CL-0026", "simple cyst"), ("CL-0027", "simple cyst") };
        foreach (var (id, term) in labelled)
            foreach (var (flag, where) in new[] { ("--db", f.SingleDb), ("--cluster", f.ClusterFile) })
            {
                var v = LastVersion(f.Cli("history", id, "--json", flag, where));
                f.Cli("validate", id, "--finding", term, "--status", "confirmed", "--author", "dr.f", "--role", "validator", "--base-version", v.ToString(), "--json", flag, where);
            }

        // Training: the same examples give the same labels, counts, cross-validated AUCs and folds as one node.
        static JsonArray Labels(string json) => new(JsonNode.Parse(json)!["labels"]!.AsArray()
            .Select(l => { var o = l!.DeepClone().AsObject(); o.Remove("model_id"); return (JsonNode)o; }).ToArray());
        var trainOne = f.Cli("findings", "train", "--min-examples", "3", "--features", "text", "--json", "--db", f.SingleDb);
        var trainCluster = f.Cli("findings", "train", "--min-examples", "3", "--features", "text", "--json", "--cluster", f.ClusterFile);
        Assert.Equal(Labels(trainOne).ToJsonString(), Labels(trainCluster).ToJsonString());
        var trained = JsonNode.Parse(trainCluster)!;
        var seq = (long)trained["version"]!;
        var ids = trained["labels"]!.AsArray().Where(l => l!["model_id"] != null).Select(l => l!["model_id"]!.GetValue<string>()).ToList();
        Assert.Contains(ids, i => i.StartsWith("calcified-granuloma.lr.v", StringComparison.Ordinal));
        Assert.Contains(ids, i => i.StartsWith("simple-cyst.lr.v", StringComparison.Ordinal));
        Assert.All(ids, i => Assert.EndsWith(".v" + seq, i));

        // The registry lists them as one node lists its models: the same calibration, features and fold AUCs.
        static string Models(string json, params string[] labels) => new JsonArray(JsonNode.Parse(json)!["models"]!.AsArray()
            .Where(m => labels.Contains(m!["label"]!.GetValue<string>())).OrderBy(m => m!["label"]!.GetValue<string>(), StringComparer.Ordinal)
            .Select(m => { var o = m!.DeepClone().AsObject(); foreach (var k in new[] { "model_id", "trained_version", "created", "path" }) o.Remove(k); return (JsonNode)o; }).ToArray()).ToJsonString();
        string[] ours = ["finding:calcified granuloma", "finding:simple cyst"];
        var modelsCluster = f.Cli("findings", "models", "--json", "--cluster", f.ClusterFile);
        Assert.Equal(Models(f.Cli("findings", "models", "--json", "--db", f.SingleDb), ours), Models(modelsCluster, ours));
        Assert.Equal(2, JsonNode.Parse(Models(modelsCluster, ours))!.AsArray().Count);

        // A user ONNX classifier registered for the cluster (on both): the engine checks it, the file goes to the object store and
        // the shards that apply a suggestion entry fetch it and run it on their studies' images.
        var onnx = f.Dir["bright-dark.onnx"];
        File.WriteAllBytes(onnx, Casebook.Tests.Findings.FindingsTests.BrightDarkNetwork());
        string Register(string flag, string where)
        {
            var o = JsonNode.Parse(f.Cli("findings", "register", "brightdark", "--onnx", onnx, "--labels", "bright,dark", "--input-size", "8", "--mean", "0,0,0", "--std", "1,1,1", "--json", flag, where))!.AsObject();
            o.Remove("trained_version");
            o.Remove("created");
            return o.ToJsonString();
        }
        Assert.Equal(Register("--db", f.SingleDb), Register("--cluster", f.ClusterFile));

        // Suggestions: the same probabilities for a study nobody ruled on; none for the label a clinician ruled on.
        static JsonObject Suggested(string json)
        {
            var o = JsonNode.Parse(json)!.AsObject();
            o.Remove("versions");
            o.Remove("models");
            foreach (var s in o["suggestions"]!.AsArray()) s!.AsObject().Remove("model_id");
            return o;
        }
        foreach (var study in new[] { "CL-0031", "CL-0020", "CL-0028" })
        {
            var one = Suggested(f.Cli("findings", "suggest", "--study", study, "--min-probability", "0", "--json", "--db", f.SingleDb));
            var cluster = Suggested(f.Cli("findings", "suggest", "--study", study, "--min-probability", "0", "--json", "--author", "nightly", "--cluster", f.ClusterFile));
            Assert.Equal(one.ToJsonString(), cluster.ToJsonString());
            var terms = cluster["suggestions"]!.AsArray().Select(x => x!["term"]!.GetValue<string>()).ToList();
            if (study == "CL-0031") { Assert.Contains("calcified granuloma", terms); Assert.Equal(1, (int)cluster["studies_changed"]!); }
            else if (study == "CL-0020") Assert.Empty(terms); // reviewed by a clinician: nothing is suggested over their ruling
            else Assert.Contains("bright", terms); // CL-0028 has a picture: the ONNX model ran on the owning shard
        }
        // The owning shard wrote them, attributed to the model role; the clinician's confirmation on CL-0020 stands.
        var last = JsonNode.Parse(f.Cli("history", "CL-0031", "--json", "--cluster", f.ClusterFile))!["versions"]!.AsArray()[^1]!;
        Assert.Equal(("nightly", "model"), ((string)last["author"]!, (string)last["role"]!));
        await using var client = await ClusterClient.ConnectAsync(ClusterConfig.Load(f.ClusterFile));
        var record = (await client.GetStudyAsync("CL-0031"))!;
        var suggestion = record.PathologyFindings.OfType<JsonObject>().Single(x => x["term"]?.GetValue<string>() == "calcified granuloma");
        Assert.True((bool)suggestion["ai_suggested"]!);
        Assert.False((bool)suggestion["affirmed"]!);
        Assert.Null(suggestion["validated"]);
        var ruled = (await client.GetStudyAsync("CL-0020"))!.PathologyFindings.OfType<JsonObject>().Single(x => x["term"]?.GetValue<string>() == "calcified granuloma");
        Assert.True((bool)ruled["validated"]!);
        var shard = (await client.ShardOfStudyAsync("CL-0031"))!.Value;
        Assert.Contains(await client.Log.ReadAsync(shard, 0, 100_000), e => e.Command?.Command == ClusterFindings.SuggestKind && e.Command.StudyId == "CL-0031");

        // Retraining replaces the label's active model; the replaced one stays listed with --all.
        f.Cli("findings", "train", "--min-examples", "3", "--features", "text", "--label", "simple cyst", "--json", "--cluster", f.ClusterFile);
        var all = JsonNode.Parse(f.Cli("findings", "models", "--all", "--json", "--cluster", f.ClusterFile))!["models"]!.AsArray();
        Assert.Equal(2, all.Count(m => m!["label"]!.GetValue<string>() == "finding:simple cyst"));
        Assert.Single(all, m => m!["label"]!.GetValue<string>() == "finding:simple cyst" && (bool)m["active"]!);
    }

    static string Without(string json, string key)
    {
        var o = JsonNode.Parse(json)!.AsObject();
        o.Remove(key);
        return o.ToJsonString();
    }

    static bool Contains(byte[] data, string text) => data.AsSpan().IndexOf(Encoding.UTF8.GetBytes(text)) >= 0;
}

using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Casebook.Server;
using Casebook.Server.Audit;
using Casebook.Server.Security;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Casebook.Tests.Cluster;

/// <summary>
/// `serve --cluster` over real HTTP (Kestrel on a loopback port) against the shared local cluster, side by side with the
/// single-node server over the one-node database holding the same corpus: same routes, same JSON, same roles and audit.
/// </summary>
[Collection("local cluster")]
public sealed class ClusterServerTests(LocalClusterFixture f)
{
    [Fact]
    public async Task Serving_the_cluster_answers_the_single_node_http_api_with_the_same_json_roles_and_audit()
    {
        var serverDir = f.Dir["server-state"];
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
        HttpClient As(CasebookServer s, string? role) => new()
        {
            BaseAddress = new Uri(s.Urls[0] + "/"), Timeout = TimeSpan.FromMinutes(3),
            DefaultRequestHeaders = { Authorization = role == null ? null : new AuthenticationHeaderValue("Bearer", keys[(s == cl, role)]) },
        };

        // The same route table: every single-node route exists on the cluster server (answering, or 501).
        Assert.Equal(Routes(one), Routes(cl));

        // Same bytes for searches, study detail (both roles), timelines and summaries.
        foreach (var path in new[]
                 {
                     "api/search?q=pleural%20effusion&mode=bm25", "api/search?q=aneurysm&mode=bm25&limit=3&where=modality%20%3D%20%27CT%27",
                     "api/studies/CL-0003", "api/studies/CL-0003/timeline", "api/search/summaries?study=CL-0003&study=CL-0017&study=NO-SUCH",
                 })
            foreach (var role in new[] { "clinician", "researcher" })
            {
                var (a, b) = (await As(one, role).GetAsync(path), await As(cl, role).GetAsync(path));
                Assert.Equal(HttpStatusCode.OK, b.StatusCode);
                Assert.Equal(NoTime(await a.Content.ReadAsStringAsync()), NoTime(await b.Content.ReadAsStringAsync()));
            }
        // Not found is the same problem (404, problem+json) on both.
        var missing = await As(cl, "clinician").GetAsync("api/studies/NO-SUCH");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType!.MediaType);
        // History: the same rows (content hashes), numbered by the shard.
        var h1 = await As(one, "clinician").GetFromJsonAsync<JsonObject>("api/studies/CL-0017/history");
        var h2 = await As(cl, "clinician").GetFromJsonAsync<JsonObject>("api/studies/CL-0017/history");
        Assert.Equal(h1!["history"]!.AsArray().Select(r => (string)r!["content_hash"]!), h2!["history"]!.AsArray().Select(r => (string)r!["content_hash"]!));

        // Validation through the log: the validator's identity from the key, 409 when stale, 403 for researchers, as on one node.
        async Task<(HttpResponseMessage First, HttpResponseMessage Stale, HttpResponseMessage Researcher)> Diagnose(CasebookServer s)
        {
            var history = await As(s, "clinician").GetFromJsonAsync<JsonObject>("api/studies/CL-0021/history");
            var v = history!["history"]!.AsArray()[^1]!["version"]!.GetValue<long>();
            var body = new { code = "I71.9", system = "icd10cm", status = "confirmed", reason = "ct", base_version = v };
            var first = await As(s, "validator").PostAsJsonAsync("api/studies/CL-0021/diagnose", body);
            var stale = await As(s, "validator").PostAsJsonAsync("api/studies/CL-0021/validate", new { finding = "aneurysm", status = "confirmed", base_version = v });
            var researcher = await As(s, "researcher").PostAsJsonAsync("api/studies/CL-0021/diagnose", body);
            return (first, stale, researcher);
        }
        var (o1, o2, o3) = await Diagnose(one);
        var (c1, c2, c3) = await Diagnose(cl);
        Assert.True(c1.IsSuccessStatusCode, await c1.Content.ReadAsStringAsync());
        Assert.Equal(Without(await o1.Content.ReadAsStringAsync()), Without(await c1.Content.ReadAsStringAsync()));
        Assert.Equal((o2.StatusCode, o3.StatusCode), (c2.StatusCode, c3.StatusCode));
        Assert.Equal((HttpStatusCode.Conflict, HttpStatusCode.Forbidden), (c2.StatusCode, c3.StatusCode));
        Assert.Equal("application/problem+json", c2.Content.Headers.ContentType!.MediaType);
        await using (var client = await Casebook.Cluster.ClusterClient.ConnectAsync(Casebook.Cluster.ClusterConfig.Load(f.ClusterFile)))
        {
            var study = (await client.GetStudyAsync("CL-0021"))!;
            var diagnosis = study.Metadata["diagnoses"]!.AsArray().Single()!;
            Assert.Equal("I71.9", (string)diagnosis["code"]!);
            Assert.StartsWith("key:", (string)diagnosis["author"]!); // the validator's key, never the body
        }

        // Similar cases: the contract, mostly the same neighbours; versions and health answer with one node's keys.
        var s1 = (await As(one, "validator").GetFromJsonAsync<JsonObject>("api/similar?study=CL-0005&limit=5"))!;
        var s2 = (await As(cl, "validator").GetFromJsonAsync<JsonObject>("api/similar?study=CL-0005&limit=5"))!;
        Assert.Equal(s1.Select(kv => kv.Key), s2.Select(kv => kv.Key));
        Assert.True(Ids(s1).Intersect(Ids(s2)).Count() >= 3, $"[{string.Join(",", Ids(s1))}] vs [{string.Join(",", Ids(s2))}]");
        Assert.Equal(HttpStatusCode.Forbidden, (await As(cl, "researcher").GetAsync("api/similar?study=CL-0005")).StatusCode);
        var versions = await As(cl, "clinician").GetFromJsonAsync<JsonObject>("api/versions");
        Assert.NotEmpty(versions!["versions"]!.AsArray());
        var health = (await As(cl, null).GetFromJsonAsync<JsonObject>("health"))!;
        Assert.Equal(["status", "version"], health.Select(kv => kv.Key));
        Assert.True(health["version"]!.GetValue<long>() > 0);

        // Counts summed over the shards equal one node's (researchers see the same suppression); the MRN look-up answers alike.
        foreach (var role in new[] { "admin", "researcher" })
        {
            var st1 = (await As(one, role).GetFromJsonAsync<JsonObject>("api/stats"))!;
            var st2 = (await As(cl, role).GetFromJsonAsync<JsonObject>("api/stats"))!;
            Assert.Equal(st1.Select(kv => kv.Key), st2.Select(kv => kv.Key));
            foreach (var key in new[] { "studies", "segments", "patients" }) Assert.Equal(st1[key]!.ToJsonString(), st2[key]!.ToJsonString());
        }
        var p1 = await As(one, "clinician").PostAsJsonAsync("api/patients/lookup", new { mrn = "PAT-3" });
        var p2 = await As(cl, "clinician").PostAsJsonAsync("api/patients/lookup", new { mrn = "PAT-3" });
        Assert.Equal(HttpStatusCode.OK, p2.StatusCode);
        Assert.Equal(await p1.Content.ReadAsStringAsync(), await p2.Content.ReadAsStringAsync());
        Assert.NotEmpty(JsonNode.Parse(await p2.Content.ReadAsStringAsync())!["studies"]!.AsArray());
        Assert.Equal(HttpStatusCode.Forbidden, (await As(cl, "researcher").PostAsJsonAsync("api/patients/lookup", new { mrn = "PAT-3" })).StatusCode);

        // Image search: the same multipart request, the same studies and image slices as one node.
        async Task<JsonNode> ImageSearch(CasebookServer s)
        {
            using var form = new MultipartFormDataContent { { new ByteArrayContent(File.ReadAllBytes(Path.Combine(f.Corpus, "images/p8.png"))), "image", "p8.png" }, { new StringContent("5"), "limit" } };
            var response = await As(s, "clinician").PostAsync("api/search/image", form);
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
            return JsonNode.Parse(await response.Content.ReadAsStringAsync())!["results"]!;
        }
        var image1 = await ImageSearch(one);
        Assert.Equal(5, image1.AsArray().Count);
        ClusterTests.SameUpToFloatRounding(image1, await ImageSearch(cl), "POST /api/search/image");

        // Export is distributed (ClusterHistoryTests compares the files): the same roles and parameter errors as one node.
        Assert.Equal(HttpStatusCode.BadRequest, (await As(cl, "admin").GetAsync("api/export")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await As(cl, "clinician").GetAsync("api/export?format=jsonl")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await As(cl, null).GetAsync("api/export")).StatusCode);

        // Slices and thumbnails render from the object store: the same PNG bytes as one node; a study without images is a 404.
        foreach (var path in new[] { "api/studies/CL-0008/thumbnail", "api/studies/CL-0008/slices/0" })
        {
            var png = await As(cl, "clinician").GetAsync(path);
            Assert.True(png.IsSuccessStatusCode, $"{path}: {(int)png.StatusCode} {await png.Content.ReadAsStringAsync()}");
            Assert.Equal("image/png", png.Content.Headers.ContentType!.MediaType);
            Assert.Equal(await As(one, "clinician").GetByteArrayAsync(path), await png.Content.ReadAsByteArrayAsync());
        }
        Assert.Equal(HttpStatusCode.NotFound, (await As(cl, "clinician").GetAsync("api/studies/CL-0003/thumbnail")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await As(cl, null).GetAsync("api/studies/CL-0008/thumbnail")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await As(cl, null).GetAsync("api/search?q=x")).StatusCode);

        // Upload ingest goes into the cluster log as a job; the study then reads the same from both servers.
        foreach (var s in new[] { one, cl })
        {
            using var form = new MultipartFormDataContent
            {
                { new StringContent("study_id,patient_id,modality,exam_date,report,images\nCL-HTTP-1,PAT-HTTP,CT,2024-06-01,r.txt,\n"), "files", "studies.csv" },
                { new StringContent("FINDINGS:\nsplenomegaly and ascites.\n"), "files", "r.txt" },
            };
            var accepted = await As(s, "admin").PostAsync("api/ingest", form);
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
            var location = accepted.Headers.Location!.ToString().TrimStart('/');
            JsonObject job;
            var deadline = DateTime.UtcNow.AddMinutes(3);
            do
            {
                await Task.Delay(200);
                job = (await As(s, "admin").GetFromJsonAsync<JsonObject>(location))!;
            } while ((string)job["state"]! is "queued" or "running" && DateTime.UtcNow < deadline);
            Assert.True((string)job["state"]! == "succeeded", job.ToJsonString());
            Assert.Equal(1, (int)job["result"]!["inserted"]!);
        }
        Assert.Equal(await As(one, "clinician").GetStringAsync("api/studies/CL-HTTP-1"), await As(cl, "clinician").GetStringAsync("api/studies/CL-HTTP-1"));

        // The cluster server audits like one node: who did what, refusals included, in its own hash-chained log.
        var audit = new AuditLog(new ServerStore(serverDir));
        var entries = audit.Read();
        Assert.Contains(entries, e => e.Action == "study.diagnose" && e.Outcome == "success");
        Assert.Contains(entries, e => e.Action == "study.diagnose" && e.Role == "researcher" && e.Outcome != "success");
        Assert.Contains(entries, e => e.Action == "search");
        Assert.True(audit.Verify().Intact);
    }

    [Fact]
    public async Task Serve_with_cluster_starts_from_the_cli_and_keys_made_in_its_directory_open_the_api()
    {
        // `serve --cluster F` makes its own directory (DATA/server: keys, audit) on first start; keys are made there.
        using var p = System.Diagnostics.Process.Start(CliProcess.StartInfo(f.Dir.Path, f.Dir.KeyFile, "serve", "--cluster", f.ClusterFile, "--port", "0"))!;
        try
        {
            var url = await p.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromMinutes(2));
            Assert.Matches(@"^http://127\.0\.0\.1:\d+$", url);
            var serverDir = Path.Combine(Casebook.Cluster.ClusterConfig.Load(f.ClusterFile).Data, "server");
            var key = f.Cli("keys", "create", "--role", "clinician", "--db", serverDir).Trim().Split('\n')[^1];
            using var c = new HttpClient { BaseAddress = new Uri(url + "/") };
            Assert.Equal(HttpStatusCode.OK, (await c.GetAsync("health")).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await c.GetAsync("api/search?q=effusion")).StatusCode);
            c.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
            var search = await c.GetStringAsync("api/search?q=pleural%20effusion&mode=bm25&limit=3");
            Assert.Equal(NoTime(f.Cli("search", "pleural effusion", "--mode", "bm25", "--limit", "3", "--json", "--cluster", f.ClusterFile)), NoTime(search));
        }
        finally
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit(10_000);
        }
    }

    static List<string> Routes(CasebookServer s) => s.App.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
        .Select(e => string.Join(",", e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()?.HttpMethods ?? []) + " " + e.RoutePattern.RawText)
        .Where(r => !r.Contains("openapi") && !r.Contains("scalar")).Order(StringComparer.Ordinal).ToList();

    /// <summary>The answer less its timing (took_ms), which is all that may differ.</summary>
    static string NoTime(string json)
    {
        var o = JsonNode.Parse(json)!.AsObject();
        o.Remove("took_ms");
        return o.ToJsonString();
    }

    static IEnumerable<string> Ids(JsonObject similar) => similar["results"]!.AsArray().Select(r => (string)r!["study_id"]!);

    static string Without(string result)
    {
        var o = JsonNode.Parse(result)!.AsObject();
        o.Remove("version");
        o["change"]?.AsObject().Remove("time");
        return o.ToJsonString();
    }
}

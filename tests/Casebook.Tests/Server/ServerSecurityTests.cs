using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Casebook.Server;
using Casebook.Server.Security;
using Casebook.Tests.Search;

namespace Casebook.Tests.Server;

/// <summary>Who may call what (each role × each endpoint), and how credentials, paths, uploads and filters are attacked and refused.</summary>
[Collection("demo corpus")]
public class ServerSecurityTests(DemoCorpusFixture demo)
{
    readonly DemoServer server = DemoServer.Shared(demo);

    const string All = "clinician researcher validator admin";

    /// <summary>One endpoint: how to call it, which roles it admits, and what an admitted call answers.</summary>
    sealed record Endpoint(string Name, Func<HttpClient, Task<HttpResponseMessage>> Call, string Allowed, HttpStatusCode Expected = HttpStatusCode.OK);

    IEnumerable<Endpoint> Endpoints()
    {
        var blob = demo.Db.GetStudy("DEMO-CR-0001")!.Segments.First(g => g.Blob != null).Blob!.Sha256;
        var png = File.ReadAllBytes(Path.Combine(demo.CorpusDir, "images", "cr-0001.png"));
        yield return new("search", c => c.GetAsync("api/search?q=effusion&limit=3"), All);
        yield return new("image search", c => c.PostAsync("api/search/image", new MultipartFormDataContent { { new ByteArrayContent(png), "image", "q.png" } }), All);
        yield return new("study detail", c => c.GetAsync("api/studies/DEMO-CR-0001"), All);
        yield return new("study history", c => c.GetAsync("api/studies/DEMO-CR-0001/history"), All);
        yield return new("slice", c => c.GetAsync("api/studies/DEMO-CR-0001/slices/0"), All);
        yield return new("thumbnail", c => c.GetAsync("api/studies/DEMO-CR-0001/thumbnail"), All);
        yield return new("study timeline", c => c.GetAsync("api/studies/DEMO-CR-0001/timeline"), All);
        yield return new("search summaries", c => c.GetAsync("api/search/summaries?study=DEMO-CR-0001&study=DEMO-CR-0002"), All);
        yield return new("versions", c => c.GetAsync("api/versions"), All);
        yield return new("stats", c => c.GetAsync("api/stats"), All);
        yield return new("token", c => c.PostAsync("api/token", null), All);
        yield return new("original blob", c => c.GetAsync($"api/blobs/{blob}"), "clinician validator admin");
        yield return new("export", c => c.GetAsync("api/export?format=jsonl"), "researcher admin");
        yield return new("patient lookup", c => c.PostAsync("api/patients/lookup", new StringContent("{\"mrn\":\"PAT-1001\"}", Encoding.UTF8, "application/json")), "clinician admin");
        // Admitted calls that are refused on their content, so the matrix changes nothing.
        yield return new("ingest", c => c.PostAsync("api/ingest", new MultipartFormDataContent { { new StringContent("x"), "files", "../escape.csv" } }), "admin", HttpStatusCode.BadRequest);
        yield return new("job", c => c.GetAsync("api/jobs/0000000000000000"), "admin", HttpStatusCode.NotFound);
        yield return new("audit", c => c.GetAsync("api/audit?limit=5"), "admin");
        yield return new("keys list", c => c.GetAsync("api/keys"), "admin");
        yield return new("keys create", c => c.PostAsync("api/keys", new StringContent("{\"role\":\"pope\"}", Encoding.UTF8, "application/json")), "admin", HttpStatusCode.BadRequest);
        // DICOMweb over the demo's DICOM CT (docs/dicomweb.md): instance bytes are not for researchers; storing is admin's.
        var ct = demo.Db.Studies(withSegments: true).First(st => st.DicomMime == "application/dicom");
        var slice = ct.Segments.First(g => g.BlobMime == "application/dicom" && g.Source.File != null);
        var instance = $"dicomweb/studies/{ct.StudyId}/series/{ct.Metadata["dicom"]!["series"]![0]!["series_uid"]}/instances/{slice.Source.File}";
        yield return new("dicomweb search", c => c.GetAsync("dicomweb/studies?limit=1"), All);
        yield return new("dicomweb metadata", c => c.GetAsync($"dicomweb/studies/{ct.StudyId}/metadata"), All);
        yield return new("dicomweb rendered", c => c.GetAsync(instance + "/rendered"), All);
        yield return new("dicomweb retrieve", c => c.GetAsync(instance), "clinician validator admin");
        yield return new("dicomweb store", c => c.PostAsync("dicomweb/studies", Casebook.Tests.Server.DicomWeb.DicomWebClient.StowBody("not DICOM"u8.ToArray())), "admin", HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Authorization_matrix_each_role_by_each_endpoint()
    {
        var failures = new List<string>();
        foreach (var e in Endpoints())
        {
            foreach (var role in Roles.All)
            {
                var r = await e.Call(server.As(role));
                var expected = e.Allowed.Split(' ').Contains(role) ? e.Expected : HttpStatusCode.Forbidden;
                if (r.StatusCode != expected) failures.Add($"{e.Name} as {role}: {(int)r.StatusCode}, expected {(int)expected}: {await r.Content.ReadAsStringAsync()}");
            }
            var anonymous = await e.Call(server.Client());
            if (anonymous.StatusCode != HttpStatusCode.Unauthorized) failures.Add($"{e.Name} without a key: {(int)anonymous.StatusCode}, expected 401");
            else if (anonymous.Content.Headers.ContentType?.MediaType != "application/problem+json") failures.Add($"{e.Name} 401 is not problem details");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public async Task Tokens_bought_with_a_key_work_and_expired_forged_or_altered_tokens_do_not()
    {
        var bought = JsonNode.Parse(await (await server.As("researcher").PostAsync("api/token", null)).Content.ReadAsStringAsync())!;
        var token = bought["access_token"]!.GetValue<string>();
        Assert.Equal("researcher", bought["role"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, (await server.Client(token).GetAsync("api/search?q=effusion")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await server.Client(token).GetAsync("api/audit")).StatusCode); // the role travels in the token
        Assert.Equal(HttpStatusCode.Forbidden, (await server.Client(token).PostAsync("api/token", null)).StatusCode); // no token from a token

        var key = CasebookAuth.LoadSigningKey(null, server.DbDir);
        var expired = CasebookAuth.IssueToken(key, "key:x", "admin", TimeSpan.FromMinutes(5), DateTime.UtcNow.AddHours(-2));
        var forged = CasebookAuth.IssueToken(RandomNumberGenerator.GetBytes(32), "key:x", "admin", TimeSpan.FromMinutes(5));
        var parts = token.Split('.');
        var payload = JsonNode.Parse(Base64UrlDecode(parts[1]))!;
        payload["role"] = "admin";
        var altered = $"{parts[0]}.{Base64UrlEncode(Encoding.UTF8.GetBytes(payload.ToJsonString()))}.{parts[2]}";
        var unsigned = $"{Base64UrlEncode("{\"alg\":\"none\",\"typ\":\"JWT\"}"u8.ToArray())}.{Base64UrlEncode(Encoding.UTF8.GetBytes(payload.ToJsonString()))}.";
        foreach (var (name, bad) in new[] { ("expired", expired), ("forged", forged), ("altered", altered), ("unsigned", unsigned), ("garbage", "a.b.c") })
        {
            var r = await server.Client(bad).GetAsync("api/search?q=effusion");
            Assert.True(r.StatusCode == HttpStatusCode.Unauthorized, $"{name} token: {(int)r.StatusCode}");
        }
        var audit = await server.As("admin").GetStringAsync("api/audit?limit=100000");
        Assert.Contains("expired token", audit);
    }

    [Fact]
    public async Task Wrong_revoked_and_malformed_keys_are_refused_and_audited()
    {
        var store = new ApiKeyStore(new ServerStore(server.DbDir));
        var (id, key) = store.Create(Roles.Clinician, "to revoke");
        Assert.Equal(HttpStatusCode.OK, (await server.Client(key).GetAsync("api/stats")).StatusCode);
        Assert.True(store.Revoke(id));
        Assert.Equal(HttpStatusCode.Unauthorized, (await server.Client(key).GetAsync("api/stats")).StatusCode);
        var wrongSecret = $"cbk_{server.KeyIds["admin"]}_{new string('A', 43)}";
        foreach (var bad in new[] { wrongSecret, "cbk_", "cbk__", "not-a-key", new string('x', 5000) })
            Assert.Equal(HttpStatusCode.Unauthorized, (await server.Client(bad).GetAsync("api/stats")).StatusCode);
        var entries = JsonNode.Parse(await server.As("admin").GetStringAsync("api/audit?limit=100000"))!["entries"]!.AsArray();
        Assert.Contains(entries, e => e!["action"]!.GetValue<string>() == "login" && e["outcome"]!.GetValue<string>() == "failure"
                                      && e["actor"]!.GetValue<string>() == $"key:{server.KeyIds["admin"]}");
        Assert.Contains(entries, e => e!["action"]!.GetValue<string>() == "login" && e["actor"]!.GetValue<string>() == $"key:{id}");
    }

    [Fact]
    public async Task Path_traversal_in_blob_and_study_ids_reaches_no_file()
    {
        var c = server.As("admin");
        foreach (var path in new[]
                 {
                     "api/blobs/..%2F..%2Fcasebook.db", "api/blobs/%2e%2e%2fcasebook.db", "api/blobs/..%5C..%5Ccasebook.db",
                     "api/blobs/" + new string('A', 64), "api/blobs/" + new string('0', 63) + "/", "api/blobs/" + "../" + new string('0', 61),
                     "api/studies/..%2F..%2Fcasebook.db", "api/studies/%2e%2e%2f%2e%2e%2fetc%2fpasswd/slices/0", "api/studies/DEMO-CR-0001%00/history",
                 })
        {
            var r = await c.GetAsync(path);
            var body = await r.Content.ReadAsByteArrayAsync();
            Assert.True(r.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.NotFound, $"{path}: {(int)r.StatusCode}");
            Assert.DoesNotContain("SQLite format", Encoding.ASCII.GetString(body));
        }
    }

    [Fact]
    public async Task Oversized_and_malformed_uploads_are_refused_with_problem_details()
    {
        var c = server.As("admin");
        // Expect: 100-continue lets the server refuse before the body is sent (as well-behaved upload clients do).
        c.DefaultRequestHeaders.ExpectContinue = true;
        var big = new byte[DemoServer.MaxImageQueryBytes + 1024];
        var tooBig = await c.PostAsync("api/search/image", new MultipartFormDataContent { { new ByteArrayContent(big), "image", "big.png" } });
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooBig.StatusCode);
        Assert.Equal("application/problem+json", tooBig.Content.Headers.ContentType!.MediaType);
        var bigIngest = await c.PostAsync("api/ingest", new MultipartFormDataContent { { new ByteArrayContent(new byte[DemoServer.MaxIngestBytes + 1024]), "files", "x.dcm" } });
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, bigIngest.StatusCode);
        // Chunked (no Content-Length): the limit still holds while the body is read.
        var chunked = new StreamContent(new MemoryStream(Encoding.ASCII.GetBytes("{\"label\":\"" + new string('a', 2 << 20) + "\"}"))) { Headers = { ContentType = new("application/json") } };
        var chunkedReq = new HttpRequestMessage(HttpMethod.Post, "api/keys") { Content = chunked };
        chunkedReq.Headers.TransferEncodingChunked = true;
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await c.SendAsync(chunkedReq)).StatusCode);

        var cases = new (string Name, HttpContent Content)[]
        {
            ("not multipart", new StringContent("hello", Encoding.UTF8, "text/plain")),
            ("no image field", new MultipartFormDataContent { { new StringContent("x"), "q" } }),
            ("empty image", new MultipartFormDataContent { { new ByteArrayContent([]), "image", "e.png" } }),
            ("garbage image", new MultipartFormDataContent { { new ByteArrayContent(RandomNumberGenerator.GetBytes(4096)), "image", "g.png" } }),
            ("truncated png", new MultipartFormDataContent { { new ByteArrayContent(File.ReadAllBytes(Path.Combine(demo.CorpusDir, "images", "cr-0001.png"))[..200]), "image", "t.png" } }),
            ("broken multipart", new StringContent("--xyz\r\nContent-Disposition: form-data; name=\"image\"\r\n\r\nabc", Encoding.UTF8)
                { Headers = { ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse("multipart/form-data; boundary=xyz") } }),
        };
        foreach (var (name, content) in cases)
        {
            var r = await c.PostAsync("api/search/image", content);
            Assert.True(r.StatusCode == HttpStatusCode.BadRequest, $"{name}: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
            Assert.Equal("application/problem+json", r.Content.Headers.ContentType!.MediaType);
        }
        var before = Directory.GetFiles(Path.GetTempPath(), "escape*", SearchOption.TopDirectoryOnly).Length;
        foreach (var name in new[] { "../escape.csv", "/etc/escape.csv", "a/../../escape.csv", "C:\\escape.csv", "a//b.csv", "a/\u0001.csv" })
        {
            var r = await c.PostAsync("api/ingest", new MultipartFormDataContent { { new StringContent("x"), "files", name } });
            Assert.True(r.StatusCode == HttpStatusCode.BadRequest, $"upload name {name}: {(int)r.StatusCode}");
        }
        Assert.Equal(before, Directory.GetFiles(Path.GetTempPath(), "escape*", SearchOption.TopDirectoryOnly).Length);
    }

    [Fact]
    public async Task Hostile_filter_text_is_a_400_and_leaves_the_database_intact()
    {
        var c = server.As("clinician");
        var before = JsonNode.Parse(await c.GetStringAsync("api/stats"))!["studies"]!.GetValue<long>();
        var hostile = new[]
        {
            "modality = 'CT'; DROP TABLE studies; --", "' OR 1=1 --", "modality = 'CT' OR 1=1", "modality = \"CT\"", "/* */ modality = 'CT'",
            new string('(', 1000) + "modality = 'CT'" + new string(')', 1000), string.Concat(Enumerable.Repeat("NOT ", 400)) + "modality = 'CT'",
            "modality IN (" + string.Join(",", Enumerable.Range(0, 300).Select(i => $"'{i}'")) + ")", "metadata.\"x\" = 1", "metadata.a'b = 1",
"exam_date >= DATE '2024-02-30'", "study_id = x'00'", "modality = 'CT' AND kind = 'report_paragraph' UNION SELECT 1",
        };
        foreach (var where in hostile)
        {
            var r = await c.GetAsync("api/search?q=effusion&where=" + Uri.EscapeDataString(where));
            var body = await r.Content.ReadAsStringAsync();
            Assert.True(r.StatusCode == HttpStatusCode.BadRequest, $"{where[..Math.Min(60, where.Length)]}: {(int)r.StatusCode} {body}");
            Assert.Equal("application/problem+json", r.Content.Headers.ContentType!.MediaType);
        }
        // A quote inside a string literal is data, never SQL: a valid filter that matches nothing.
        var inert = await c.GetAsync("api/search?q=effusion&where=" + Uri.EscapeDataString("modality = 'CR'' OR ''1''=''1'"));
        Assert.Equal(HttpStatusCode.OK, inert.StatusCode);
        Assert.Empty(JsonNode.Parse(await inert.Content.ReadAsStringAsync())!["results"]!.AsArray());
        Assert.Equal(before, JsonNode.Parse(await c.GetStringAsync("api/stats"))!["studies"]!.GetValue<long>());
        Assert.Equal(HttpStatusCode.OK, (await c.GetAsync("api/search?q=effusion&where=" + Uri.EscapeDataString("modality = 'CR'"))).StatusCode);
    }

    [Fact]
    public async Task Request_rate_is_limited_per_caller_with_a_429_problem()
    {
        await using var limited = CasebookServer.Create(new ServerOptions { DbDirectory = server.DbDir, KeyFile = server.KeyFile, Port = 0, RequestsPerWindow = 3, RateWindow = TimeSpan.FromMinutes(1) });
        await limited.StartAsync();
        using var c = new HttpClient { BaseAddress = new Uri(limited.Urls[0] + "/") };
        c.DefaultRequestHeaders.Authorization = new("Bearer", server.Keys["clinician"]);
        for (var i = 0; i < 3; i++) Assert.Equal(HttpStatusCode.OK, (await c.GetAsync("api/versions")).StatusCode);
        var r = await c.GetAsync("api/versions");
        Assert.Equal(HttpStatusCode.TooManyRequests, r.StatusCode);
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType!.MediaType);
        using var other = new HttpClient { BaseAddress = new Uri(limited.Urls[0] + "/") };
        other.DefaultRequestHeaders.Authorization = new("Bearer", server.Keys["admin"]);
        Assert.Equal(HttpStatusCode.OK, (await other.GetAsync("api/versions")).StatusCode); // another caller has its own budget
        Assert.Equal(HttpStatusCode.OK, (await c.GetAsync("health")).StatusCode); // health is never limited

        // Bad credentials from one address are refused by the per-address budget (10 × 3 here) before they are checked,
        // so they cannot flood the audit log.
        using var flood = new HttpClient { BaseAddress = new Uri(limited.Urls[0] + "/") };
        flood.DefaultRequestHeaders.Authorization = new("Bearer", "cbk_000000000000_bad");
        var codes = new List<HttpStatusCode>();
        for (var i = 0; i < 40; i++) codes.Add((await flood.GetAsync("api/versions")).StatusCode);
        Assert.Contains(HttpStatusCode.Unauthorized, codes);
        Assert.Equal(HttpStatusCode.TooManyRequests, codes[^1]);
    }

    [Fact]
    public async Task Tls_is_required_off_loopback_and_served_with_a_certificate()
    {
        var refused = Assert.Throws<ArgumentException>(() => new ServerOptions { DbDirectory = server.DbDir, Bind = "0.0.0.0" }.Validate());
        Assert.Contains("--tls-cert", refused.Message);
        new ServerOptions { DbDirectory = server.DbDir, Bind = "0.0.0.0", InsecureHttp = true }.Validate(); // explicit opt-in
        new ServerOptions { DbDirectory = server.DbDir, Bind = "127.0.0.1" }.Validate();

        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var pfx = server.Temp["tls.pfx"];
        await File.WriteAllBytesAsync(pfx, cert.Export(X509ContentType.Pfx));
        await using var tls = CasebookServer.Create(new ServerOptions { DbDirectory = server.DbDir, KeyFile = server.KeyFile, Port = 0, TlsCertPath = pfx });
        await tls.StartAsync();
        var url = new Uri(tls.Urls[0]);
        Assert.Equal("https", url.Scheme);
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, c, _, _) => c?.Thumbprint == cert.Thumbprint };
        using var client = new HttpClient(handler);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri(url, "health"))).StatusCode);
        using var plain = new HttpClient();
        try { Assert.NotEqual(HttpStatusCode.OK, (await plain.GetAsync($"http://127.0.0.1:{url.Port}/health")).StatusCode); }
        catch (HttpRequestException) { } // plain HTTP on the TLS port gets no answer
    }

    static string Base64UrlEncode(byte[] b) => Convert.ToBase64String(b).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    static string Base64UrlDecode(string s)
    {
        s = s.Replace('-', '+').Replace('_', '/');
        return Encoding.UTF8.GetString(Convert.FromBase64String(s.PadRight(s.Length + (4 - s.Length % 4) % 4, '=')));
    }
}

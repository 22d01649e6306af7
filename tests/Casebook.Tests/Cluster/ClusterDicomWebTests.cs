using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Casebook.Server;
using Casebook.Server.Audit;
using Casebook.Server.Security;
using Casebook.Tests.Server.DicomWeb;

namespace Casebook.Tests.Cluster;

/// <summary>
/// DICOMweb under `serve --cluster` beside the single-node server over the same data: real DICOM files (pydicom's test
/// files in ../shared/data) ingested into both, then QIDO-RS answers, WADO-RS instance bytes, metadata and rendered frames
/// compared; roles and audit as on one node. Also GET /api/similar with a study's image evidence.
/// </summary>
[Collection("local cluster")]
public sealed class ClusterDicomWebTests(LocalClusterFixture f)
{
    static readonly string[] Files = ["CT_small.dcm", "MR_small.dcm", "SC_rgb_small_odd.dcm", "SC_rgb_rle_2frame.dcm"];

    [Fact]
    public async Task Dicomweb_through_the_cluster_answers_like_one_node()
    {
        var source = SharedData.Require("dicom/pydicom");
        var folder = f.Dir["dicomweb-corpus"];
        Directory.CreateDirectory(folder);
        foreach (var name in Files) File.Copy(Path.Combine(source, name), Path.Combine(folder, name), overwrite: true);
        f.Cli("ingest", folder, "--cluster", f.ClusterFile, "--json");
        f.Cli("ingest", folder, "--db", f.SingleDb, "--json");

        var serverDir = f.Dir["dicomweb-server-state"];
        CasebookDb.Open(serverDir).Dispose();
        var keys = new Dictionary<(bool Cluster, string Role), string>();
        foreach (var (cluster, dir) in new[] { (false, f.SingleDb), (true, serverDir) })
        {
            var store = new ApiKeyStore(new ServerStore(dir));
            foreach (var role in Roles.All) keys[(cluster, role)] = store.Create(role, "dicomweb-test").Key;
        }
        await using var one = CasebookServer.Create(new ServerOptions { DbDirectory = f.SingleDb, KeyFile = f.Dir.KeyFile, Port = 0, RequestsPerWindow = 1_000_000 });
        await using var cl = CasebookServer.Create(new ServerOptions { DbDirectory = serverDir, ClusterFile = f.ClusterFile, KeyFile = f.Dir.KeyFile, Port = 0, RequestsPerWindow = 1_000_000 });
        await one.StartAsync();
        await cl.StartAsync();
        HttpClient As(CasebookServer s, string? role, string? accept = null)
        {
            var c = new HttpClient
            {
                BaseAddress = new Uri(s.Urls[0] + "/"), Timeout = TimeSpan.FromMinutes(2),
                DefaultRequestHeaders = { Authorization = role == null ? null : new AuthenticationHeaderValue("Bearer", keys[(s == cl, role)]) },
            };
            if (accept != null) c.DefaultRequestHeaders.Accept.ParseAdd(accept);
            return c;
        }
        // The answers name the server (RetrieveURL): compared with each server's own base replaced.
        async Task<(HttpStatusCode Status, string Body, string Warnings)> Get(CasebookServer s, string path, string role = "clinician")
        {
            var r = await As(s, role).GetAsync(path);
            var body = (await r.Content.ReadAsStringAsync()).Replace(s.Urls[0], "BASE");
            // A problem carries its request's trace id: compared by status, title and detail.
            if (!r.IsSuccessStatusCode && JsonNode.Parse(body) is JsonObject problem) body = $"{problem["title"]}: {problem["detail"]}";
            return (r.StatusCode, body, string.Join("|", r.Headers.TryGetValues("Warning", out var w) ? w : []));
        }
        async Task<(HttpStatusCode Status, string Body, string Warnings)> Same(string path)
        {
            var (a, b) = (await Get(one, path), await Get(cl, path));
            Assert.True(a == b, $"{path}:\none node {a}\ncluster  {b}");
            return a;
        }

        // QIDO-RS: every level, matching keys, paging, includefield; the same JSON (order, counts, URLs) as one node.
        var studies = JsonNode.Parse((await Same("dicomweb/studies")).Body)!.AsArray();
        Assert.True(studies.Count >= 3, studies.ToJsonString());
        var instances = JsonNode.Parse((await Same("dicomweb/instances?includefield=all")).Body)!.AsArray();
        Assert.True(instances.Count >= Files.Length, instances.ToJsonString());
        var someStudy = DicomWebClient.Value(studies[1], "0020000D")!;
        var patient = DicomWebClient.Value(studies[0], "00100020")!;
        foreach (var path in new[]
                 {
                     "dicomweb/series", "dicomweb/studies?limit=2&offset=1", "dicomweb/studies?limit=2000", "dicomweb/instances?Modality=MR",
                     $"dicomweb/studies?PatientID={patient}", "dicomweb/studies?ModalitiesInStudy=CT", "dicomweb/studies?StudyDate=19000101-20991231",
                     "dicomweb/instances?includefield=00280100,PhotometricInterpretation", "dicomweb/studies?NoSuchKeyword=1", "dicomweb/studies?PatientName=*",
                     $"dicomweb/studies/{someStudy}/series", $"dicomweb/studies/{someStudy}/instances", "dicomweb/studies?SeriesDescription=x&fuzzymatching=true",
                     "dicomweb/studies/1.2.3.4/series",
                 })
            await Same(path);
        Assert.Equal(HttpStatusCode.BadRequest, (await Same("dicomweb/studies?limit=0")).Status);

        // WADO-RS: for every instance the stored bytes, the metadata and the rendered first frame are one node's.
        foreach (var i in instances)
        {
            var (study, series, sop) = (DicomWebClient.Value(i, "0020000D")!, DicomWebClient.Value(i, "0020000E")!, DicomWebClient.Value(i, "00080018")!);
            var path = $"dicomweb/studies/{study}/series/{series}/instances/{sop}";
            var mine = await DicomWebClient.ReadParts(await As(one, "clinician").GetAsync(path));
            var theirs = await DicomWebClient.ReadParts(await As(cl, "clinician").GetAsync(path));
            Assert.Equal(mine.Single(), theirs.Single());
            Assert.Equal(sop, DicomWebClient.Header(theirs[0], Casebook.Extract.Dicom.DicomTag.SOPInstanceUID));
            await Same($"dicomweb/studies/{study}/series/{series}/instances/{sop}/metadata");
            await Same($"dicomweb/studies/{study}/metadata");
            var png = await As(cl, "clinician").GetAsync(path + "/rendered");
            Assert.True(png.IsSuccessStatusCode, $"{path}/rendered: {(int)png.StatusCode} {await png.Content.ReadAsStringAsync()}");
            Assert.Equal("image/png", png.Content.Headers.ContentType!.MediaType);
            Assert.Equal(await As(one, "clinician").GetByteArrayAsync(path + "/rendered"), await png.Content.ReadAsByteArrayAsync());
            // A whole study: the same parts in the same order.
            Assert.Equal(await DicomWebClient.ReadParts(await As(one, "clinician").GetAsync($"dicomweb/studies/{study}")),
                await DicomWebClient.ReadParts(await As(cl, "clinician").GetAsync($"dicomweb/studies/{study}")));
            if (DicomWebClient.Value(i, "00280008") == "2")
            {
                // The second frame, and JPEG by Accept.
                Assert.Equal(await As(one, "clinician").GetByteArrayAsync(path + "/frames/2/rendered"), await As(cl, "clinician").GetByteArrayAsync(path + "/frames/2/rendered"));
                Assert.Equal(HttpStatusCode.NotFound, (await Same(path + "/frames/3/rendered")).Status);
                var jpeg = await As(cl, "clinician", "image/jpeg").GetAsync(path + "/rendered");
                Assert.Equal("image/jpeg", jpeg.Content.Headers.ContentType!.MediaType);
                Assert.Equal(await As(one, "clinician", "image/jpeg").GetByteArrayAsync(path + "/rendered"), await jpeg.Content.ReadAsByteArrayAsync());
            }
        }
        Assert.Equal(HttpStatusCode.NotFound, (await Same("dicomweb/studies/1.2.3.4/metadata")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await Same("dicomweb/studies/not-a-uid/metadata")).Status);

        // Roles as on one node: researchers search and read metadata but do not retrieve instances; no key, no answer.
        var retrieve = $"dicomweb/studies/{someStudy}";
        Assert.Equal(HttpStatusCode.Forbidden, (await As(cl, "researcher").GetAsync(retrieve)).StatusCode);
        Assert.Equal((await As(one, "researcher").GetAsync(retrieve)).StatusCode, (await As(cl, "researcher").GetAsync(retrieve)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await As(cl, "researcher").GetAsync("dicomweb/studies")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await As(cl, null).GetAsync("dicomweb/studies")).StatusCode);

        // GET /api/similar by a study with a picture: its slices' vector and its report, as on one node.
        var (s1, s2) = (await Get(one, "api/similar?study=CL-0008&limit=5", "validator"), await Get(cl, "api/similar?study=CL-0008&limit=5", "validator"));
        Assert.Equal(HttpStatusCode.OK, s2.Status);
        ClusterTests.SameUpToFloatRounding(JsonNode.Parse(s1.Body), JsonNode.Parse(s2.Body), "GET /api/similar?study=CL-0008");

        // STOW-RS through the cluster's log: the same store response as one node (stored, remapped UIDs; failed parts with
        // their reasons), and a second request adds to the stored study exactly as one node merges it.
        var (first, second) = TwoInstancesOfOneStudy(source);
        var garbage = "this is not DICOM"u8.ToArray();
        async Task<(int Status, string Body)> Store(CasebookServer s, string path, params byte[][] parts)
        {
            var r = await As(s, "admin").PostAsync(path, DicomWebClient.StowBody(parts));
            return ((int)r.StatusCode, (await r.Content.ReadAsStringAsync()).Replace(s.Urls[0], "BASE"));
        }
        var stow1 = await Store(one, "dicomweb/studies", File.ReadAllBytes(first), File.ReadAllBytes(Path.Combine(source, "rtplan.dcm")), garbage);
        Assert.Equal(202, stow1.Status);
        Assert.Equal(stow1, await Store(cl, "dicomweb/studies", File.ReadAllBytes(first), File.ReadAllBytes(Path.Combine(source, "rtplan.dcm")), garbage));
        var storedStudy = DicomWebClient.Value(DicomWebClient.Items(JsonNode.Parse(stow1.Body)!, "00081199")[0], "0020000D")!;
        var received = DicomWebClient.Header(second, Casebook.Extract.Dicom.DicomTag.StudyInstanceUID);
        var stow2 = await Store(one, $"dicomweb/studies/{received}", File.ReadAllBytes(second));
        Assert.Equal(200, stow2.Status);
        Assert.Equal(stow2, await Store(cl, $"dicomweb/studies/{received}", File.ReadAllBytes(second)));
        var merged = JsonNode.Parse((await Same($"dicomweb/studies/{storedStudy}/instances")).Body)!.AsArray();
        Assert.Equal(2, merged.Count);
        await Same($"dicomweb/studies?StudyInstanceUID={storedStudy}");
        Assert.Equal(await DicomWebClient.ReadParts(await As(one, "clinician").GetAsync($"dicomweb/studies/{storedStudy}")),
            await DicomWebClient.ReadParts(await As(cl, "clinician").GetAsync($"dicomweb/studies/{storedStudy}")));
        // A purge of the stored study: gone from QIDO on both, and its instances' attributes (the DICOMweb side table) leave
        // one node's files and every shard's with it.
        var sops = merged.Select(i => DicomWebClient.Value(i, "00080018")!).ToList();
        string casebookId;
        await using (var client = await Casebook.Cluster.ClusterClient.ConnectAsync(Casebook.Cluster.ClusterConfig.Load(f.ClusterFile)))
            casebookId = (await client.DicomInstancesAsync()).First(i => i.SopUid == sops[0]).CasebookStudyId;
        f.Cli("purge", "--study", casebookId, "--json", "--db", f.SingleDb);
        f.Cli("purge", "--study", casebookId, "--json", "--cluster", f.ClusterFile);
        Assert.Equal("[]", (await Same($"dicomweb/studies/{storedStudy}/instances")).Body);
        foreach (var file in Directory.EnumerateFiles(Path.Combine(f.Dir["cluster"], "silos"), "*", SearchOption.AllDirectories)
                     .Concat(Directory.EnumerateFiles(f.SingleDb, "*", SearchOption.AllDirectories)))
        {
            var bytes = File.ReadAllBytes(file);
            foreach (var sop in sops) Assert.True(bytes.AsSpan().IndexOf(System.Text.Encoding.ASCII.GetBytes(sop)) < 0, $"{file} still holds {sop}");
        }
        // Storing is for admins, as on one node.
        Assert.Equal(HttpStatusCode.Forbidden, (await As(cl, "clinician").PostAsync("dicomweb/studies", DicomWebClient.StowBody(File.ReadAllBytes(first)))).StatusCode);

        // The cluster server audits DICOMweb like one node (its own hash-chained log).
        var audit = new AuditLog(new ServerStore(serverDir));
        var entries = audit.Read();
        foreach (var action in new[] { "dicomweb.store", "dicomweb.search", "dicomweb.retrieve", "dicomweb.metadata", "dicomweb.rendered" })
            Assert.Contains(entries, e => e.Action == action && e.Outcome == "success");
        Assert.Contains(entries, e => e.Action == "dicomweb.retrieve" && e.Role == "researcher" && e.Outcome != "success");
        Assert.True(audit.Verify().Intact);
    }

    /// <summary>Two image instances (Pixel Data, distinct SOP Instance UIDs) of one study among pydicom's files, of a study the test did not ingest.</summary>
    static (string First, string Second) TwoInstancesOfOneStudy(string source)
    {
        var candidates = new List<(string Path, string Study, string Sop)>();
        foreach (var path in Directory.GetFiles(source, "*.dcm").Order(StringComparer.Ordinal))
        {
            try
            {
                using var d = Casebook.Extract.Dicom.DicomFile.Open(path);
                if (d.PixelData == null || d.Dataset.GetString(Casebook.Extract.Dicom.DicomTag.StudyInstanceUID)?.Trim() is not { Length: > 0 } study
                    || d.Dataset.GetString(Casebook.Extract.Dicom.DicomTag.SOPInstanceUID)?.Trim() is not { Length: > 0 } sop) continue;
                candidates.Add((path, study, sop));
            }
            catch (Exception e) when (e is IOException or InvalidDataException or Casebook.Extract.Dicom.DicomParseException) { }
        }
        var ingested = candidates.Where(c => Files.Contains(Path.GetFileName(c.Path))).Select(c => c.Study).ToHashSet();
        var group = candidates.Where(c => !ingested.Contains(c.Study)).GroupBy(c => c.Study).Select(g => g.DistinctBy(c => c.Sop).ToList()).FirstOrDefault(g => g.Count >= 2)
            ?? throw new InvalidOperationException($"no two image instances of one study among {source}'s files");
        return (group[0].Path, group[1].Path);
    }
}

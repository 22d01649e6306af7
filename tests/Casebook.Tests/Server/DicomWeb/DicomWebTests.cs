using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Casebook.Extract.Dicom;
using Casebook.Tests.Search;
using static Casebook.Tests.Server.DicomWeb.DicomWebClient;

namespace Casebook.Tests.Server.DicomWeb;

/// <summary>
/// DICOMweb against the shared demo server: STOW-RS store responses and batch failures, adding instances to a study over
/// two requests, QIDO-RS matching on stored (pseudonymised) values, WADO-RS instances, metadata and rendered frames,
/// roles, malformed and oversized uploads.
/// </summary>
[Collection("demo corpus")]
public class DicomWebTests(DemoCorpusFixture demo)
{
    readonly DemoServer server = DemoServer.Shared(demo);

    const string OtSmall = "SC_rgb_small_odd.dcm", OtTwoFrames = "SC_rgb_rle_2frame.dcm", Mr = "MR_small.dcm", RtPlan = "rtplan.dcm";

    /// <summary>Stores files (idempotent: a second store of the same instances changes nothing) and answers their stored study's QIDO entry.</summary>
    async Task<JsonNode> StoredStudy(string file)
    {
        var (status, body) = await Stow(server.As("admin"), "dicomweb/studies", TestFile(file));
        Assert.True(status == 200, $"{status}: {body.ToJsonString()}");
        var study = Value(Items(body, "00081199")[0], "0020000D")!;
        var found = JsonNode.Parse(await (await server.As("clinician").GetAsync($"dicomweb/studies?StudyInstanceUID={study}")).Content.ReadAsStringAsync())!.AsArray();
        return Assert.Single(found)!;
    }

    [Fact]
    public async Task Stow_maps_each_received_uid_to_the_stored_one_and_reports_bad_parts_while_the_rest_is_stored()
    {
        var ot = TestFile(OtSmall);
        var response = await server.As("admin").PostAsync("dicomweb/studies",
            StowBody(File.ReadAllBytes(ot), File.ReadAllBytes(TestFile(RtPlan)), "this is not DICOM"u8.ToArray()));
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode); // PS3.18: 202 when some instances failed
        Assert.Equal("application/dicom+json", response.Content.Headers.ContentType!.MediaType);

        var stored = Assert.Single(Items(body, "00081199"))!;
        var received = Header(ot, DicomTag.SOPInstanceUID);
        Assert.Equal(received, Value(stored, "00081155"));
        var storedSop = Value(stored, "00080018")!;
        Assert.StartsWith("2.25.", storedSop);
        Assert.NotEqual(received, storedSop);
        Assert.NotEqual(Header(ot, DicomTag.StudyInstanceUID), Value(stored, "0020000D"));
        Assert.Equal("45056", Value(stored, "00081196")); // B000: coercion of data elements (de-identified)
        var retrieveUrl = Value(stored, "00081190")!;
        Assert.EndsWith($"/dicomweb/studies/{Value(stored, "0020000D")}/series/{Value(stored, "0020000E")}/instances/{storedSop}", retrieveUrl);

        var failed = Items(body, "00081198");
        Assert.Equal(2, failed.Count);
        Assert.Equal(Header(TestFile(RtPlan), DicomTag.SOPInstanceUID), Value(failed[0], "00081155"));
        Assert.Contains("part 2", Value(failed[0], "00000902"));
        Assert.Equal("49152", Value(failed[1], "00081197")); // C000: cannot understand
        Assert.Contains("not a DICOM Part 10 instance", Value(failed[1], "00000902"));

        // What WADO-RS serves at that URL is the stored, de-identified instance.
        var instance = await server.As("clinician").GetAsync(retrieveUrl);
        Assert.Equal(HttpStatusCode.OK, instance.StatusCode);
        var bytes = Assert.Single(await ReadParts(instance));
        Assert.Equal(storedSop, Header(bytes, DicomTag.SOPInstanceUID));
        Assert.NotEqual("ID1", Header(bytes, DicomTag.PatientID));
        Assert.DoesNotContain("Lestrade", Header(bytes, new DicomTag(0x00100010)));
        Assert.Equal("YES", Header(bytes, new DicomTag(0x00120062))); // Patient Identity Removed
    }

    [Fact]
    public async Task Instances_sent_in_two_requests_end_up_in_one_study()
    {
        var first = await StoredStudy(OtSmall);
        var studyUid = Value(first, "0020000D")!;
        // The second instance of the same (received) study, through the study-scoped route.
        var received = Header(TestFile(OtTwoFrames), DicomTag.StudyInstanceUID);
        var (status, body) = await Stow(server.As("admin"), $"dicomweb/studies/{received}", TestFile(OtTwoFrames));
        Assert.True(status == 200, body.ToJsonString());
        Assert.EndsWith($"/dicomweb/studies/{studyUid}", Value(body, "00081190"));
        var instances = JsonNode.Parse(await (await server.As("clinician").GetAsync($"dicomweb/studies/{studyUid}/instances")).Content.ReadAsStringAsync())!.AsArray();
        Assert.Equal(2, instances.Count); // the first request's instance is still there
        Assert.Contains(instances, i => Value(i, "00280008") == "2");
        var all = await server.As("clinician").GetAsync($"dicomweb/studies/{studyUid}");
        Assert.Equal(2, (await ReadParts(all)).Count);

        // Either instance sent again changes nothing: no new version, the same two instances.
        var versions = JsonNode.Parse(await (await server.As("admin").GetAsync("api/versions")).Content.ReadAsStringAsync())!.ToJsonString();
        foreach (var again in new[] { OtSmall, OtTwoFrames })
            Assert.Equal(200, (await Stow(server.As("admin"), $"dicomweb/studies/{received}", TestFile(again))).Status);
        Assert.Equal(versions, JsonNode.Parse(await (await server.As("admin").GetAsync("api/versions")).Content.ReadAsStringAsync())!.ToJsonString());

        // A study-scoped store refuses an instance of another study, by name, and stores nothing of it.
        var (wrong, refusal) = await Stow(server.As("admin"), $"dicomweb/studies/{received}", TestFile(Mr));
        Assert.Equal(409, wrong);
        Assert.Contains("not to " + received, Value(Items(refusal, "00081198")[0], "00000902"));
    }

    [Fact]
    public async Task Qido_matches_stored_pseudonymised_values_with_wildcards_ranges_fuzzy_names_and_paging()
    {
        var ot = await StoredStudy(OtSmall);
        var mr = await StoredStudy(Mr);
        var c = server.As("researcher"); // QIDO answers only stored, de-identified values: every role may search
        async Task<List<string>> Studies(string query)
        {
            var r = await c.GetAsync("dicomweb/studies?" + query);
            var text = await r.Content.ReadAsStringAsync();
            Assert.True(r.IsSuccessStatusCode, $"{query}: {(int)r.StatusCode} {text}");
            return JsonNode.Parse(text)!.AsArray().Select(s => Value(s, "0020000D")!).ToList();
        }
        string otUid = Value(ot, "0020000D")!, mrUid = Value(mr, "0020000D")!;
        string otPatient = Value(ot, "00100020")!, otName = Value(ot, "00100010")!, otDate = Value(ot, "00080020")!;
        Assert.NotEqual("ID1", otPatient);
        Assert.Equal(64, otPatient.Length);

        Assert.Equal([otUid], await Studies($"PatientID={otPatient}"));
        Assert.Empty(await Studies("PatientID=ID1")); // the received identifier is not stored, so it matches nothing
        Assert.Contains(otUid, await Studies($"00100020={otPatient[..10]}*"));
        Assert.Contains(otUid, await Studies($"PatientName={Uri.EscapeDataString(otName[..^1])}?"));
        Assert.Contains(otUid, await Studies($"StudyDate={otDate}-{otDate}"));
        Assert.Contains(otUid, await Studies($"StudyDate=-{otDate}"));
        Assert.DoesNotContain(otUid, await Studies($"StudyDate={int.Parse(otDate) + 1}-"));
        Assert.Equal([mrUid], await Studies($"StudyInstanceUID={mrUid},{otUid}&ModalitiesInStudy=MR"));
        Assert.Equal([otUid], await Studies($"StudyInstanceUID={mrUid},{otUid}&Modality=OT"));

        // Person names: exact (case-insensitive) without fuzzymatching; word-prefix and one-edit matches with it.
        var lower = Uri.EscapeDataString(otName.ToLowerInvariant());
        Assert.Contains(otUid, await Studies($"PatientName={lower}"));
        Assert.DoesNotContain(otUid, await Studies($"PatientName={Uri.EscapeDataString(otName[..8])}"));
        Assert.Contains(otUid, await Studies($"PatientName={Uri.EscapeDataString(otName[..8])}&fuzzymatching=true"));
        Assert.Contains(otUid, await Studies($"PatientName=anno&fuzzymatching=true")); // ANON with two letters swapped

        var both = await Studies($"StudyInstanceUID={mrUid},{otUid}");
        Assert.Equal(2, both.Count);
        Assert.Equal([both[0]], await Studies($"StudyInstanceUID={mrUid},{otUid}&limit=1"));
        Assert.Equal([both[1]], await Studies($"StudyInstanceUID={mrUid},{otUid}&limit=1&offset=1"));

        // Series and instances, and includefield beyond the index (read from the stored header).
        var series = JsonNode.Parse(await (await c.GetAsync($"dicomweb/studies/{otUid}/series")).Content.ReadAsStringAsync())!.AsArray();
        Assert.Equal("OT", Value(Assert.Single(series), "00080060"));
        var instances = JsonNode.Parse(await (await c.GetAsync($"dicomweb/instances?PatientID={otPatient}&includefield=PhotometricInterpretation")).Content.ReadAsStringAsync())!.AsArray();
        Assert.NotEmpty(instances);
        Assert.All(instances, i => Assert.Equal("RGB", Value(i, "00280004")));

        var bad = await c.GetAsync("dicomweb/studies?NotAKeyword=1");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("NotAKeyword", await bad.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, (await c.GetAsync("dicomweb/studies?limit=0")).StatusCode);
    }

    [Fact]
    public async Task Wado_serves_metadata_and_rendered_frames_and_keeps_instance_bytes_from_researchers()
    {
        var ot = await StoredStudy(OtTwoFrames);
        var study = Value(ot, "0020000D")!;
        var researcher = server.As("researcher");
        var metadata = JsonNode.Parse(await (await researcher.GetAsync($"dicomweb/studies/{study}/metadata")).Content.ReadAsStringAsync())!.AsArray();
        var two = metadata.First(m => Value(m, "00280008") == "2")!;
        Assert.Equal(Value(ot, "00100020"), Value(two, "00100020"));
        Assert.Null(two["7FE00010"]); // bulk data stays out of metadata
        var series = Value(two, "0020000E")!;
        var sop = Value(two, "00080018")!;
        var baseUrl = $"dicomweb/studies/{study}/series/{series}/instances/{sop}";

        var png = await researcher.GetAsync(baseUrl + "/frames/2/rendered");
        Assert.Equal("image/png", png.Content.Headers.ContentType!.MediaType);
        Assert.Equal(0x89, (await png.Content.ReadAsByteArrayAsync())[0]);
        var jpegRequest = new HttpRequestMessage(HttpMethod.Get, baseUrl + "/rendered");
        jpegRequest.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("image/jpeg"));
        var jpeg = await researcher.SendAsync(jpegRequest);
        Assert.Equal("image/jpeg", jpeg.Content.Headers.ContentType!.MediaType);
        Assert.Equal(new byte[] { 0xFF, 0xD8 }, (await jpeg.Content.ReadAsByteArrayAsync())[..2]);
        Assert.Equal(HttpStatusCode.NotFound, (await researcher.GetAsync(baseUrl + "/frames/3/rendered")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await researcher.GetAsync(baseUrl + "/frames/1,2/rendered")).StatusCode);

        Assert.Equal(HttpStatusCode.Forbidden, (await researcher.GetAsync(baseUrl)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await server.As("validator").GetAsync(baseUrl)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await server.As("clinician").GetAsync($"dicomweb/studies/{study}/series/1.2.3")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await server.As("clinician").GetAsync("dicomweb/studies/..%2F..%2Fetc")).StatusCode);
    }

    [Fact]
    public async Task Unauthorised_malformed_and_oversized_stores_are_refused_as_problem_details()
    {
        var file = File.ReadAllBytes(TestFile(OtSmall));
        Assert.Equal(HttpStatusCode.Unauthorized, (await server.Client().PostAsync("dicomweb/studies", StowBody(file))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await server.Client().GetAsync("dicomweb/studies")).StatusCode);
        foreach (var role in new[] { "clinician", "researcher", "validator" })
            Assert.Equal(HttpStatusCode.Forbidden, (await server.As(role).PostAsync("dicomweb/studies", StowBody(file))).StatusCode);

        var admin = server.As("admin");
        // Not multipart/related: 415 naming what was sent.
        var json = await admin.PostAsync("dicomweb/studies", new StringContent("{}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, json.StatusCode);
        Assert.Equal("application/problem+json", json.Content.Headers.ContentType!.MediaType);
        // A body cut off in the middle of a part: 400, nothing stored.
        var truncated = new ByteArrayContent(Encoding.ASCII.GetBytes("--b1\r\nContent-Type: application/dicom\r\n\r\n").Concat(file.Take(500)).ToArray());
        truncated.Headers.TryAddWithoutValidation("Content-Type", "multipart/related; type=\"application/dicom\"; boundary=b1");
        var cut = await admin.PostAsync("dicomweb/studies", truncated);
        Assert.Equal(HttpStatusCode.BadRequest, cut.StatusCode);
        Assert.Contains("multipart", await cut.Content.ReadAsStringAsync());
        // Over the upload limit (the shared server allows 8 MiB): 413 before the body is sent (Expect: 100-continue).
        admin.DefaultRequestHeaders.ExpectContinue = true;
        var big = await admin.PostAsync("dicomweb/studies", StowBody(new byte[DemoServer.MaxIngestBytes + 1]));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, big.StatusCode);
        Assert.Contains("limit", await big.Content.ReadAsStringAsync());

        // Every call is audited, refusals included.
        var audit = JsonNode.Parse(await (await admin.GetAsync("api/audit?limit=1000")).Content.ReadAsStringAsync())!;
        var entries = audit["entries"]!.AsArray();
        Assert.Contains(entries, e => e!["action"]!.GetValue<string>() == "dicomweb.store" && e["outcome"]!.GetValue<string>() == "forbidden");
        Assert.Contains(entries, e => e!["action"]!.GetValue<string>() == "dicomweb.store" && e["outcome"]!.GetValue<string>() == "rejected (413)");
    }
}

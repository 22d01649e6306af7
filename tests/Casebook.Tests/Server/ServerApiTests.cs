using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Casebook.Tests.Search;

namespace Casebook.Tests.Server;

/// <summary>The HTTP API over the demo database: the search contract, study detail, slices, versions, export, ingest jobs, errors.</summary>
[Collection("demo corpus")]
public class ServerApiTests(DemoCorpusFixture demo)
{
    readonly DemoServer server = DemoServer.Shared(demo);

    static async Task<JsonNode> Json(HttpResponseMessage r)
    {
        var body = await r.Content.ReadAsStringAsync();
        Assert.True(r.IsSuccessStatusCode, $"{(int)r.StatusCode}: {body}");
        return JsonNode.Parse(body)!;
    }

    // took_ms is the only field that differs between two runs of the same search.
    static string WithoutTiming(string json) => Regex.Replace(json.TrimEnd('\n'), "\"took_ms\":[0-9.eE+-]+", "\"took_ms\":0");

    [Theory]
    [InlineData("pleural effusion", null, null)]
    [InlineData("thoracentesis", "modality = 'CR'", "bm25")]
    [InlineData("bleeding inside the skull", null, "dense")]
    public async Task Search_answers_byte_for_byte_what_the_cli_prints(string q, string? where, string? mode)
    {
        var url = $"api/search?q={Uri.EscapeDataString(q)}&limit=5" + (where != null ? $"&where={Uri.EscapeDataString(where)}" : "") + (mode != null ? $"&mode={mode}" : "");
        var response = await server.As("clinician").GetAsync(url);
        var api = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        var args = new List<string> { "search", q, "--limit", "5", "--json", "--db", server.DbDir };
        if (where != null) args.AddRange(["--where", where]);
        if (mode != null) args.AddRange(["--mode", mode]);
        var (code, cli, stderr) = CliProcess.Run(server.Temp.Path, server.KeyFile, TimeSpan.FromMinutes(2), args.ToArray());
        Assert.True(code == 0, stderr);
        Assert.NotEmpty(JsonNode.Parse(api)!["results"]!.AsArray());
        Assert.Equal(WithoutTiming(cli), WithoutTiming(api));
    }

    [Fact]
    public async Task Health_needs_no_key_and_openapi_describes_the_api()
    {
        var health = await Json(await server.Client().GetAsync("health"));
        Assert.Equal("ok", health["status"]!.GetValue<string>());
        var doc = await Json(await server.Client().GetAsync("openapi/v1.json"));
        var paths = doc["paths"]!.AsObject().Select(p => p.Key).ToList();
        Assert.Contains("/api/search", paths);
        Assert.Contains("/api/studies/{studyId}/slices/{index}", paths);
        Assert.Contains("/api/ingest", paths);
        Assert.NotNull(doc["components"]!["securitySchemes"]!["bearer"]);
        var page = await server.Client().GetAsync("scalar/v1");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
    }

    [Fact]
    public async Task Study_detail_has_record_segments_and_metadata_and_history()
    {
        var c = server.As("clinician");
        var study = await Json(await c.GetAsync("api/studies/DEMO-CR-0001"));
        Assert.Equal("CR", study["modality"]!.GetValue<string>());
        Assert.Contains("pleural effusion", study["report_text"]!.GetValue<string>());
        Assert.Contains(study["segments"]!.AsArray(), g => g!["kind"]!.GetValue<string>() == "report_paragraph" && g["section"] != null);
        Assert.Equal(1, study["slices"]!.GetValue<int>());
        Assert.NotNull(study["originals"]);
        var history = await Json(await c.GetAsync("api/studies/DEMO-CR-0001/history"));
        Assert.Equal(1, history["history"]!.AsArray()[0]!["version"]!.GetValue<long>());
        var missing = await c.GetAsync("api/studies/NO-SUCH-STUDY");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task Slices_and_thumbnails_render_as_png_with_window_presets()
    {
        var c = server.As("clinician");
        // The demo's DICOM CT (pydicom's CT_small.dcm, de-identified at ingest).
        var dicomStudy = demo.Db.Studies().First(s => s.Modality == "CT" && s.Segments.Any(g => g.BlobMime == "application/dicom")).StudyId;
        var plain = await c.GetByteArrayAsync($"api/studies/{dicomStudy}/slices/0");
        var lung = await c.GetByteArrayAsync($"api/studies/{dicomStudy}/slices/0?preset=lung");
        var bone = await c.GetByteArrayAsync($"api/studies/{dicomStudy}/slices/0?preset=bone");
        foreach (var png in new[] { plain, lung, bone }) Assert.Equal("89504E47", Convert.ToHexString(png, 0, 4));
        Assert.NotEqual(lung, bone); // a different window gives different pixels
        var unknown = await c.GetAsync($"api/studies/{dicomStudy}/slices/0?preset=sunset");
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Contains("lung", await unknown.Content.ReadAsStringAsync()); // names the known presets
        var thumb = await c.GetByteArrayAsync("api/studies/DEMO-CR-0001/thumbnail");
        using var image = SkiaSharp.SKBitmap.Decode(thumb);
        Assert.True(Math.Max(image.Width, image.Height) <= 160);
        Assert.Equal(HttpStatusCode.NotFound, (await c.GetAsync("api/studies/DEMO-CR-0001/slices/7")).StatusCode);
    }

    [Fact]
    public async Task Image_search_by_upload_finds_the_study_of_that_image()
    {
        var png = await File.ReadAllBytesAsync(Path.Combine(demo.CorpusDir, "images", "ct-0006.png"));
        using var form = new MultipartFormDataContent { { new ByteArrayContent(png), "image", "query.png" }, { new StringContent("3"), "limit" } };
        var body = await Json(await server.As("researcher").PostAsync("api/search/image", form));
        Assert.Equal("DEMO-CT-0006", body["results"]![0]!["study_id"]!.GetValue<string>());
        Assert.True(body["results"]!.AsArray().Count <= 3);
    }

    [Fact]
    public async Task Versions_stats_and_researcher_views_are_deidentified()
    {
        var versions = await Json(await server.As("validator").GetAsync("api/versions"));
        Assert.True(versions["versions"]!.AsArray().Count >= 1);
        var stats = await Json(await server.As("clinician").GetAsync("api/stats"));
        Assert.True(stats["studies"]!.GetValue<long>() >= 14);
        var study = await Json(await server.As("researcher").GetAsync("api/studies/DEMO-CR-0014"));
        Assert.Null(study["originals"]); // no dictation audio, DICOM or PDF references
        Assert.DoesNotContain(study["segments"]!.AsArray(), g => g!["blob"] != null);
        Assert.Null(study["metadata"]!["source_files"]);
        var clinician = await Json(await server.As("clinician").GetAsync("api/studies/DEMO-CR-0014"));
        Assert.NotNull(clinician["originals"]!["dictation_audio"]);
    }

    [Fact]
    public void Counts_under_eleven_are_suppressed_for_researchers()
    {
        Assert.Equal("<11", Casebook.Server.Endpoints.Stats.Count(3, researcher: true).GetValue<string>());
        Assert.Equal("<11", Casebook.Server.Endpoints.Stats.Count(10, researcher: true).GetValue<string>());
        Assert.Equal("11", Casebook.Server.Endpoints.Stats.Count(11, researcher: true)!.ToJsonString());
        Assert.Equal("3", Casebook.Server.Endpoints.Stats.Count(3, researcher: false)!.ToJsonString());
    }

    [Fact]
    public async Task A_clinician_looks_a_patient_up_by_mrn_which_is_never_stored_or_logged()
    {
        var r = await server.As("clinician").PostAsync("api/patients/lookup", new StringContent("{\"mrn\":\"PAT-1001\"}", Encoding.UTF8, "application/json"));
        var body = await Json(r);
        Assert.Equal(["DEMO-CR-0001", "DEMO-CR-0002"], body["studies"]!.AsArray().Select(s => s!["study_id"]!.GetValue<string>()).Order());
        Assert.Equal(demo.Db.GetStudy("DEMO-CR-0001")!.PatientPseudoId, body["patient_pseudo_id"]!.GetValue<string>());
        var audit = await server.As("admin").GetStringAsync("api/audit?limit=100000");
        Assert.Contains("patient.lookup", audit);
        Assert.DoesNotContain("PAT-1001", audit);
        var none = await Json(await server.As("clinician").PostAsync("api/patients/lookup", new StringContent("{\"mrn\":\"NOBODY\"}", Encoding.UTF8, "application/json")));
        Assert.Empty(none["studies"]!.AsArray());
    }

    [Fact]
    public async Task Timeline_answers_what_the_cli_prints_and_summaries_give_codes_and_outcomes_per_study()
    {
        await PageStudy.EnsureAsync(server, demo);
        var c = server.As("researcher");
        var api = await Json(await c.GetAsync($"api/studies/{PageStudy.Id}/timeline"));
        var (code, cli, stderr) = CliProcess.Run(server.Temp.Path, server.KeyFile, TimeSpan.FromMinutes(2), "timeline", PageStudy.Id, "--json", "--db", server.DbDir);
        Assert.True(code == 0, stderr);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(cli), api), $"api: {api.ToJsonString()}\ncli: {cli}");
        Assert.Equal(5, api["events"]!.AsArray().Count);
        Assert.Equal(["abnormal_lab", "procedure", "diagnosis", "medication"], api["outcomes"]!.AsArray().Select(o => o!["kind"]!.GetValue<string>()));
        Assert.Equal(HttpStatusCode.NotFound, (await c.GetAsync("api/studies/NO-SUCH-STUDY/timeline")).StatusCode);

        var summaries = (await Json(await c.GetAsync($"api/search/summaries?study={PageStudy.Id}&study=DEMO-CR-0002&study=NO-SUCH-STUDY")))["studies"]!.AsArray();
        Assert.Equal([PageStudy.Id, "DEMO-CR-0002", "NO-SUCH-STUDY"], summaries.Select(s => s!["study_id"]!.GetValue<string>()));
        var page = summaries[0]!;
        var kinds = page["outcomes"]!["kinds"]!;
        Assert.Equal(1, kinds["abnormal_lab"]!.GetValue<int>());
        Assert.Equal(1, kinds["procedure"]!.GetValue<int>());
        Assert.Equal(1, kinds["medication"]!.GetValue<int>());
        Assert.True(kinds["diagnosis"]!.GetValue<int>() >= 1); // 2 once the page test has set the clinician's diagnosis
        Assert.Contains(page["outcomes"]!["items"]!.AsArray(), i => i!["text"]!.GetValue<string>().Contains("Biopsy of lung"));
        Assert.Contains("ICD10:J90", summaries[1]!["clinical_codes"]!.AsArray().Select(x => x!.GetValue<string>()));
        Assert.Equal(0, summaries[1]!["outcomes"]!["total"]!.GetValue<int>());
        Assert.True(summaries[2]!["missing"]!.GetValue<bool>());

        var none = await c.GetAsync("api/search/summaries");
        Assert.Equal(HttpStatusCode.BadRequest, none.StatusCode);
        var tooMany = await c.GetAsync("api/search/summaries?" + string.Join('&', Enumerable.Range(0, 101).Select(i => $"study=S{i}")));
        Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode);
        Assert.Contains("limit is 100", await tooMany.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Export_streams_the_table_and_researchers_get_no_blobs()
    {
        var jsonl = await server.As("researcher").GetStringAsync("api/export?format=jsonl");
        var rows = jsonl.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(rows.Length >= 14);
        Assert.DoesNotContain("source_files", jsonl);
        Assert.Equal(HttpStatusCode.Forbidden, (await server.As("researcher").GetAsync("api/export?format=jsonl&blobs=true")).StatusCode);
        var parquet = await server.As("admin").GetByteArrayAsync("api/export?format=parquet");
        Assert.Equal("PAR1", Encoding.ASCII.GetString(parquet, 0, 4));
        Assert.Equal(HttpStatusCode.BadRequest, (await server.As("admin").GetAsync("api/export?format=csv")).StatusCode);
    }

    [Fact]
    public async Task Ingest_upload_runs_as_a_job_with_progress_and_the_study_becomes_searchable()
    {
        var manifest = "study_id,patient_id,modality,exam_date,report,images\nSRV-API-0001,PAT-9001,CR,2024-05-02,reports/srv.txt,images/a.png;images/b.png\n";
        var report = "FINDINGS: Free intraperitoneal air beneath both hemidiaphragms, compatible with pneumoperitoneum.\n\nIMPRESSION: Pneumoperitoneum.";
        var images = Path.Combine(demo.CorpusDir, "images");
        using var form = new MultipartFormDataContent
        {
            { new StringContent(manifest), "files", "studies.csv" },
            { new StringContent(report), "files", "reports/srv.txt" },
            { new ByteArrayContent(await File.ReadAllBytesAsync(Path.Combine(images, "cr-0001.png"))), "files", "images/a.png" },
            { new ByteArrayContent(await File.ReadAllBytesAsync(Path.Combine(images, "cr-0003.png"))), "files", "images/b.png" },
            { new StringContent("upload test"), "message" },
        };
        var admin = server.As("admin");
        var accepted = await admin.PostAsync("api/ingest", form);
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var job = JsonNode.Parse(await accepted.Content.ReadAsStringAsync())!;
        var location = accepted.Headers.Location!.ToString();
        Assert.Equal($"/api/jobs/{job["id"]}", location);
        var deadline = DateTime.UtcNow.AddMinutes(3);
        do
        {
            await Task.Delay(200);
            job = await Json(await admin.GetAsync(location.TrimStart('/')));
        } while (job["state"]!.GetValue<string>() is "queued" or "running" && DateTime.UtcNow < deadline);
        Assert.Equal("succeeded", job["state"]!.GetValue<string>());
        Assert.Equal(1, job["result"]!["inserted"]!.GetValue<int>());
        Assert.Empty(job["result"]!["errors"]!.AsArray());
        var hits = await Json(await server.As("clinician").GetAsync("api/search?q=pneumoperitoneum&mode=bm25"));
        Assert.Equal("SRV-API-0001", hits["results"]![0]!["study_id"]!.GetValue<string>());
        var study = await Json(await server.As("clinician").GetAsync("api/studies/SRV-API-0001"));
        Assert.Equal(2, study["slices"]!.GetValue<int>());
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync("api/jobs/nope")).StatusCode);
    }

    [Fact]
    public async Task Bad_requests_are_problem_details_naming_the_reason()
    {
        var c = server.As("clinician");
        foreach (var (url, needle) in new[]
                 {
                     ("api/search?q=x&where=" + Uri.EscapeDataString("modalty = 'CT'"), "did you mean 'modality'"),
                     ("api/search?q=x&limit=101", "1 to 100"),
                     ("api/search?q=x&limit=0", "1 to 100"),
                     ("api/search?q=x&limit=ten", "'limit'"),
                     ("api/search?q=x&mode=fuzzy", "'mode'"),
                     ("api/search?q=x&as_of=999999", "does not exist"),
                     ("api/search", "'q'"),
                     ("api/search?q=" + new string('a', 1025), "limit is 1024"),
                     ("api/search?q=x&where=" + Uri.EscapeDataString(new string(' ', 2049)), "limit is 2048"),
                 })
        {
            var r = await c.GetAsync(url);
            var body = await r.Content.ReadAsStringAsync();
            Assert.True(r.StatusCode == HttpStatusCode.BadRequest, $"{url}: {(int)r.StatusCode} {body}");
            Assert.Equal("application/problem+json", r.Content.Headers.ContentType!.MediaType);
            Assert.Contains(needle, body);
            Assert.Equal(400, JsonNode.Parse(body)!["status"]!.GetValue<int>());
        }
    }
}

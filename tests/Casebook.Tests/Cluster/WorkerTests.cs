using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Casebook.Cluster;
using Casebook.Extract.Documents;
using Casebook.Model;
using Xunit.Abstractions;

namespace Casebook.Tests.Cluster;

/// <summary>
/// Workers (docs/cluster.md, "Workers"): a minimal real cluster (1 NATS node, Redis, 1 silo, 2 shards) with 2 worker
/// processes; dictations spoken by espeak-ng and a scanned report make real ASR and OCR jobs.
/// </summary>
public sealed class WorkerTests(ITestOutputHelper output) : IDisposable
{
    readonly TempDirectory _dir = new();
    string ClusterFile => _dir["cluster/cluster.json"];
    string FhirFile => _dir["fhir/bundle.json"];

    static readonly string[] Dictations =
    [
        "Chest radiograph. There is a small right pleural effusion with adjacent atelectasis. No pneumothorax. The cardiac silhouette is normal in size. Impression: small right pleural effusion.",
        "CT of the abdomen and pelvis. A simple cyst is seen in the lower pole of the left kidney. There is no hydronephrosis and no free fluid. Impression: simple renal cyst.",
        "MRI of the lumbar spine. There is a disc herniation at L four L five with mild narrowing of the right lateral recess. No fracture. Impression: disc herniation at L four L five.",
        "CT of the chest. A spiculated nodule of twelve millimetres is present in the right upper lobe. No mediastinal lymphadenopathy. Impression: suspicious pulmonary nodule.",
    ];

    /// <summary>Four studies with dictations, one with a scanned (PNG) report, one typed: ASR, OCR and embedding jobs; key
    /// images (PNG, JPEG) and a DICOM slice: image embedding jobs (encoded images, and rendered DICOM pixels).</summary>
    string WriteCorpus()
    {
        var corpus = _dir["corpus"];
        Directory.CreateDirectory(Path.Combine(corpus, "reports"));
        var rows = new List<string> { "study_id,patient_id,modality,exam_date,report,images,dictation" };
        for (var i = 0; i < Dictations.Length; i++)
        {
            var wav = Path.Combine(corpus, "reports", $"d{i}.wav");
            var r = Casebook.Extract.ExternalTool.Run("espeak-ng", ["-v", "en-us+klatt", "-s", "140", "-w", wav, Dictations[i]], TimeSpan.FromMinutes(1));
            Assert.True(r.ExitCode == 0, $"espeak-ng failed: {r.Stderr}");
            File.WriteAllText(Path.Combine(corpus, "reports", $"r{i}.txt"), $"FINDINGS:\nStudy {i} as dictated.\n\nIMPRESSION:\nSee dictation.\n");
            var image = i switch { 0 => ClusterCorpus.Picture(corpus, 8), 1 => Jpeg(corpus), 2 => Dicom(corpus), _ => "" };
            rows.Add($"WK-{i},PW-{i},CT,2024-04-0{i + 1},reports/r{i}.txt,{image},reports/d{i}.wav");
        }
        File.WriteAllBytes(Path.Combine(corpus, "reports", "scan.png"),
            SyntheticScan.RenderPng(["FINDINGS:", "Mild cardiomegaly with pulmonary vascular congestion.", "", "IMPRESSION:", "Early congestive heart failure."], 150));
        rows.Add("WK-8,PW-8,CR,2024-04-08,reports/scan.png,,");
        File.WriteAllText(Path.Combine(corpus, "reports", "typed.txt"), "FINDINGS:\nNo acute abnormality.\n\nIMPRESSION:\nNormal chest.\n");
        rows.Add("WK-9,PW-9,CR,2024-04-09,reports/typed.txt,,");
        File.WriteAllLines(Path.Combine(corpus, "studies.csv"), rows);
        // A FHIR DocumentReference whose PDF attachment is extracted by a worker (an OCR job, text layer) like a scanned report.
        var pdf = SyntheticScan.TextPdf([["DISCHARGE SUMMARY", "Admitted with community acquired pneumonia of the left lower lobe."]]);
        Directory.CreateDirectory(_dir["fhir"]);
        File.WriteAllText(FhirFile, new JsonObject
        {
            ["resourceType"] = "Bundle", ["type"] = "collection",
            ["entry"] = new JsonArray(
                new JsonObject { ["fullUrl"] = "urn:uuid:pf", ["resource"] = new JsonObject
                {
                    ["resourceType"] = "Patient", ["id"] = "pf",
                    ["identifier"] = new JsonArray(new JsonObject { ["system"] = "urn:mrn", ["value"] = "PW-F" }),
                } },
                new JsonObject { ["fullUrl"] = "urn:uuid:docf", ["resource"] = new JsonObject
                {
                    ["resourceType"] = "DocumentReference", ["id"] = "docf", ["status"] = "current", ["date"] = "2024-04-11T10:00:00Z",
                    ["subject"] = new JsonObject { ["reference"] = "Patient/pf" },
                    ["content"] = new JsonArray(new JsonObject { ["attachment"] = new JsonObject { ["contentType"] = "application/pdf", ["data"] = Convert.ToBase64String(pdf) } }),
                } }),
        }.ToJsonString());
        return corpus;
    }

    static string Jpeg(string corpus)
    {
        var png = File.ReadAllBytes(Path.Combine(SharedData.Require("images/breastmnist"), "test_0000.png"));
        using var bitmap = SkiaSharp.SKBitmap.Decode(png);
        Directory.CreateDirectory(Path.Combine(corpus, "images"));
        using (var file = File.Create(Path.Combine(corpus, "images", "key.jpg"))) bitmap.Encode(file, SkiaSharp.SKEncodedImageFormat.Jpeg, 90);
        return "images/key.jpg";
    }

    static string Dicom(string corpus)
    {
        Directory.CreateDirectory(Path.Combine(corpus, "images"));
        File.Copy(SharedData.Require("dicom/pydicom/CT_small.dcm"), Path.Combine(corpus, "images", "ct.dcm"));
        return "images/ct.dcm";
    }

    string Cli(params string[] args)
    {
        var (code, stdout, stderr) = CliProcess.Run(_dir.Path, _dir.KeyFile, TimeSpan.FromMinutes(4), args);
        if (code != 0) throw new InvalidOperationException($"casebook {string.Join(' ', args)} exited {code}: {stderr}");
        return stdout;
    }

    [Fact]
    public async Task A_worker_killed_mid_job_has_its_job_redone_once_and_no_segment_is_duplicated()
    {
        LocalCluster.Require("nats-server");
        LocalCluster.Require("redis-server");
        var corpus = WriteCorpus();
        Cli("cluster", "up", "--silos", "1", "--nats", "1", "--shards", "2", "--workers", "2", "--work-ack-wait", "10", "--data", _dir["cluster"]);
        var config = ClusterConfig.Load(ClusterFile);
        var workers = config.Nodes.Where(n => n.Role == "worker").ToList();
        Assert.Equal(2, workers.Count);

        // The ingest runs (its pipeline queues the dictations, the scan and the embeddings); a worker is killed with
        // SIGKILL while it holds a transcription job, i.e. between its "start" and "done" lines.
        using var ingest = Process.Start(CliProcess.StartInfo(_dir.Path, _dir.KeyFile, "ingest", corpus, FhirFile, "--cluster", ClusterFile, "--json"))!;
        var ingestOut = ingest.StandardOutput.ReadToEndAsync();
        var ingestErr = ingest.StandardError.ReadToEndAsync();
        var start = new Regex(@"start asr ([0-9a-f]{64}) delivery 1");
        ClusterNode? victim = null;
        string? job = null;
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (victim == null)
        {
            Assert.True(DateTime.UtcNow < deadline, "no worker started a transcription in 2 minutes");
            foreach (var w in workers)
            {
                var log = Read(w.Log);
                if (start.Matches(log).Select(m => m.Groups[1].Value).LastOrDefault(id => !log.Contains($"done asr {id}")) is { } held)
                {
                    Process.GetProcessById(w.Pid).Kill();
                    (victim, job) = (w, held);
                    break;
                }
            }
            if (victim == null) await Task.Delay(50);
        }
        var survivor = workers.Single(w => w != victim);

        // `cluster status` shows the dead worker as unhealthy and the other as healthy, with role and pid.
        var status = JsonNode.Parse(CliProcess.Run(_dir.Path, _dir.KeyFile, TimeSpan.FromMinutes(1), "cluster", "status", "--cluster", ClusterFile, "--json").Stdout)!["nodes"]!.AsArray();
        Assert.Equal(["nats", "redis", "silo", "worker", "worker"], status.Select(n => (string)n!["role"]!).Order().ToArray());
        Assert.False((bool)status.Single(n => (string)n!["name"]! == victim.Name)!["healthy"]!);
        Assert.True((bool)status.Single(n => (string)n!["name"]! == survivor.Name)!["healthy"]!);
        Assert.Equal(survivor.Pid, (int)status.Single(n => (string)n!["name"]! == survivor.Name)!["pid"]!);

        Assert.True(ingest.WaitForExit(TimeSpan.FromMinutes(4)), "the ingest did not finish");
        Assert.True(ingest.ExitCode == 0, $"ingest exited {ingest.ExitCode}: {await ingestErr} {await ingestOut}");
        Assert.Equal(7, (int)JsonNode.Parse(await ingestOut)!["inserted"]!);

        // The held job was redelivered once, to the survivor, and finished there; every other job ran exactly once.
        var logs = Read(victim.Log) + Read(survivor.Log);
        output.WriteLine($"killed {victim.Name} holding asr {job}\n{logs}");
        var starts = Regex.Matches(logs, @"start (\w+) ([0-9a-f]{64}) delivery (\d+)").Select(m => (Kind: m.Groups[1].Value, Id: m.Groups[2].Value, Delivery: int.Parse(m.Groups[3].Value))).ToList();
        Assert.Equal([1, 2], starts.Where(s => s.Id == job).Select(s => s.Delivery).Order().ToArray());
        Assert.Contains($"done asr {job} delivery 2", Read(survivor.Log));
        Assert.All(starts.Where(s => s.Id != job), s => Assert.Equal(1, s.Delivery));
        Assert.All(starts.Where(s => s.Id != job).GroupBy(s => s.Id), g => Assert.Single(g)); // no other job twice
        Assert.Equal(4, starts.Where(s => s.Kind == "asr").Select(s => s.Id).Distinct().Count()); // four dictations
        Assert.True(starts.Count(s => s.Kind == "ocr") >= 2, "the scanned report and the FHIR PDF attachment are extracted on workers");
        Assert.Contains(starts, s => s.Kind == "embed");
        Assert.True(starts.Count(s => s.Kind == "image") >= 3, "key images (PNG, JPEG) and the DICOM slice are embedded on workers");

        // With every worker dead, an ingest that needs one fails with a clear message instead of waiting forever.
        Process.GetProcessById(survivor.Pid).Kill();
        Directory.CreateDirectory(_dir["late"]);
        Assert.Equal(0, Casebook.Extract.ExternalTool.Run("espeak-ng", ["-w", _dir["late/d.wav"], "Late dictation with no worker left."], TimeSpan.FromMinutes(1)).ExitCode);
        File.WriteAllText(_dir["late/r.txt"], "FINDINGS:\nLate.\n");
        File.WriteAllLines(_dir["late/studies.csv"], ["study_id,patient_id,modality,exam_date,report,images,dictation", "WK-L,PW-L,CR,2024-04-10,r.txt,,d.wav"]);
        var late = CliProcess.Run(_dir.Path, _dir.KeyFile, TimeSpan.FromMinutes(2), "ingest", _dir["late"], "--cluster", ClusterFile, "--json");
        Assert.Equal(3, late.Code);
        Assert.Contains("no worker is alive", late.Stderr);

        // The same corpus on one node (engines in-process) gives the same studies: each study exactly once over all
        // shards, no duplicate segment, and the same segments (ids, text, times, pages) as one node.
        Cli("ingest", corpus, FhirFile, "--db", _dir["single"], "--json");
        LocalCluster.Down(ClusterConfig.Load(ClusterFile));
        var clustered = new List<StudyRecord>();
        var imageVectors = 0;
        foreach (var shard in Directory.GetDirectories(_dir["cluster/silos"], "shard-*", SearchOption.AllDirectories))
            using (var db = CasebookDb.Open(shard, new CasebookOptions { KeyFile = _dir.KeyFile })) clustered.AddRange(db.Studies());
        using var single = CasebookDb.Open(_dir["single"], new CasebookOptions { KeyFile = _dir.KeyFile });
        var expected = single.Studies().ToDictionary(s => s.StudyId);
        Assert.Equal(expected.Keys.Order(), clustered.Select(s => s.StudyId).Order()); // each study once
        foreach (var study in clustered)
        {
            Assert.Equal(study.Segments.Count, study.Segments.Select(g => g.SegmentId).Distinct().Count());
            Assert.Equal(Segments(expected[study.StudyId]), Segments(study));
            // Vectors made on a worker match one node's (the same model; batches differ, so compared by cosine).
            var one = expected[study.StudyId].Segments.ToDictionary(g => g.SegmentId);
            foreach (var g in study.Segments.Where(g => g.Text != null))
                Assert.True(System.Numerics.Tensors.TensorPrimitives.CosineSimilarity(g.TextEmbedding!, one[g.SegmentId].TextEmbedding!) > 0.9999, $"{g.SegmentId}: vector differs from one node's");
            // Image vectors made on a worker (key images, the rendered DICOM slice, the series pool) are one node's.
            foreach (var g in study.Segments.Where(g => g.ImageEmbedding != null || one[g.SegmentId].ImageEmbedding != null))
            {
                Assert.Equal(one[g.SegmentId].ImageModel, g.ImageModel);
                Assert.True(g.ImageEmbedding != null && one[g.SegmentId].ImageEmbedding != null, $"{g.SegmentId}: image vector on one side only");
                Assert.True(System.Numerics.Tensors.TensorPrimitives.CosineSimilarity(g.ImageEmbedding!, one[g.SegmentId].ImageEmbedding!) > 0.9999, $"{g.SegmentId}: image vector differs from one node's");
                imageVectors++;
            }
        }
        Assert.True(imageVectors >= 3, $"only {imageVectors} image vectors compared");
        Assert.Contains(clustered, s => s.StudyId.StartsWith("fhir-DocumentReference-", StringComparison.Ordinal) && s.ReportText!.Contains("community acquired pneumonia"));
        Assert.All(clustered.Where(s => s.StudyId.StartsWith("WK-", StringComparison.Ordinal) && s.StudyId is not ("WK-8" or "WK-9")), s => Assert.Contains(s.Segments, g => g.Kind == SegmentKind.DictationSegment));
        Assert.Contains(clustered.Single(s => s.StudyId == "WK-8").Segments, g => g.Text != null && g.Text.Contains("cardiomegaly", StringComparison.OrdinalIgnoreCase));
    }

    static string Segments(StudyRecord s) => string.Join("\n", s.Segments.OrderBy(g => g.SegmentId, StringComparer.Ordinal)
        .Select(g => $"{g.SegmentId}|{g.Text}|{g.Source?.TimeStart}|{g.Source?.TimeEnd}|{g.Source?.Page}|{g.TextModel}"));

    static string Read(string path)
    {
        try { using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete); return new StreamReader(fs).ReadToEnd(); }
        catch (FileNotFoundException) { return ""; }
    }

    public void Dispose()
    {
        if (File.Exists(ClusterFile)) LocalCluster.Down(ClusterConfig.Load(ClusterFile));
        _dir.Dispose();
    }
}

using System.Diagnostics;
using Casebook.Model;
using Casebook.Search;
using Casebook.Storage;
using Casebook.Validation;

namespace Casebook.Bench;

/// <summary>
/// Similar cases on BreastMNIST (shared/data/images/breastmnist, 780 28×28 ultrasound images, labels 0 = malignant,
/// 1 = normal or benign): every image is an image-only study (one slice, ResNet-18 vector), its label set as a confirmed
/// diagnosis through the validation API (C50.919 / D24.9, one attributed commit each). Each test-split study is then a
/// query: `Similar(study, limit 10)` over all studies (itself left out). Reported: how often the top-10 share the query's
/// confirmed diagnosis (precision@10, from the result's outcome summary), against the label prior (what random cases
/// would give); latency of a similar-case search (median, p95) and of one diagnose commit.
/// </summary>
public static class SimilarBenchmarks
{
    static readonly Attribution Bench = new("bench", "validator", "BreastMNIST label");

    public static string Run(string sharedDataDir, string workDir)
    {
        var folder = Path.Combine(sharedDataDir, "images", "breastmnist");
        var labels = File.ReadLines(Path.Combine(folder, "labels.csv")).Skip(1).Select(l => l.Split(','))
            .Select(p => (File: p[0], Split: p[1], Label: int.Parse(p[2]))).ToList();
        var dir = Path.Combine(workDir, "similar-db");
        if (Directory.Exists(dir)) Directory.Delete(dir, true);
        using var db = CasebookDb.Open(dir, new CasebookOptions { KeyFile = Path.Combine(workDir, "similar.key"), Author = "bench" });

        var sw = Stopwatch.StartNew();
        var batch = new WriteBatch();
        foreach (var chunk in labels.Chunk(64))
        {
            var pngs = chunk.Select(l => File.ReadAllBytes(Path.Combine(folder, l.File))).ToList();
            var vectors = db.ImageEmbedder.Embed(pngs);
            for (var i = 0; i < chunk.Length; i++)
            {
                var id = Path.GetFileNameWithoutExtension(chunk[i].File);
                var blob = db.Blobs.Put(pngs[i]);
                batch.Upserts.Add(new StudyRecord
                {
                    StudyId = id, PatientPseudoId = "bm-" + id, Modality = "US", ExamDate = "2020-01-01",
                    Segments = [new SegmentRecord { SegmentId = id + "/image_slice/0", Kind = SegmentKind.ImageSlice, Blob = blob, BlobMime = "image/png",
                        Source = new SourceLocation { File = chunk[i].File }, ImageEmbedding = vectors[i], ImageModel = db.ImageEmbedder.Model.Id }],
                });
            }
        }
        db.Commit(batch, "breastmnist image-only studies");
        var ingestS = sw.Elapsed.TotalSeconds;

        string Code(int label) => label == 0 ? "C50.919" : "D24.9";
        var diagnoseMs = new List<double>();
        foreach (var l in labels)
        {
            var t = Stopwatch.StartNew();
            db.SetDiagnosis(Path.GetFileNameWithoutExtension(l.File), Code(l.Label), "icd10cm", "confirmed", Bench, db.CurrentVersion,
                l.Label == 0 ? "Malignant neoplasm of breast" : "Benign or normal breast");
            diagnoseMs.Add(t.Elapsed.TotalMilliseconds);
        }

        var queries = labels.Where(l => l.Split == "test").ToList();
        db.Similar(new SimilarQuery(StudyId: Path.GetFileNameWithoutExtension(queries[0].File), Limit: 10)); // warm-up: index build, JIT
        var latency = new List<double>();
        double shared = 0, sharedMalignant = 0, sharedBenign = 0;
        int nMalignant = 0, nBenign = 0;
        foreach (var q in queries)
        {
            var t = Stopwatch.StartNew();
            var r = db.Similar(new SimilarQuery(StudyId: Path.GetFileNameWithoutExtension(q.File), Limit: 10));
            latency.Add(t.Elapsed.TotalMilliseconds);
            var same = r.Summary.FirstOrDefault(s => s.Code == Code(q.Label))?.Count ?? 0;
            var p = same / (double)r.Results.Count;
            shared += p;
            if (q.Label == 0) { sharedMalignant += p; nMalignant++; } else { sharedBenign += p; nBenign++; }
        }
        var prior = labels.Count(l => l.Label == 0) / (double)labels.Count;
        double Median(List<double> xs) { var s = xs.Order().ToList(); return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2; }
        double P95(List<double> xs) { var s = xs.Order().ToList(); return s[(int)Math.Ceiling(0.95 * s.Count) - 1]; }
        var expected = queries.Average(q => q.Label == 0 ? prior : 1 - prior);
        return $"""
            ## Similar cases (BreastMNIST, image-only, labels as confirmed diagnoses)

            | measure | value |
            | --- | --- |
            | studies (all splits) / queries (test split) | {labels.Count} / {queries.Count} ({nMalignant} malignant, {nBenign} benign/normal) |
            | build: embed + commit {labels.Count} studies | {ingestS:0.0} s |
            | diagnose commit (median / p95) | {Median(diagnoseMs):0.0} / {P95(diagnoseMs):0.0} ms |
            | similar-case search, top 10 with outcomes + summary (median / p95) | {Median(latency):0.0} / {P95(latency):0.0} ms |
            | top-10 share the query's confirmed diagnosis (mean precision@10) | {shared / queries.Count:0.000} |
            | … malignant queries / benign-normal queries | {sharedMalignant / Math.Max(1, nMalignant):0.000} / {sharedBenign / Math.Max(1, nBenign):0.000} |
            | random cases would give (label prior over the queries) | {expected:0.000} |
            | … malignant / benign-normal prior | {prior:0.000} / {1 - prior:0.000} |

            """;
    }
}

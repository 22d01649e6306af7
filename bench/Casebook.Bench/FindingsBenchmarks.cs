using System.Diagnostics;
using Casebook.Embed;
using Casebook.Findings;
using Casebook.Model;
using Casebook.Storage;
using Casebook.Validation;
using Microsoft.ML;

namespace Casebook.Bench;

/// <summary>
/// Findings learned from clinicians on BreastMNIST (shared/data/images/breastmnist: 546 train, 78 val, 156 test 28×28
/// ultrasound images; label 0 = malignant, 1 = normal/benign). Every image is an image-only study with its frozen ResNet-18
/// vector; only the train split's labels are given, as confirmed diagnoses through the validation API (C50.919 malignant,
/// D24.9 benign/normal). Product path: <c>TrainFindingModels</c> (label ICD10:C50.919, 5-fold CV AUC on train) then
/// <c>SuggestFindings</c> (min probability 0) writes p(malignant) on every unlabelled study; test AUC and accuracy (p ≥ 0.5)
/// are read from the stored suggestions. Variants on the same vectors: the L2 weight chosen on the val split, train+val
/// fitting, LightGBM. Reference: MedMNIST v2's end-to-end ResNet-18 (28) on BreastMNIST, AUC 0.901 / ACC 0.863.
/// </summary>
public static class FindingsBenchmarks
{
    static readonly Attribution Bench = new("bench", "validator", "BreastMNIST label");
    const string Malignant = "ICD10:C50.919";

    static Dictionary<string, float[]> CachedVectors(string workDir, OnnxImageEmbedder embedder, List<string> files, bool mirrored)
    {
        var cache = Path.Combine(workDir, $"breastmnist-{embedder.Model.Id.Replace('@', '-')}{(mirrored ? "-mirrored" : "")}.tsv");
        var result = new Dictionary<string, float[]>();
        if (File.Exists(cache))
            foreach (var line in File.ReadLines(cache))
            {
                var parts = line.Split('\t');
                result[parts[0]] = parts[1].Split(',').Select(x => float.Parse(x, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            }
        if (files.All(result.ContainsKey)) return result;
        result.Clear();
        foreach (var chunk in files.Chunk(64))
        {
            var images = chunk.Select(f =>
            {
                var d = ImageDecoder.Decode(File.ReadAllBytes(f));
                if (!mirrored) return d;
                var p = new byte[d.Pixels.Length];
                for (var y = 0; y < d.Height; y++)
                    for (var x = 0; x < d.Width; x++)
                        for (var c = 0; c < d.Channels; c++)
                            p[(y * d.Width + x) * d.Channels + c] = d.Pixels[(y * d.Width + d.Width - 1 - x) * d.Channels + c];
                return new DecodedImage(d.Width, d.Height, d.Channels, p);
            }).ToList();
            var v = embedder.EmbedPixels(images);
            for (var i = 0; i < chunk.Length; i++) result[chunk[i]] = v[i];
        }
        File.WriteAllLines(cache, result.Select(kv => kv.Key + "\t" + string.Join(",", kv.Value.Select(x => x.ToString("R", System.Globalization.CultureInfo.InvariantCulture)))));
        return result;
    }

    public static string Run(string sharedDataDir, string workDir)
    {
        var folder = Path.Combine(sharedDataDir, "images", "breastmnist");
        var labels = File.ReadLines(Path.Combine(folder, "labels.csv")).Skip(1).Select(l => l.Split(','))
            .Select(p => (Id: Path.GetFileNameWithoutExtension(p[0]), File: p[0], Split: p[1], Malignant: p[2] == "0")).ToList();
        var dir = Path.Combine(workDir, "findings-db");
        if (Directory.Exists(dir)) Directory.Delete(dir, true);
        using var db = CasebookDb.Open(dir, new CasebookOptions { KeyFile = Path.Combine(workDir, "findings.key"), Author = "bench" });

        var sw = Stopwatch.StartNew();
        // Vectors of the images and of their mirror images, cached in the work folder per model (the classifiers are what is
        // measured here; the `images` suite measures the embedder).
        var embedder = (OnnxImageEmbedder)db.ImageEmbedder;
        var vectors = CachedVectors(workDir, embedder, labels.Select(l => Path.Combine(folder, l.File)).ToList(), mirrored: false);
        var mirrored = CachedVectors(workDir, embedder, labels.Select(l => Path.Combine(folder, l.File)).ToList(), mirrored: true);
        var embedS = sw.Elapsed.TotalSeconds;
        var batch = new WriteBatch();
        foreach (var chunk in labels.Chunk(64))
        {
            var pngs = chunk.Select(l => File.ReadAllBytes(Path.Combine(folder, l.File))).ToList();
            var v = chunk.Select(l => vectors[Path.Combine(folder, l.File)]).ToArray();
            for (var i = 0; i < chunk.Length; i++)
            {
                batch.Upserts.Add(new StudyRecord
                {
                    StudyId = chunk[i].Id, PatientPseudoId = "bm-" + chunk[i].Id, Modality = "US", ExamDate = "2020-01-01",
                    Segments = [new SegmentRecord { SegmentId = chunk[i].Id + "/image_slice/0", Kind = SegmentKind.ImageSlice, Blob = db.Blobs.Put(pngs[i]), BlobMime = "image/png",
                        Source = new SourceLocation { File = chunk[i].File }, ImageEmbedding = v[i], ImageModel = db.ImageEmbedder.Model.Id }],
                });
            }
        }
        db.Commit(batch, "breastmnist image-only studies");
        foreach (var l in labels.Where(l => l.Split == "train"))
            db.SetDiagnosis(l.Id, l.Malignant ? "C50.919" : "D24.9", "icd10cm", "confirmed", Bench, db.CurrentVersion,
                l.Malignant ? "Malignant neoplasm of breast" : "Benign or normal breast");
        var ingestS = sw.Elapsed.TotalSeconds - embedS;

        var test = labels.Where(l => l.Split == "test").ToList();
        var rows = new List<string>();
        var ml = new MLContext(seed: 1);
        (double Auc, double Acc) Score(IReadOnlyList<bool> y, IReadOnlyList<double> p) =>
            (FindingClassifier.Auc(ml, y, p.Select(x => (float)x).ToList()), y.Zip(p).Count(t => t.First == t.Second >= 0.5) / (double)y.Count);

        // Product path: train, then suggest on every study without a clinician's diagnosis.
        foreach (var trainer in new[] { FindingTrainer.LogisticRegression, FindingTrainer.LightGbm })
        {
            var t = Stopwatch.StartNew();
            var report = db.TrainFindingModels(new FindingTrainOptions { Labels = [Malignant], Classifier = new ClassifierOptions { Trainer = trainer } }).Single();
            var trainS = t.Elapsed.TotalSeconds;
            t.Restart();
            var suggested = db.SuggestFindings(new FindingSuggestOptions { MinProbability = 0 });
            var suggestS = t.Elapsed.TotalSeconds;
            var p = test.Select(l => db.GetStudy(l.Id)!.PathologyFindings.OfType<System.Text.Json.Nodes.JsonObject>()
                .Single(f => f["ai_suggested"]?.GetValue<bool>() == true)["probability"]!.GetValue<double>()).ToList();
            var (auc, acc) = Score(test.Select(l => l.Malignant).ToList(), p);
            rows.Add($"| product: `findings train` ({(trainer == FindingTrainer.LightGbm ? "LightGBM" : "logistic regression, L2 1")}) → `findings suggest` | {report.Positives}/{report.Negatives} | {report.CvAuc:0.000} | **{auc:0.000}** | **{acc:0.000}** | {trainS:0.0} s train+CV, {suggestS:0.0} s suggest ({suggested.Suggestions.Count} studies) |");
        }

        // Variants on the same vectors (train split fit; val split for choosing; test for reporting).
        float[] Vec(string id) => vectors[Path.Combine(folder, id + ".png")];
        // Mirror augmentation: the mean of an image's and its mirror image's vectors (train and test alike).
        float[] Mean2(string id)
        {
            var a = Vec(id); var b = mirrored[Path.Combine(folder, id + ".png")];
            var m = a.Zip(b, (x, y) => x + y).ToArray();
            var norm = MathF.Sqrt(m.Sum(x => x * x));
            return m.Select(x => x / norm).ToArray();
        }
        List<(float[] X, bool Y)> Split(string split, bool mirror = false) =>
            labels.Where(l => l.Split == split).Select(l => (mirror ? Mean2(l.Id) : Vec(l.Id), l.Malignant)).ToList();
        var (trainSet, valSet, testSet) = (Split("train"), Split("val"), Split("test"));
        List<double> Predict(TrainedClassifier c, List<(float[] X, bool Y)> set) =>
            FindingClassifier.Scores(ml, c.Model, set.Select(e => e.X).ToList(), c.FeatureLength).Select(s => FindingClassifier.Probability(s, c.PlattSlope, c.PlattOffset)).ToList();
        var valAucs = new List<string>();
        (float L2, double Auc) best = (1, double.NegativeInfinity);
        foreach (var l2 in new[] { 0.01f, 0.1f, 1f, 10f, 100f })
        {
            var c = FindingClassifier.Train(trainSet, new ClassifierOptions { L2 = l2 });
            var (auc, _) = Score(valSet.Select(e => e.Y).ToList(), Predict(c, valSet));
            valAucs.Add($"{l2:0.##}: {auc:0.000}");
            if (auc > best.Auc) best = (l2, auc);
        }
        List<double> Variant(string name, List<(float[] X, bool Y)> fitOn, ClassifierOptions o, List<(float[] X, bool Y)>? testOn = null)
        {
            testOn ??= testSet;
            var t = Stopwatch.StartNew();
            var c = FindingClassifier.Train(fitOn, o);
            var p = Predict(c, testOn);
            var (auc, acc) = Score(testOn.Select(e => e.Y).ToList(), p);
            rows.Add($"| {name} | {fitOn.Count(e => e.Y)}/{fitOn.Count(e => !e.Y)} | {c.CvAuc:0.000} | {auc:0.000} | {acc:0.000} | {t.Elapsed.TotalSeconds:0.0} s train+CV |");
            return p;
        }
        Variant($"logistic regression, L2 {best.L2:0.##} (best on val)", trainSet, new ClassifierOptions { L2 = best.L2 });
        Variant($"logistic regression, L2 {best.L2:0.##}, fit on train+val", [.. trainSet, .. valSet], new ClassifierOptions { L2 = best.L2 });
        Variant("LightGBM, 500 rounds, 16 leaves, lr 0.03", trainSet, new ClassifierOptions { Trainer = FindingTrainer.LightGbm, LightGbmIterations = 500, LightGbmLeaves = 16, LightGbmLearningRate = 0.03 });
        var lgbm = Variant("LightGBM (defaults), fit on train+val", [.. trainSet, .. valSet], new ClassifierOptions { Trainer = FindingTrainer.LightGbm });
        var lr = Variant($"logistic regression, L2 {best.L2:0.##}, fit on train+val (again, for the mean below)", [.. trainSet, .. valSet], new ClassifierOptions { L2 = best.L2 });
        var (eAuc, eAcc) = Score(testSet.Select(e => e.Y).ToList(), lr.Zip(lgbm, (a, b) => (a + b) / 2).ToList());
        rows.Add($"| mean of the two above (LR + LightGBM, train+val) | 168/456 | | {eAuc:0.000} | {eAcc:0.000} | |");
        var (trainM, valM, testM) = (Split("train", true), Split("val", true), Split("test", true));
        var lrM = Variant($"mirror-augmented vectors: logistic regression, L2 {best.L2:0.##}, train+val", [.. trainM, .. valM], new ClassifierOptions { L2 = best.L2 }, testM);
        var gbM = Variant("mirror-augmented vectors: LightGBM (defaults), train+val", [.. trainM, .. valM], new ClassifierOptions { Trainer = FindingTrainer.LightGbm }, testM);
        var (mAuc, mAcc) = Score(testM.Select(e => e.Y).ToList(), lrM.Zip(gbM, (a, b) => (a + b) / 2).ToList());
        rows.Add($"| mirror-augmented: mean of LR + LightGBM, train+val | 168/456 | | {mAuc:0.000} | {mAcc:0.000} | |");

        return $"""
            ## Findings learned from clinicians (BreastMNIST, frozen ResNet-18 vectors)

            Train split labels given as confirmed diagnoses ({labels.Count(l => l.Split == "train")} studies), test split ({test.Count}:
            {test.Count(l => l.Malignant)} malignant) unlabelled; vectors (plain + mirrored, {labels.Count} each, cached) {embedS:0.0} s;
            build (commit {labels.Count} studies + {labels.Count(l => l.Split == "train")} diagnose commits) {ingestS:0.0} s.
            Val-split AUC by L2 weight (logistic regression): {string.Join(", ", valAucs)}.

            | method | train pos/neg | CV AUC (train) | test AUC | test ACC | time |
            | --- | ---: | ---: | ---: | ---: | --- |
            {string.Join("\n", rows)}
            | MedMNIST v2 ResNet-18 (28), end-to-end (reference) | | | 0.901 | 0.863 | |

            """;
    }
}

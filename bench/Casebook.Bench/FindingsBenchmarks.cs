using System.Diagnostics;
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

    public static string Run(string sharedDataDir, string workDir)
    {
        var folder = Path.Combine(sharedDataDir, "images", "breastmnist");
        var labels = File.ReadLines(Path.Combine(folder, "labels.csv")).Skip(1).Select(l => l.Split(','))
            .Select(p => (Id: Path.GetFileNameWithoutExtension(p[0]), File: p[0], Split: p[1], Malignant: p[2] == "0")).ToList();
        var dir = Path.Combine(workDir, "findings-db");
        if (Directory.Exists(dir)) Directory.Delete(dir, true);
        using var db = CasebookDb.Open(dir, new CasebookOptions { KeyFile = Path.Combine(workDir, "findings.key"), Author = "bench" });

        var sw = Stopwatch.StartNew();
        var vectors = new Dictionary<string, float[]>();
        var batch = new WriteBatch();
        foreach (var chunk in labels.Chunk(64))
        {
            var pngs = chunk.Select(l => File.ReadAllBytes(Path.Combine(folder, l.File))).ToList();
            var v = db.ImageEmbedder.Embed(pngs);
            for (var i = 0; i < chunk.Length; i++)
            {
                vectors[chunk[i].Id] = v[i];
                batch.Upserts.Add(new StudyRecord
                {
                    StudyId = chunk[i].Id, PatientPseudoId = "bm-" + chunk[i].Id, Modality = "US", ExamDate = "2020-01-01",
                    Segments = [new SegmentRecord { SegmentId = chunk[i].Id + "/image_slice/0", Kind = SegmentKind.ImageSlice, Blob = db.Blobs.Put(pngs[i]), BlobMime = "image/png",
                        Source = new SourceLocation { File = chunk[i].File }, ImageEmbedding = v[i], ImageModel = db.ImageEmbedder.Model.Id }],
                });
            }
        }
        db.Commit(batch, "breastmnist image-only studies");
        var ingestS = sw.Elapsed.TotalSeconds;
        foreach (var l in labels.Where(l => l.Split == "train"))
            db.SetDiagnosis(l.Id, l.Malignant ? "C50.919" : "D24.9", "icd10cm", "confirmed", Bench, db.CurrentVersion,
                l.Malignant ? "Malignant neoplasm of breast" : "Benign or normal breast");

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
        List<(float[] X, bool Y)> Split(string split) => labels.Where(l => l.Split == split).Select(l => (vectors[l.Id], l.Malignant)).ToList();
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
        void Variant(string name, List<(float[] X, bool Y)> fitOn, ClassifierOptions o)
        {
            var t = Stopwatch.StartNew();
            var c = FindingClassifier.Train(fitOn, o);
            var (auc, acc) = Score(testSet.Select(e => e.Y).ToList(), Predict(c, testSet));
            rows.Add($"| {name} | {fitOn.Count(e => e.Y)}/{fitOn.Count(e => !e.Y)} | {c.CvAuc:0.000} | {auc:0.000} | {acc:0.000} | {t.Elapsed.TotalSeconds:0.0} s train+CV |");
        }
        Variant($"logistic regression, L2 {best.L2:0.##} (best on val)", trainSet, new ClassifierOptions { L2 = best.L2 });
        Variant($"logistic regression, L2 {best.L2:0.##}, fit on train+val", [.. trainSet, .. valSet], new ClassifierOptions { L2 = best.L2 });
        Variant("LightGBM, 500 rounds, 16 leaves, lr 0.03", trainSet, new ClassifierOptions { Trainer = FindingTrainer.LightGbm, LightGbmIterations = 500, LightGbmLeaves = 16, LightGbmLearningRate = 0.03 });
        Variant("LightGBM (defaults), fit on train+val", [.. trainSet, .. valSet], new ClassifierOptions { Trainer = FindingTrainer.LightGbm });

        return $"""
            ## Findings learned from clinicians (BreastMNIST, frozen ResNet-18 vectors)

            Train split labels given as confirmed diagnoses ({labels.Count(l => l.Split == "train")} studies), test split ({test.Count}:
            {test.Count(l => l.Malignant)} malignant) unlabelled; build (embed + commit {labels.Count} studies) {ingestS:0.0} s.
            Val-split AUC by L2 weight (logistic regression): {string.Join(", ", valAucs)}.

            | method | train pos/neg | CV AUC (train) | test AUC | test ACC | time |
            | --- | ---: | ---: | ---: | ---: | --- |
            {string.Join("\n", rows)}
            | MedMNIST v2 ResNet-18 (28), end-to-end (reference) | | | 0.901 | 0.863 | |

            """;
    }
}

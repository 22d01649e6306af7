using System.Text.Json.Nodes;
using Casebook.Embed;
using Casebook.Findings;
using Casebook.Model;
using Casebook.Storage;
using Casebook.Tests.Validation;
using Casebook.Validation;
using Google.Protobuf;
using Onnx;

namespace Casebook.Tests.Findings;

/// <summary>
/// Findings learned from clinicians (issue 8): classifiers trained from confirmed diagnoses on real BreastMNIST images with
/// their real ResNet-18 vectors, suggestions marked AI-suggested, validated findings untouched, retraining replaces; and the
/// ONNX classifier slot with a small network the test assembles itself.
/// </summary>
public class FindingsTests
{
    static readonly Attribution Val = new("val", "validator");

    static IEnumerable<JsonObject> Suggestions(StudyRecord s) =>
        s.PathologyFindings.OfType<JsonObject>().Where(f => f["ai_suggested"]?.GetValue<bool>() == true && f["validated"] == null);

    [Fact]
    public void Classifiers_learn_from_confirmed_diagnoses_and_suggest_calibrated_findings_that_leave_validated_ones_alone()
    {
        using var tmp = new TempDirectory();
        using var db = tmp.OpenDb();
        const int n = 44, labelled = 32;
        SimilarCasesTests.ImageStudies(db, n); // B0..B43 = BreastMNIST test_0000..0043
        var malignant = File.ReadLines(Path.Combine(SharedData.Require("images/breastmnist"), "labels.csv")).Skip(1).Select(l => l.Split(','))
            .Where(p => p[1] == "test").ToDictionary(p => p[0], p => p[2] == "0");
        bool IsMalignant(int i) => malignant[$"test_{i:0000}.png"];
        for (var i = 0; i < labelled; i++)
            db.SetDiagnosis($"B{i}", IsMalignant(i) ? "C50.919" : "D24.9", "icd10cm", "confirmed", Val, db.CurrentVersion,
                IsMalignant(i) ? "Malignant neoplasm of breast" : "Benign or normal breast");
        // B40: a clinician confirmed one finding there (too rare to learn from); its finding must stay as the clinician left it.
        db.ValidateFinding("B40", "calcification", FindingStatus.Confirmed, Val, db.CurrentVersion);
        var b40Findings = db.GetStudy("B40")!.PathologyFindings.ToJsonString();

        var reports = db.TrainFindingModels(new FindingTrainOptions { MinExamples = 3 });
        var malignantReport = reports.Single(r => r.Label.Key == "diagnosis:ICD10:C50.919");
        Assert.Equal((Enumerable.Range(0, labelled).Count(IsMalignant), Enumerable.Range(0, labelled).Count(i => !IsMalignant(i))),
            (malignantReport.Positives, malignantReport.Negatives));
        Assert.NotNull(malignantReport.ModelId);
        Assert.InRange(malignantReport.CvAuc!.Value, 0.0, 1.0);
        Assert.Equal(Math.Min(5, malignantReport.Positives), malignantReport.Folds); // k = min(5, the rarer class)
        Assert.Equal(malignantReport.Folds, malignantReport.FoldAucs.Count);
        Assert.NotNull(reports.Single(r => r.Label.Key == "diagnosis:ICD10:D24.9").ModelId);
        var rare = reports.Single(r => r.Label.Key == "finding:calcification");
        Assert.Null(rare.ModelId);
        Assert.Contains("too few examples", rare.Skipped);
        Assert.Equal(2, db.FindingModels().Count);
        Assert.All(db.FindingModels(), m => Assert.True(File.Exists(Path.Combine(db.Directory, m.Path))));

        var result = db.SuggestFindings(new FindingSuggestOptions { MinProbability = 0 });
        Assert.Single(result.Versions);
        // Every study without a clinician's diagnosis gets both labels' probabilities (B40 too: its clinician ruled on a
        // finding, not on a diagnosis); the labelled ones get none.
        var unlabelled = Enumerable.Range(labelled, n - labelled).Select(i => $"B{i}").ToList();
        Assert.Equal(unlabelled.Order(), result.Suggestions.Select(s => s.StudyId).Distinct().Order());
        foreach (var id in unlabelled)
        {
            var found = Suggestions(db.GetStudy(id)!).ToList();
            Assert.Equal(2, found.Count);
            Assert.All(found, f =>
            {
                Assert.Equal("model", f["source"]!.GetValue<string>());
                Assert.InRange(f["probability"]!.GetValue<double>(), 0.0, 1.0);
                Assert.False(f["affirmed"]!.GetValue<bool>()); // never counted as a finding by filters, cohorts, exports
                Assert.StartsWith("icd10-", f["model_id"]!.GetValue<string>());
            });
        }
        Assert.All(Enumerable.Range(0, labelled), i => Assert.Empty(Suggestions(db.GetStudy($"B{i}")!)));
        Assert.Equal(b40Findings, new JsonArray(db.GetStudy("B40")!.PathologyFindings.Where(f => f!["source"]!.GetValue<string>() != "model").Select(f => f!.DeepClone()).ToArray()).ToJsonString());
        var history = db.History("B33");
        Assert.Equal(("model", "suggest_findings"), (history[^1].Role, history[^1].Action));

        // A clinician rejects B33's malignant suggestion: it becomes validated, and later runs leave it exactly as is.
        var b33 = db.GetStudy("B33")!;
        var term = Suggestions(b33).First(f => f["codes"]![0]!.GetValue<string>() == "ICD10:C50.919")["term"]!.GetValue<string>();
        db.ValidateFinding("B33", term, FindingStatus.Rejected, Val, db.CurrentVersion);
        var rejected = db.GetStudy("B33")!.PathologyFindings.OfType<JsonObject>().Single(f => f["term"]!.GetValue<string>() == term);
        Assert.True(rejected["validated"]!.GetValue<bool>());

        // B34 gets a diagnosis after the first run; then the models are retrained on one more example.
        db.SetDiagnosis("B34", IsMalignant(34) ? "C50.919" : "D24.9", "icd10cm", "confirmed", Val, db.CurrentVersion);
        var oldIds = db.FindingModels().Select(m => m.ModelId).ToHashSet();
        var retrained = db.TrainFindingModels(new FindingTrainOptions { MinExamples = 3 });
        var newIds = db.FindingModels().Select(m => m.ModelId).ToHashSet();
        Assert.Equal(2, newIds.Count);
        Assert.Empty(newIds.Intersect(oldIds));
        Assert.Equal(4, db.FindingModels(all: true).Count); // the replaced ones stay listed, inactive
        Assert.Equal(labelled + 1, retrained.Single(r => r.Label.Key == "diagnosis:ICD10:C50.919") is var r1 ? r1.Positives + r1.Negatives : 0);

        var again = db.SuggestFindings(new FindingSuggestOptions { MinProbability = 0 });
        Assert.Equal(again.Models.Order(), newIds.Order());
        foreach (var id in unlabelled.Where(i => i is not ("B33" or "B34")))
            Assert.Equal(newIds.Order(), Suggestions(db.GetStudy(id)!).Select(f => f["model_id"]!.GetValue<string>()).Order());
        Assert.Empty(Suggestions(db.GetStudy("B34")!)); // ruled on since: its old suggestions are gone
        var b33After = db.GetStudy("B33")!.PathologyFindings.OfType<JsonObject>().ToList();
        Assert.Equal(rejected.ToJsonString(), b33After.Single(f => f["term"]!.GetValue<string>() == term).ToJsonString());
        Assert.Single(Suggestions(db.GetStudy("B33")!)); // only the benign label's suggestion, renewed
        // Nothing new to say: a third run changes nothing and makes no version.
        var v = db.CurrentVersion;
        Assert.Empty(db.SuggestFindings(new FindingSuggestOptions { MinProbability = 0 }).Versions);
        Assert.Equal(v, db.CurrentVersion);
    }

    [Fact]
    public void Region_features_are_learned_generically_and_a_region_like_the_positives_is_suggested()
    {
        using var tmp = new TempDirectory();
        using var db = tmp.OpenDb();
        // Studies with one region each whose features (radiomics, as another producer writes them) separate the classes:
        // spiculated lesions (low sphericity) are malignant. Nested groups, strings and non-finite values are read generically.
        var rng = new Random(7);
        StudyRecord Study(string id, double sphericity) => new()
        {
            StudyId = id, PatientPseudoId = "P" + id, Modality = "CT", ExamDate = "2022-01-01",
            ImageRegions = [new JsonObject
            {
                ["region_id"] = id + "/r1", ["label"] = "lesion",
                ["features"] = JsonNode.Parse($$"""{"morph": {"sphericity": {{sphericity:R}}, "note": "x"}, "stat_mean": {{rng.NextDouble() * 100:R}}, "bad": "NaN"}"""),
            }],
        };
        var batch = new WriteBatch();
        for (var i = 0; i < 16; i++) batch.Upserts.Add(Study($"R{i}", i < 8 ? 0.3 + 0.02 * i : 0.7 + 0.02 * i));
        batch.Upserts.Add(Study("U-low", 0.35));
        batch.Upserts.Add(Study("U-high", 0.9));
        db.Commit(batch, "regions with features");
        for (var i = 0; i < 16; i++)
            db.SetDiagnosis($"R{i}", i < 8 ? "C34.90" : "D14.30", "icd10cm", "confirmed", Val, db.CurrentVersion);

        var report = db.TrainFindingModels(new FindingTrainOptions { MinExamples = 4, Labels = ["C34.90"] }).Single();
        Assert.Equal((8, 8), (report.Positives, report.Negatives));
        Assert.Equal(1.0, report.CvAuc); // separable by sphericity
        var model = db.FindingModels().Single();
        Assert.Equal(["morph.sphericity", "stat_mean"], model.Info["features"]!["radiomics_keys"]!.AsArray().Select(k => k!.GetValue<string>()));
        Assert.Null(model.Info["features"]!["image_model"]);

        db.SuggestFindings(new FindingSuggestOptions { MinProbability = 0 });
        double P(string id) => Suggestions(db.GetStudy(id)!).Single()["probability"]!.GetValue<double>();
        Assert.True(P("U-low") > 0.5 && P("U-high") < 0.5, $"p(low sphericity) {P("U-low")}, p(high) {P("U-high")}");
    }

    /// <summary>
    /// A tiny image classifier assembled as ONNX protobuf: [N,3,8,8] → GlobalAveragePool → Flatten → Gemm → [N,2] logits.
    /// Label "bright" scores 20·(mean intensity − 0.5), "dark" the opposite.
    /// </summary>
    internal static byte[] BrightDarkNetwork(int size = 8, int outputs = 2)
    {
        static ValueInfoProto Tensor(string name, params long[] dims)
        {
            var shape = new TensorShapeProto();
            foreach (var d in dims)
                shape.Dim.Add(d < 0 ? new TensorShapeProto.Types.Dimension { DimParam = "N" } : new TensorShapeProto.Types.Dimension { DimValue = d });
            return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } } };
        }
        static TensorProto Init(string name, long[] dims, float[] values)
        {
            var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
            t.Dims.AddRange(dims);
            t.FloatData.AddRange(values);
            return t;
        }
        var w = new float[3 * outputs];
        var b = new float[outputs];
        for (var o = 0; o < outputs; o++)
        {
            var sign = o % 2 == 0 ? 1f : -1f;
            for (var c = 0; c < 3; c++) w[c * outputs + o] = sign * 20f / 3f;
            b[o] = -sign * 10f;
        }
        var graph = new GraphProto { Name = "bright_dark" };
        graph.Input.Add(Tensor("image", -1, 3, size, size));
        graph.Output.Add(Tensor("logits", -1, outputs));
        graph.Initializer.Add(Init("W", [3, outputs], w));
        graph.Initializer.Add(Init("B", [outputs], b));
        graph.Node.Add(new NodeProto { OpType = "GlobalAveragePool", Input = { "image" }, Output = { "pooled" } });
        graph.Node.Add(new NodeProto { OpType = "Flatten", Input = { "pooled" }, Output = { "flat" } });
        graph.Node.Add(new NodeProto { OpType = "Gemm", Input = { "flat", "W", "B" }, Output = { "logits" } });
        var model = new ModelProto { IrVersion = 8, ProducerName = "casebook-tests", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });
        return model.ToByteArray();
    }

    static StudyRecord UniformImageStudy(CasebookDb db, string id, byte value)
    {
        var png = RegionCrops.EncodePng(DecodedImage.Grey(8, 8, Enumerable.Repeat(value, 64).ToArray()));
        return new StudyRecord
        {
            StudyId = id, PatientPseudoId = "P" + id, Modality = "CR", ExamDate = "2021-03-04",
            Segments = [new SegmentRecord { SegmentId = id + "/image_slice/0", Kind = SegmentKind.ImageSlice, Blob = db.Blobs.Put(png), BlobMime = "image/png" }],
        };
    }

    [Fact]
    public void A_registered_onnx_classifier_suggests_its_labels_per_study_through_the_cli()
    {
        using var tmp = new TempDirectory();
        var onnx = tmp["bright-dark.onnx"];
        File.WriteAllBytes(onnx, BrightDarkNetwork());
        var spec = new OnnxClassifierSpec
        {
            Name = "brightdark", Labels = ["bright", "dark"], Activation = OutputActivation.Sigmoid,
            Input = new ImageInputSpec { Width = 8, Height = 8, Mean = [0, 0, 0], Std = [1, 1, 1] },
        };
        using (var db = tmp.OpenDb())
        {
            var batch = new WriteBatch();
            batch.Upserts.AddRange([UniformImageStudy(db, "W", 220), UniformImageStudy(db, "K", 15), UniformImageStudy(db, "V", 230)]);
            db.Commit(batch, "uniform images");
            // V: a clinician already confirmed "bright" there, so the model says nothing about it.
            db.ValidateFinding("V", "bright", FindingStatus.Confirmed, Val, db.CurrentVersion);

            // The slot checks the network against its registration.
            var wrongLabels = Assert.Throws<InvalidDataException>(() => db.RegisterOnnxClassifier(onnx, spec with { Labels = ["a", "b", "c"] }));
            Assert.Contains("2 columns but 3 labels", wrongLabels.Message);
            var wrongSize = Assert.Throws<InvalidDataException>(() => db.RegisterOnnxClassifier(onnx, spec with { Input = spec.Input with { Width = 16, Height = 16 } }));
            Assert.Contains("8x8", wrongSize.Message);
            Assert.Throws<FileNotFoundException>(() => db.RegisterOnnxClassifier(tmp["missing.onnx"], spec));
            Assert.Empty(db.FindingModels());
        }

        var dbDir = tmp["db"];
        string Cli(params string[] args)
        {
            var o = new StringWriter();
            Assert.Equal(0, Casebook.Cli.FindingsCommands.Run([.. args, "--db", dbDir, "--json"], o));
            return o.ToString();
        }
        var registered = JsonNode.Parse(Cli("register", "brightdark", "--onnx", onnx, "--labels", "bright,dark", "--input-size", "8", "--mean", "0,0,0", "--std", "1,1,1"))!;
        var modelId = registered["model_id"]!.GetValue<string>();
        Assert.StartsWith("brightdark@", modelId);
        Assert.Equal("onnx", registered["kind"]!.GetValue<string>());
        File.Delete(onnx); // the database keeps its own copy
        var models = JsonNode.Parse(Cli("models"))!["models"]!.AsArray();
        Assert.Equal(modelId, models.Single()!["model_id"]!.GetValue<string>());

        var suggested = JsonNode.Parse(Cli("suggest"))!;
        var list = suggested["suggestions"]!.AsArray().Select(s => (Study: s!["study_id"]!.GetValue<string>(), Term: s["term"]!.GetValue<string>(), P: s["probability"]!.GetValue<double>())).ToList();
        Assert.Equal([("K", "dark"), ("W", "bright")], list.Select(s => (s.Study, s.Term)).Order());
        Assert.All(list, s => Assert.InRange(s.P, 0.99, 1.0)); // sigmoid(20·(220/255 − 0.5)) ≈ 0.9993, sigmoid(−20·(15/255 − 0.5)) ≈ 0.9998
        Assert.Equal(3, suggested["studies_scored"]!.GetValue<int>());

        // Training reports what it could not learn (one confirmed finding), in the CLI's contract.
        var trained = JsonNode.Parse(Cli("train", "--min-examples", "2"))!;
        var label = trained["labels"]!.AsArray().Single()!;
        Assert.Equal("finding:bright", label["label"]!.GetValue<string>());
        Assert.Equal((1, 1), (label["positives"]!.GetValue<int>(), label["without_features"]!.GetValue<int>()));
        Assert.Contains("no features", label["skipped"]!.GetValue<string>()); // these studies have no stored vectors

        using var reopened = tmp.OpenDb();
        var v = reopened.GetStudy("V")!;
        Assert.Empty(Suggestions(v));
        Assert.True(v.PathologyFindings.OfType<JsonObject>().Single()["validated"]!.GetValue<bool>());
        var w = Suggestions(reopened.GetStudy("W")!).Single();
        Assert.Equal(modelId, w["model_id"]!.GetValue<string>());
        Assert.Equal("model", reopened.History("W")[^1].Role);
    }
}

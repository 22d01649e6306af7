using System.Text.Json.Nodes;

namespace Casebook.Findings;

/// <summary>Options of <see cref="CasebookDb.TrainFindingModels"/>.</summary>
public sealed record FindingTrainOptions
{
    /// <summary>A label is trained only with at least this many positive and this many negative studies.</summary>
    public int MinExamples { get; init; } = 5;
    /// <summary>
    /// Closed world over reviewed studies: a study whose findings (diagnoses) a clinician validated is a negative for every
    /// finding term (diagnosis code) not confirmed there. Off: only explicit rejections and refutations are negatives.
    /// </summary>
    public bool ImplicitNegatives { get; init; } = true;
    public FeatureBlocks Blocks { get; init; } = FeatureBlocks.Default;
    public ClassifierOptions Classifier { get; init; } = new();
    /// <summary>Train only these labels (keys such as "finding:mass", or bare terms / codes); null: every confirmed label.</summary>
    public IReadOnlyList<string>? Labels { get; init; }
}

/// <summary>
/// What training did for one label: the clinician's positive and negative studies (of which <see cref="WithoutFeatures"/> had
/// no feature block and were not used), and the model made (with its cross-validated AUC) or why none was.
/// </summary>
public sealed record FindingTrainReport(FindingLabel Label, int Positives, int Negatives, int WithoutFeatures, string? ModelId, double? CvAuc,
    IReadOnlyList<double> FoldAucs, int Folds, string? Skipped)
{
    public JsonObject ToJson() => new()
    {
        ["label"] = Label.Key, ["term"] = Label.Term, ["kind"] = Label.Kind,
        ["codes"] = new JsonArray(Label.Codes.Select(c => (JsonNode)JsonValue.Create(c)).ToArray()),
        ["positives"] = Positives, ["negatives"] = Negatives, ["without_features"] = WithoutFeatures, ["model_id"] = ModelId,
        ["cv_auc"] = CvAuc is { } a && double.IsFinite(a) ? Math.Round(a, 4) : null, ["folds"] = Folds,
        ["fold_aucs"] = new JsonArray(FoldAucs.Select(f => (JsonNode?)(double.IsFinite(f) ? JsonValue.Create(Math.Round(f, 4)) : null)).ToArray()),
        ["skipped"] = Skipped,
    };
}

/// <summary>A stored model (trained, or a registered ONNX classifier): one row of <c>finding_models</c>.</summary>
public sealed record FindingModelInfo(string ModelId, string LabelKey, string Kind, long TrainedVersion, string Created,
    int? Positives, int? Negatives, double? CvAuc, string Path, JsonObject Info, bool Active)
{
    public const string OnnxKind = "onnx";

    public JsonObject ToJson()
    {
        var o = new JsonObject
        {
            ["model_id"] = ModelId, ["label"] = LabelKey, ["kind"] = Kind, ["trained_version"] = TrainedVersion, ["created"] = Created,
            ["positives"] = Positives, ["negatives"] = Negatives, ["cv_auc"] = CvAuc is { } a ? Math.Round(a, 4) : null,
            ["path"] = Path, ["active"] = Active,
        };
        foreach (var key in new[] { "term", "labels", "trainer", "folds", "fold_aucs", "features", "calibration", "implicit_negatives", "sha256" })
            if (Info[key] is { } v) o[key] = v.DeepClone();
        return o;
    }
}

/// <summary>Options of <see cref="CasebookDb.SuggestFindings"/>.</summary>
public sealed record FindingSuggestOptions
{
    /// <summary>Only this study; null: every live study.</summary>
    public string? StudyId { get; init; }
    /// <summary>Suggestions below this probability are not written (0 writes every score).</summary>
    public double MinProbability { get; init; } = 0.5;
    /// <summary>Who ran the suggestion (the versions' author); null: the database's configured author.</summary>
    public string? Author { get; init; }
    /// <summary>Studies read and committed per version (each chunk is one attributed commit).</summary>
    public int ChunkSize { get; init; } = 500;
}

/// <summary>One suggestion written to a study's <c>pathology_findings</c>.</summary>
public sealed record FindingSuggestion(string StudyId, string Term, string Kind, IReadOnlyList<string> Codes, double Probability, string ModelId)
{
    public JsonObject ToJson() => new()
    {
        ["study_id"] = StudyId, ["term"] = Term, ["kind"] = Kind, ["codes"] = new JsonArray(Codes.Select(c => (JsonNode)JsonValue.Create(c)).ToArray()),
        ["probability"] = Math.Round(Probability, 4), ["model_id"] = ModelId,
    };
}

/// <summary>What a suggestion run did: the versions it committed, how many studies it scored and changed, the suggestions.</summary>
public sealed record FindingSuggestResult(IReadOnlyList<long> Versions, IReadOnlyList<string> Models, int StudiesScored, int StudiesChanged,
    IReadOnlyList<FindingSuggestion> Suggestions)
{
    public JsonObject ToJson() => new()
    {
        ["versions"] = new JsonArray(Versions.Select(v => (JsonNode)JsonValue.Create(v)).ToArray()),
        ["models"] = new JsonArray(Models.Select(v => (JsonNode)JsonValue.Create(v)).ToArray()),
        ["studies_scored"] = StudiesScored, ["studies_changed"] = StudiesChanged,
        ["suggestions"] = new JsonArray(Suggestions.Select(s => (JsonNode)s.ToJson()).ToArray()),
    };
}

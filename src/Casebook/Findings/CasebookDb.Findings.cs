using System.Text;
using System.Text.Json.Nodes;
using Casebook.Embed;
using Casebook.Findings;
using Casebook.Model;
using Casebook.Storage;
using Casebook.Validation;
using Microsoft.Data.Sqlite;
using Microsoft.ML;

namespace Casebook;

/// <summary>
/// Findings learned from clinicians (docs/findings.md): per finding term or diagnosis code that clinicians confirmed, a light
/// classifier over the studies' stored vectors and region features, cross-validated; suggestions for the studies no clinician
/// ruled on, written into <c>pathology_findings</c> as AI-suggested (never validated, never affirmed) by an attributed commit
/// (role "model"); and a slot for user ONNX classifiers. Models live under <c>findings/</c> in the database directory and are
/// listed in the side table <c>finding_models</c> (created on first use, no format bump).
/// </summary>
public sealed partial class CasebookDb
{
    const string FindingModelsTable = """
        CREATE TABLE IF NOT EXISTS finding_models(
            model_id TEXT PRIMARY KEY,
            label_key TEXT NOT NULL,
            kind TEXT NOT NULL,
            trained_version INTEGER NOT NULL,
            created TEXT NOT NULL,
            positives INTEGER,
            negatives INTEGER,
            cv_auc REAL,
            path TEXT NOT NULL,
            info TEXT NOT NULL,
            active INTEGER NOT NULL DEFAULT 1);
        CREATE INDEX IF NOT EXISTS finding_models_label ON finding_models(label_key, active);
        """;

    /// <summary>The role recorded on suggestion commits: a model, not a person, made them.</summary>
    public const string ModelRole = "model";
    /// <summary>The <c>source</c> of suggestion objects in <c>pathology_findings</c>.</summary>
    public const string ModelSource = "model";

    void EnsureFindingModelsTable()
    {
        using var c = Connect();
        Exec(c, null, FindingModelsTable);
    }

    string FindingsDirectory => Path.Combine(Directory, "findings");

    /// <summary>
    /// Trains one classifier per label (finding term or diagnosis code) that clinicians confirmed on at least
    /// <see cref="FindingTrainOptions.MinExamples"/> studies and ruled out on as many, from the live studies. Each new model
    /// replaces the label's previous one (which stays listed, inactive). Labels with too few examples are reported, not trained.
    /// </summary>
    public IReadOnlyList<FindingTrainReport> TrainFindingModels(FindingTrainOptions? options = null)
    {
        options ??= new FindingTrainOptions();
        if (options.MinExamples < 2) throw new ArgumentException($"--min-examples must be at least 2 (cross-validation needs two of each class), got {options.MinExamples}");
        EnsureFindingModelsTable();
        var version = CurrentVersion;
        // Only studies a clinician ruled on are examples; the rest are never read into memory.
        var reviewed = new List<(StudyRecord Study, StudyLabels Labels)>();
        foreach (var s in Studies(version))
        {
            var labels = StudyLabels.Of(s);
            if (labels.FindingsReviewed || labels.DiagnosesReviewed) reviewed.Add((s, labels));
        }
        var wanted = reviewed.SelectMany(r => r.Labels.Confirmed).DistinctBy(l => l.Key).OrderBy(l => l.Key, StringComparer.Ordinal).ToList();
        if (options.Labels is { Count: > 0 } only)
        {
            bool Matches(string o, FindingLabel l) => string.Equals(o.Trim(), l.Key, StringComparison.OrdinalIgnoreCase)
                || string.Equals(o.Trim(), l.Term, StringComparison.OrdinalIgnoreCase)
                || l.Codes.Any(c => string.Equals(o.Trim(), c, StringComparison.OrdinalIgnoreCase) || c.EndsWith(":" + o.Trim(), StringComparison.OrdinalIgnoreCase));
            bool Named(FindingLabel l) => only.Any(o => Matches(o, l));
            var unknown = only.Where(o => !wanted.Any(l => Matches(o, l))).ToList();
            if (unknown.Count > 0) throw new ArgumentException($"no clinician-confirmed label named {string.Join(", ", unknown.Select(u => $"'{u}'"))}; confirmed labels: {(wanted.Count == 0 ? "(none)" : string.Join(", ", wanted.Select(l => l.Key)))}");
            wanted = wanted.Where(Named).ToList();
        }

        var reports = new List<FindingTrainReport>();
        var trainer = options.Classifier.Trainer == FindingTrainer.LightGbm ? "lightgbm" : "logistic_regression";
        foreach (var label in wanted)
        {
            var members = reviewed.Select(r => (r.Study, Y: r.Labels.Example(label, options.ImplicitNegatives))).Where(m => m.Y != null).ToList();
            var layout = FeatureLayout.Choose(members.Select(m => m.Study).ToList(), options.Blocks);
            var examples = members.Select(m => (X: layout.Vector(m.Study), Y: m.Y!.Value)).Where(e => e.X != null).Select(e => (e.X!, e.Y)).ToList();
            // Counts are the clinician's examples; those without any feature block cannot be used and are reported apart.
            int allPos = members.Count(m => m.Y == true), allNeg = members.Count - allPos;
            int pos = examples.Count(e => e.Y), neg = examples.Count - pos, unusable = members.Count - examples.Count;
            string? skip = layout.Length == 0 ? "no features: these studies carry no image vectors, text vectors or region features to learn from"
                : pos < options.MinExamples || neg < options.MinExamples ? $"too few examples: {pos} positive and {neg} negative studies with features, {options.MinExamples} of each needed (--min-examples)"
                : null;
            if (skip != null) { reports.Add(new FindingTrainReport(label, allPos, allNeg, unusable, null, null, [], 0, skip)); continue; }

            var fit = FindingClassifier.Train(examples, options.Classifier);
            var modelId = NewModelId(label, trainer, version);
            var relative = Path.Combine("findings", "models", modelId + ".zip");
            System.IO.Directory.CreateDirectory(Path.Combine(FindingsDirectory, "models"));
            // Written before the row that names it (as blobs are), so a crash leaves at worst an unlisted file.
            var tmp = Path.Combine(Directory, relative + ".tmp");
            FindingClassifier.Save(fit, tmp);
            File.Move(tmp, Path.Combine(Directory, relative), overwrite: true);
            var info = new JsonObject
            {
                ["term"] = label.Term, ["label_kind"] = label.Kind, ["codes"] = new JsonArray(label.Codes.Select(c => (JsonNode)JsonValue.Create(c)).ToArray()),
                ["trainer"] = trainer, ["folds"] = fit.Folds,
                ["fold_aucs"] = new JsonArray(fit.FoldAucs.Select(a => (JsonNode?)(double.IsFinite(a) ? JsonValue.Create(Math.Round(a, 4)) : null)).ToArray()),
                ["features"] = layout.ToJson(),
                ["calibration"] = new JsonObject { ["method"] = "platt (out-of-fold scores)", ["slope"] = fit.PlattSlope, ["offset"] = fit.PlattOffset },
                ["implicit_negatives"] = options.ImplicitNegatives, ["l2"] = options.Classifier.L2,
            };
            using (var c = Connect())
            using (var tx = c.BeginTransaction(deferred: false))
            {
                Exec(c, tx, "UPDATE finding_models SET active = 0 WHERE label_key = @k AND active = 1", ("@k", label.Key));
                Exec(c, tx, """
                    INSERT INTO finding_models(model_id, label_key, kind, trained_version, created, positives, negatives, cv_auc, path, info, active)
                    VALUES (@id, @k, @kind, @v, @t, @p, @n, @auc, @path, @info, 1)
                    """, ("@id", modelId), ("@k", label.Key), ("@kind", trainer), ("@v", version), ("@t", Now()), ("@p", pos), ("@n", neg),
                    ("@auc", double.IsFinite(fit.CvAuc) ? fit.CvAuc : null), ("@path", relative), ("@info", info.ToJsonString()));
                tx.Commit();
            }
            reports.Add(new FindingTrainReport(label, allPos, allNeg, unusable, modelId, fit.CvAuc, fit.FoldAucs, fit.Folds, null));
        }
        return reports;
    }

    string NewModelId(FindingLabel label, string trainer, long version)
    {
        var slug = new StringBuilder();
        foreach (var ch in (label.Kind == FindingLabel.DiagnosisKind ? label.Codes[0] : label.Term).ToLowerInvariant())
            slug.Append(char.IsAsciiLetterOrDigit(ch) || ch == '.' ? ch : '-');
        var baseId = $"{slug.ToString().Trim('-')}.{(trainer == "lightgbm" ? "gbm" : "lr")}.v{version}";
        using var c = Connect();
        var id = baseId;
        for (var n = 2; Scalar<long>(c, null, "SELECT COUNT(*) FROM finding_models WHERE model_id = @id", ("@id", id)) > 0; n++) id = $"{baseId}-{n}";
        return id;
    }

    /// <summary>The stored models, newest first: the active ones (used by suggestion), and with <paramref name="all"/> the replaced ones too.</summary>
    public IReadOnlyList<FindingModelInfo> FindingModels(bool all = false)
    {
        EnsureFindingModelsTable();
        using var c = Connect();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT model_id, label_key, kind, trained_version, created, positives, negatives, cv_auc, path, info, active FROM finding_models"
            + (all ? "" : " WHERE active = 1") + " ORDER BY created DESC, model_id";
        using var r = cmd.ExecuteReader();
        var list = new List<FindingModelInfo>();
        while (r.Read())
            list.Add(new FindingModelInfo(r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt64(3), r.GetString(4),
                r.IsDBNull(5) ? null : r.GetInt32(5), r.IsDBNull(6) ? null : r.GetInt32(6), r.IsDBNull(7) ? null : r.GetDouble(7),
                r.GetString(8), JsonNode.Parse(r.GetString(9))!.AsObject(), r.GetInt64(10) == 1));
        return list;
    }

    /// <summary>
    /// Registers a user ONNX image classifier (e.g. a chest X-ray multi-label network) with its labels. The file is checked
    /// (input [N,3,H,W] of the given size, output [N,labels]) and copied into the database directory, so the database stays
    /// self-contained; registering a name again replaces the earlier model.
    /// </summary>
    public FindingModelInfo RegisterOnnxClassifier(string onnxPath, OnnxClassifierSpec spec)
    {
        if (string.IsNullOrWhiteSpace(spec.Name) || spec.Name.Any(ch => !(char.IsAsciiLetterOrDigit(ch) || ch is '-' or '_' or '.')))
            throw new ArgumentException($"classifier name '{spec.Name}': use letters, digits, '-', '_' or '.'");
        if (spec.Labels.Select(l => l.Trim().ToLowerInvariant()).Distinct().Count() != spec.Labels.Count)
            throw new ArgumentException($"classifier '{spec.Name}': the label list repeats a label");
        string sha;
        using (var check = new OnnxFindingClassifier(onnxPath, spec)) sha = check.Sha256;
        EnsureFindingModelsTable();
        var modelId = $"{spec.Name}@{sha[..16]}";
        var relative = Path.Combine("findings", "onnx", modelId + ".onnx");
        System.IO.Directory.CreateDirectory(Path.Combine(FindingsDirectory, "onnx"));
        var tmp = Path.Combine(Directory, relative + ".tmp");
        File.Copy(onnxPath, tmp, overwrite: true);
        File.Move(tmp, Path.Combine(Directory, relative), overwrite: true);
        var info = new JsonObject { ["labels"] = spec.ToJson()["labels"]!.DeepClone(), ["sha256"] = sha, ["spec"] = spec.ToJson() };
        var key = "onnx:" + spec.Name;
        using (var c = Connect())
        using (var tx = c.BeginTransaction(deferred: false))
        {
            Exec(c, tx, "UPDATE finding_models SET active = 0 WHERE label_key = @k", ("@k", key));
            Exec(c, tx, "DELETE FROM finding_models WHERE model_id = @id", ("@id", modelId)); // the same file again: re-register in place
            Exec(c, tx, """
                INSERT INTO finding_models(model_id, label_key, kind, trained_version, created, path, info, active)
                VALUES (@id, @k, 'onnx', @v, @t, @path, @info, 1)
                """, ("@id", modelId), ("@k", key), ("@v", CurrentVersion), ("@t", Now()), ("@path", relative), ("@info", info.ToJsonString()));
            tx.Commit();
        }
        return FindingModels().First(m => m.ModelId == modelId);
    }

    /// <summary>An active model ready to score studies.</summary>
    sealed class LoadedFindingModel : IDisposable
    {
        public required FindingModelInfo Info { get; init; }
        // trained
        public ITransformer? Transformer { get; init; }
        public FeatureLayout? Layout { get; init; }
        public FindingLabel? Label { get; init; }
        public double Slope { get; init; }
        public double Offset { get; init; }
        public bool ImplicitNegatives { get; init; }
        // onnx
        public OnnxFindingClassifier? Onnx { get; init; }
        public IReadOnlyList<FindingLabel> OnnxLabels { get; init; } = [];
        public void Dispose() => Onnx?.Dispose();
    }

    List<LoadedFindingModel> LoadFindingModels(MLContext ml)
    {
        var loaded = new List<LoadedFindingModel>();
        try
        {
            foreach (var m in FindingModels())
            {
                var file = Path.Combine(Directory, m.Path);
                if (!File.Exists(file)) throw new FileNotFoundException($"model '{m.ModelId}': its file {file} is missing (retrain, or register the classifier again)", file);
                if (m.Kind == FindingModelInfo.OnnxKind)
                {
                    var spec = OnnxClassifierSpec.FromJson(m.Info["spec"]!.AsObject());
                    loaded.Add(new LoadedFindingModel { Info = m, Onnx = new OnnxFindingClassifier(file, spec), OnnxLabels = spec.Labels.Select(FindingLabel.Finding).ToList() });
                    continue;
                }
                var calibration = m.Info["calibration"]!;
                var codes = (m.Info["codes"] as JsonArray ?? []).Select(c => c!.GetValue<string>()).ToList();
                var kind = m.Info["label_kind"]!.GetValue<string>();
                loaded.Add(new LoadedFindingModel
                {
                    Info = m, Transformer = FindingClassifier.Load(ml, file), Layout = FeatureLayout.FromJson(m.Info["features"]!.AsObject()),
                    Label = new FindingLabel(m.LabelKey, kind, m.Info["term"]!.GetValue<string>(), codes),
                    Slope = calibration["slope"]!.GetValue<double>(), Offset = calibration["offset"]!.GetValue<double>(),
                    ImplicitNegatives = m.Info["implicit_negatives"]?.GetValue<bool>() ?? true,
                });
            }
        }
        catch
        {
            foreach (var l in loaded) l.Dispose();
            throw;
        }
        return loaded;
    }

    /// <summary>
    /// Scores the live studies (or one) with every active model and writes the suggestions into <c>pathology_findings</c>:
    /// <c>{"term", "category", "codes", "source": "model", "ai_suggested": true, "probability", "model_id", "affirmed": false,
    /// "confirmed": false}</c>, never <c>validated</c>. A study gets no suggestion for a label a clinician already ruled on
    /// there. Earlier unvalidated suggestions are replaced; validated findings (including a suggestion a clinician confirmed or
    /// rejected) are never touched. Each chunk of studies is one commit attributed to role "model" in <c>version_attribution</c>.
    /// </summary>
    public FindingSuggestResult SuggestFindings(FindingSuggestOptions? options = null)
    {
        options ??= new FindingSuggestOptions();
        if (options.MinProbability is < 0 or > 1) throw new ArgumentException($"--min-probability must be within 0..1, got {options.MinProbability}");
        EnsureFindingModelsTable();
        EnsureAttributionTable();
        var ml = new MLContext(seed: 1);
        var models = LoadFindingModels(ml);
        try
        {
            List<string> ids;
            if (options.StudyId != null)
            {
                if (GetStudy(options.StudyId, withSegments: false) == null) throw new ArgumentException($"study '{options.StudyId}' does not exist");
                ids = [options.StudyId];
            }
            else ids = Studies(withSegments: false).Select(s => s.StudyId).ToList();
            var versions = new List<long>();
            var suggestions = new List<FindingSuggestion>();
            int scored = 0, changed = 0;
            foreach (var chunk in ids.Chunk(Math.Max(1, options.ChunkSize)))
            {
                // Optimistic: read at V, commit only if none of these studies changed after V (a clinician may be validating
                // meanwhile); otherwise read them again. So a suggestion run never overwrites a clinician's change.
                for (var attempt = 1; ; attempt++)
                {
                    var readAt = CurrentVersion;
                    var studies = chunk.Select(id => GetStudy(id, readAt)).OfType<StudyRecord>().ToList();
                    var (updated, made) = Suggest(ml, models, studies, options.MinProbability);
                    if (updated.Count == 0) { scored += studies.Count; suggestions.AddRange(made); break; }
                    var batch = new WriteBatch();
                    batch.Upserts.AddRange(updated);
                    var change = new JsonObject
                    {
                        ["models"] = new JsonArray(models.Select(m => (JsonNode)JsonValue.Create(m.Info.ModelId)).ToArray()),
                        ["studies"] = new JsonArray(updated.Select(s => (JsonNode)JsonValue.Create(s.StudyId)).ToArray()),
                        ["suggestions"] = made.Count, ["min_probability"] = options.MinProbability,
                    };
                    try
                    {
                        var result = Commit(batch, $"model suggestions: {made.Count} on {updated.Count} studies ({string.Join(", ", models.Select(m => m.Info.ModelId))})", options.Author,
                            check: (c, tx) =>
                            {
                                foreach (var s in updated)
                                    if (LastChange(s.StudyId, c, tx) > readAt) throw new ValidationConflictException(s.StudyId, readAt, LastChange(s.StudyId, c, tx));
                            },
                            recorded: (c, tx, v) => Exec(c, tx, "INSERT INTO version_attribution(version, study_id, role, reason, action, change) VALUES (@v, @s, @r, @why, @a, @c)",
                                ("@v", v), ("@s", updated.Count == 1 ? updated[0].StudyId : "*"), ("@r", ModelRole), ("@why", "AI-suggested findings (not validated)"),
                                ("@a", "suggest_findings"), ("@c", change.ToJsonString())));
                        if (result.Version is { } v) versions.Add(v);
                        scored += studies.Count;
                        changed += result.Updated;
                        suggestions.AddRange(made);
                        break;
                    }
                    catch (ValidationConflictException) when (attempt < 5) { }
                }
            }
            return new FindingSuggestResult(versions, models.Select(m => m.Info.ModelId).ToList(), scored, changed, suggestions);
        }
        finally
        {
            foreach (var m in models) m.Dispose();
        }
    }

    /// <summary>New pathology_findings for the studies (those that change) and the suggestions made.</summary>
    (List<StudyRecord> Updated, List<FindingSuggestion> Made) Suggest(MLContext ml, List<LoadedFindingModel> models, List<StudyRecord> studies, double minProbability)
    {
        var labels = studies.ToDictionary(s => s.StudyId, StudyLabels.Of);
        var fresh = studies.ToDictionary(s => s.StudyId, _ => new List<(FindingLabel Label, double P, string ModelId)>());
        foreach (var m in models.Where(m => m.Transformer != null))
        {
            var eligible = new List<(string StudyId, float[] X)>();
            foreach (var s in studies)
                if (!labels[s.StudyId].RuledOn(m.Label!, m.ImplicitNegatives) && m.Layout!.Vector(s) is { } x) eligible.Add((s.StudyId, x));
            var scores = FindingClassifier.Scores(ml, m.Transformer!, eligible.Select(e => e.X).ToList(), m.Layout!.Length);
            for (var i = 0; i < eligible.Count; i++)
                fresh[eligible[i].StudyId].Add((m.Label!, FindingClassifier.Probability(scores[i], m.Slope, m.Offset), m.Info.ModelId));
        }
        var onnx = models.Where(m => m.Onnx != null).ToList();
        if (onnx.Count > 0)
            foreach (var s in studies)
            {
                var images = StudyImages(s);
                if (images.Count == 0) continue;
                foreach (var m in onnx)
                {
                    // A finding anywhere in the study: the highest probability over its images.
                    var p = m.Onnx!.Predict(images);
                    for (var j = 0; j < m.OnnxLabels.Count; j++)
                        if (!labels[s.StudyId].RuledOn(m.OnnxLabels[j], implicitNegatives: true))
                            fresh[s.StudyId].Add((m.OnnxLabels[j], p.Max(row => row[j]), m.Info.ModelId));
                }
            }

        var updated = new List<StudyRecord>();
        var made = new List<FindingSuggestion>();
        var time = Now();
        foreach (var s in studies)
        {
            var before = s.PathologyFindings.ToJsonString();
            var kept = s.PathologyFindings.Where(f => !(f is JsonObject o && o["source"]?.GetValue<string>() == ModelSource && o["validated"]?.GetValue<bool>() != true))
                .Select(f => f?.DeepClone()).ToList();
            var list = new JsonArray(kept.ToArray());
            foreach (var (label, p, modelId) in fresh[s.StudyId].Where(f => f.P >= minProbability).OrderByDescending(f => f.P))
            {
                list.Add(new JsonObject
                {
                    ["term"] = label.Term, ["category"] = label.Kind,
                    ["codes"] = new JsonArray(label.Codes.Select(c => (JsonNode)JsonValue.Create(c)).ToArray()),
                    ["source"] = ModelSource, ["ai_suggested"] = true, ["probability"] = Math.Round(p, 4), ["model_id"] = modelId,
                    // Not asserted by anyone: filters, cohorts and exports count only affirmed findings, so a suggestion never passes for one.
                    ["affirmed"] = false, ["confirmed"] = false, ["suggested_at"] = time,
                });
                made.Add(new FindingSuggestion(s.StudyId, label.Term, label.Kind, label.Codes, p, modelId));
            }
            // Only the suggestions changed: unchanged studies are not rewritten (and the timestamp alone is no change).
            if (Strip(list) != Strip(JsonNode.Parse(before)!.AsArray())) { s.PathologyFindings = list; updated.Add(s); }
        }
        return (updated, made);

        static string Strip(JsonArray a) => new JsonArray(a.Select(n =>
        {
            var c = n?.DeepClone();
            if (c is JsonObject o) o.Remove("suggested_at");
            return c;
        }).ToArray()).ToJsonString();
    }

    /// <summary>The study's image slices, decoded (PNG/JPEG, or DICOM rendered as at ingest); undecodable ones are skipped.</summary>
    List<DecodedImage> StudyImages(StudyRecord s)
    {
        var images = new List<DecodedImage>();
        foreach (var g in s.Segments.Where(g => g.Kind == SegmentKind.ImageSlice && g.Blob != null))
        {
            try { images.Add(RegionCrops.Load(ReadBlob(g.Blob!), s.Metadata).Pixels); }
            catch (Exception e) when (e is InvalidDataException or NotSupportedException or ArgumentException)
            {
                Console.Error.WriteLine($"casebook: findings: {g.SegmentId}: image not decodable for the classifier: {e.Message}");
            }
        }
        return images;
    }
}

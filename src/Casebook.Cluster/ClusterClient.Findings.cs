using System.Text.Json;
using System.Text.Json.Nodes;
using Casebook.Findings;
using Casebook.Model;
using Casebook.Storage;

namespace Casebook.Cluster;

/// <summary>What a training through the cluster did: the log sequence it read at, and one node's reports (model ids renamed to that sequence).</summary>
public sealed record ClusterTrainResult(long Version, IReadOnlyList<FindingTrainReport> Reports);

public sealed partial class ClusterClient
{
    /// <summary>
    /// Trains on the coordinator, as one node does, from every shard's clinician-reviewed studies: they are gathered into a
    /// scratch database (read back in study_id order, the single node's order, so the same examples give the same model), the
    /// engine's <see cref="CasebookDb.TrainFindingModels"/> runs there, and each new model goes to the object store (by SHA-256)
    /// and the registry (KV casebook-meta, compare-and-set), replacing its label's active model. Model ids end in ".v{log sequence}".
    /// </summary>
    public async Task<ClusterTrainResult> TrainFindingModelsAsync(FindingTrainOptions options, CancellationToken ct = default)
    {
        if (options.MinExamples < 2) throw new ArgumentException($"--min-examples must be at least 2 (cross-validation needs two of each class), got {options.MinExamples}");
        var version = await Log.LastLogSequenceAsync(ct);
        var answers = await Retry(() => Task.WhenAll(Enumerable.Range(0, Config.Shards).Select(n => Shard(n).FindingExamples())), ct);
        var studies = answers.SelectMany(a => JsonNode.Parse(a)!.AsArray().Select(s => s.Deserialize<StudyRecord>(ClusterLog.RecordJson)!))
            .OrderBy(s => s.StudyId, StringComparer.Ordinal).ToList();
        var scratch = Path.Combine(Path.GetTempPath(), "casebook-train-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var db = CasebookDb.Open(scratch, new CasebookOptions { KeyFile = Config.KeyFile, Author = "cluster" });
            if (studies.Count > 0)
            {
                var batch = new WriteBatch();
                batch.Upserts.AddRange(studies);
                db.Commit(batch, "training examples from every shard");
            }
            var reports = db.TrainFindingModels(options).ToList();
            var trained = db.FindingModels().ToDictionary(m => m.ModelId);
            var files = new Dictionary<string, string>();
            foreach (var r in reports.Where(r => r.ModelId != null))
            {
                var bytes = await File.ReadAllBytesAsync(Path.Combine(scratch, trained[r.ModelId!].Path), ct);
                var sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
                await Log.PutBlobAsync(sha, bytes, ct);
                files[r.ModelId!] = sha;
            }
            if (files.Count == 0) return new ClusterTrainResult(version, reports);
            var renamed = await Log.UpdateMetaAsync(ClusterFindings.RegistryKey, list =>
            {
                var rows = list.Select(x => x!.DeepClone().AsObject()).ToList();
                var ids = new Dictionary<string, string>();
                foreach (var r in reports.Where(r => r.ModelId != null))
                {
                    var m = trained[r.ModelId!];
                    // The scratch database is at version 1: the id names the log sequence instead, unique in the registry.
                    var baseId = r.ModelId![..r.ModelId!.LastIndexOf(".v", StringComparison.Ordinal)] + ".v" + version;
                    var id = baseId;
                    for (var n = 2; rows.Any(x => x["model_id"]!.GetValue<string>() == id); n++) id = $"{baseId}-{n}";
                    ids[r.ModelId!] = id;
                    foreach (var old in rows.Where(x => x["label_key"]!.GetValue<string>() == m.LabelKey)) old["active"] = false;
                    rows.Add(ClusterFindings.Row(m with { ModelId = id, TrainedVersion = version, Path = Path.Combine("findings", "models", id + ".zip") }, files[r.ModelId!]));
                }
                return (new JsonArray(rows.Select(x => (JsonNode)x).ToArray()), ids);
            }, ct);
            return new ClusterTrainResult(version, reports.Select(r => r.ModelId != null ? r with { ModelId = renamed[r.ModelId] } : r).ToList());
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try { Directory.Delete(scratch, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>The registry's models in one node's order (newest first, then id): the active ones, or with <paramref name="all"/> the replaced too.</summary>
    public async Task<IReadOnlyList<FindingModelInfo>> FindingModelsAsync(bool all = false, CancellationToken ct = default) =>
        (await FindingModelRowsAsync(all, ct)).Select(r => ClusterFindings.Info(r)).ToList();

    async Task<List<JsonObject>> FindingModelRowsAsync(bool all, CancellationToken ct)
    {
        var (list, _) = await Log.GetMetaAsync(ClusterFindings.RegistryKey, ct);
        return list.Select(x => x!.AsObject()).Where(x => all || x["active"]!.GetValue<bool>())
            .OrderByDescending(x => x["created"]!.GetValue<string>(), StringComparer.Ordinal).ThenBy(x => x["model_id"]!.GetValue<string>(), StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// Suggestions through the log: one <see cref="ClusterFindings.SuggestKind"/> entry, naming the registry's active models, to
    /// every shard (or to the study's shard), which applies it with the engine (ShardGrain.Findings.cs). The answer merges the
    /// shards' results in one node's order (by study id); its versions are the log sequences of the entries that changed studies.
    /// </summary>
    public async Task<FindingSuggestResult> SuggestFindingsAsync(FindingSuggestOptions options, string author, CancellationToken ct = default)
    {
        if (options.MinProbability is < 0 or > 1) throw new ArgumentException($"--min-probability must be within 0..1, got {options.MinProbability}");
        List<int> shards;
        if (options.StudyId != null)
            shards = [await ShardOfStudyAsync(options.StudyId, ct) ?? throw new ArgumentException($"study '{options.StudyId}' does not exist")];
        else shards = Enumerable.Range(0, Config.Shards).ToList();
        var models = await FindingModelRowsAsync(false, ct);
        var command = new ClusterCommand
        {
            Command = ClusterFindings.SuggestKind, StudyId = options.StudyId, Author = options.Author ?? author, Role = CasebookDb.ModelRole,
            Reason = "AI-suggested findings (not validated)", Time = ClusterCommand.NowTime(),
            Args = new JsonObject { ["models"] = new JsonArray(models.Select(m => (JsonNode)m.DeepClone()).ToArray()), ["min_probability"] = options.MinProbability },
        };
        var json = JsonSerializer.Serialize(command);
        // Not retried blindly (as clinician changes): a timed-out call may still have appended.
        var outcomes = await Task.WhenAll(shards.Select(n => Shard(n).Suggest(json)));
        var results = new List<JsonObject>();
        foreach (var o in outcomes.Select(o => JsonSerializer.Deserialize<ClusterCommandOutcome>(o)!))
        {
            if (o.Error != null) throw o.Error == "invalid" ? new ArgumentException(o.Message) : new InvalidOperationException(o.Message);
            results.Add(o.Ok!);
        }
        var suggestions = results.SelectMany(r => r["suggestions"]!.AsArray().Select(s => s!.AsObject()))
            .OrderBy(s => s["study_id"]!.GetValue<string>(), StringComparer.Ordinal)
            .Select(s => new FindingSuggestion(s["study_id"]!.GetValue<string>(), s["term"]!.GetValue<string>(), s["kind"]!.GetValue<string>(),
                s["codes"]!.AsArray().Select(c => c!.GetValue<string>()).ToList(), s["probability"]!.GetValue<double>(), s["model_id"]!.GetValue<string>()))
            .ToList();
        var changedAt = results.Where(r => r["studies_changed"]!.GetValue<int>() > 0).Select(r => r["log_seq"]!.GetValue<long>()).Order().ToList();
        return new FindingSuggestResult(changedAt, models.Select(m => m["model_id"]!.GetValue<string>()).ToList(),
            results.Sum(r => r["studies_scored"]!.GetValue<int>()), results.Sum(r => r["studies_changed"]!.GetValue<int>()), suggestions);
    }

    /// <summary>
    /// Registers a user ONNX classifier for the whole cluster: the engine checks it (in a scratch database, as one node does), the
    /// file goes to the object store and its row to the registry (replacing the earlier model of that name).
    /// </summary>
    public async Task<FindingModelInfo> RegisterOnnxClassifierAsync(string onnxPath, OnnxClassifierSpec spec, CancellationToken ct = default)
    {
        var scratch = Path.Combine(Path.GetTempPath(), "casebook-onnx-" + Guid.NewGuid().ToString("N"));
        try
        {
            FindingModelInfo info;
            using (var db = CasebookDb.Open(scratch, new CasebookOptions { KeyFile = Config.KeyFile, Author = "cluster" }))
                info = db.RegisterOnnxClassifier(onnxPath, spec);
            var bytes = await File.ReadAllBytesAsync(onnxPath, ct);
            var sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
            await Log.PutBlobAsync(sha, bytes, ct);
            info = info with { TrainedVersion = await Log.LastLogSequenceAsync(ct) };
            await Log.UpdateMetaAsync(ClusterFindings.RegistryKey, list =>
            {
                var rows = list.Select(x => x!.DeepClone().AsObject()).Where(x => x["model_id"]!.GetValue<string>() != info.ModelId).ToList();
                foreach (var old in rows.Where(x => x["label_key"]!.GetValue<string>() == info.LabelKey)) old["active"] = false;
                rows.Add(ClusterFindings.Row(info, sha));
                return (new JsonArray(rows.Select(x => (JsonNode)x).ToArray()), 0);
            }, ct);
            return info;
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try { Directory.Delete(scratch, recursive: true); } catch (IOException) { }
        }
    }
}

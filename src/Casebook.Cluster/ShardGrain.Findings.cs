using System.Text.Json;
using System.Text.Json.Nodes;
using Casebook.Findings;
using Microsoft.Extensions.Logging;

namespace Casebook.Cluster;

public partial interface IShardGrain
{
    /// <summary>The live studies of this shard a clinician ruled on (findings or diagnoses), as study records (JSON array): training examples.</summary>
    [Orleans.Concurrency.ReadOnly]
    Task<string> FindingExamples();

    /// <summary>
    /// AI-suggested findings through the log: appends a <see cref="ClusterFindings.SuggestKind"/> entry to this shard's partition
    /// and answers what applying it did (<see cref="ClusterCommandOutcome"/> whose ok is the engine's suggest JSON).
    /// </summary>
    [ResponseTimeout("00:05:00")]
    Task<string> Suggest(string commandJson);
}

/// <summary>
/// Finding classifiers in the cluster. The model registry (one node's <c>finding_models</c> table) is the KV key
/// <c>findings.models</c> of casebook-meta; each model's file is in the object store casebook-blobs under its SHA-256.
/// A suggestion run is a log entry of kind <see cref="SuggestKind"/> naming the models (their registry rows); the shard applying
/// it installs exactly those models in its database (files fetched by hash, <c>finding_models</c> rows set to them) and runs
/// the engine's own <see cref="CasebookDb.SuggestFindings"/> in log order, so suggestions are written by the owning shard,
/// attributed to role "model", never over a clinician's ruling (the engine's rule), and after whatever came before in the log.
/// </summary>
public static class ClusterFindings
{
    public const string SuggestKind = "suggest_findings";
    public const string RegistryKey = "findings.models";

    /// <summary>A registry row as one node's <see cref="FindingModelInfo"/>.</summary>
    public static FindingModelInfo Info(JsonNode row) => new(
        row["model_id"]!.GetValue<string>(), row["label_key"]!.GetValue<string>(), row["kind"]!.GetValue<string>(), row["trained_version"]!.GetValue<long>(),
        row["created"]!.GetValue<string>(), row["positives"]?.GetValue<int>(), row["negatives"]?.GetValue<int>(), row["cv_auc"]?.GetValue<double>(),
        row["path"]!.GetValue<string>(), row["info"]!.AsObject().DeepClone().AsObject(), row["active"]!.GetValue<bool>());

    public static JsonObject Row(FindingModelInfo m, string fileSha256) => new()
    {
        ["model_id"] = m.ModelId, ["label_key"] = m.LabelKey, ["kind"] = m.Kind, ["trained_version"] = m.TrainedVersion, ["created"] = m.Created,
        ["positives"] = m.Positives, ["negatives"] = m.Negatives, ["cv_auc"] = m.CvAuc, ["path"] = m.Path, ["info"] = m.Info.DeepClone(),
        ["active"] = m.Active, ["file_sha256"] = fileSha256,
    };
}

public sealed partial class ShardGrain
{
    readonly Dictionary<long, ClusterCommandOutcome> _suggestOutcomes = new();

    public Task<string> FindingExamples()
    {
        try
        {
            var list = new JsonArray();
            foreach (var s in _db!.Studies())
            {
                var labels = StudyLabels.Of(s);
                if (labels.FindingsReviewed || labels.DiagnosesReviewed) list.Add(JsonSerializer.SerializeToNode(s, ClusterLog.RecordJson));
            }
            return Task.FromResult(list.ToJsonString());
        }
        catch (Exception e) when (e is not InvalidOperationException) { throw Portable(e); }
    }

    public async Task<string> Suggest(string commandJson)
    {
        var c = JsonSerializer.Deserialize<ClusterCommand>(commandJson) ?? throw new ArgumentException("empty command");
        try
        {
            for (var attempt = 0; attempt < 50; attempt++)
            {
                await Replay(0, CancellationToken.None);
                if (c.StudyId != null && _db!.GetStudy(c.StudyId, withSegments: false) == null)
                    return JsonSerializer.Serialize(new ClusterCommandOutcome(null, "invalid", $"study '{c.StudyId}' does not exist"));
                var seq = await log.AppendCommandAsync(Shard, c, _applied);
                if (seq == null) continue;
                await Replay(seq.Value, CancellationToken.None);
                return JsonSerializer.Serialize(_suggestOutcomes.GetValueOrDefault(seq.Value) ?? new ClusterCommandOutcome(null, "unknown", $"log entry {seq} was applied but its outcome is not known here"));
            }
            throw new TimeoutException($"shard {Shard}: the partition kept moving; the suggestion run was not appended");
        }
        catch (Exception e) when (e is not InvalidOperationException) { throw Portable(e); }
    }

    const string FindingModelsDdl = """
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

    /// <summary>
    /// Applies a suggestion entry: installs the entry's models (and only those) and runs the engine's suggestion over this
    /// shard's live studies (or the one study). A failure (a model file missing from the object store, a study that is not
    /// here) is this entry's outcome; the log goes on.
    /// </summary>
    async Task ApplySuggest(long seq, ClusterCommand c, CancellationToken ct)
    {
        ClusterCommandOutcome outcome;
        try
        {
            var models = c.Args["models"]?.AsArray() ?? new JsonArray();
            foreach (var row in models)
            {
                var file = Path.Combine(Directory, row!["path"]!.GetValue<string>());
                var sha = row["file_sha256"]!.GetValue<string>();
                if (File.Exists(file) && Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(file))) == sha) continue;
                System.IO.Directory.CreateDirectory(Path.GetDirectoryName(file)!);
                await File.WriteAllBytesAsync(file + ".tmp", await log.GetBlobAsync(sha, ct), ct);
                File.Move(file + ".tmp", file, overwrite: true);
            }
            using (var side = Side(Directory))
            {
                Exec(side, FindingModelsDdl);
                using var tx = side.BeginTransaction();
                using (var del = side.CreateCommand()) { del.Transaction = tx; del.CommandText = "DELETE FROM finding_models"; del.ExecuteNonQuery(); }
                foreach (var row in models)
                {
                    var m = ClusterFindings.Info(row!);
                    using var ins = side.CreateCommand();
                    ins.Transaction = tx;
                    ins.CommandText = """
                        INSERT INTO finding_models(model_id, label_key, kind, trained_version, created, positives, negatives, cv_auc, path, info, active)
                        VALUES (@id, @k, @kind, @v, @t, @p, @n, @auc, @path, @info, 1)
                        """;
                    ins.Parameters.AddWithValue("@id", m.ModelId);
                    ins.Parameters.AddWithValue("@k", m.LabelKey);
                    ins.Parameters.AddWithValue("@kind", m.Kind);
                    ins.Parameters.AddWithValue("@v", m.TrainedVersion);
                    ins.Parameters.AddWithValue("@t", m.Created);
                    ins.Parameters.AddWithValue("@p", (object?)m.Positives ?? DBNull.Value);
                    ins.Parameters.AddWithValue("@n", (object?)m.Negatives ?? DBNull.Value);
                    ins.Parameters.AddWithValue("@auc", (object?)m.CvAuc ?? DBNull.Value);
                    ins.Parameters.AddWithValue("@path", m.Path);
                    ins.Parameters.AddWithValue("@info", m.Info.ToJsonString());
                    ins.ExecuteNonQuery();
                }
                tx.Commit();
            }
            var minP = c.Args["min_probability"]?.GetValue<double>() ?? 0.5;
            var r = _db!.SuggestFindings(new FindingSuggestOptions { StudyId = c.StudyId, MinProbability = minP, Author = c.Author });
            _db.SaveIndexes();
            var ok = r.ToJson();
            ok["log_seq"] = seq; // the cluster's "versions": the entries that changed studies
            outcome = new ClusterCommandOutcome(ok);
        }
        catch (Exception e) when (e is ArgumentException or FileNotFoundException or IOException or InvalidDataException or NATS.Client.ObjectStore.NatsObjNotFoundException)
        {
            outcome = new ClusterCommandOutcome(null, "invalid", e.Message);
            logger.LogInformation("shard {Shard}: log entry {Seq} ({Command}) not applied: {Message}", Shard, seq, c.Command, e.Message);
        }
        _applied = seq;
        Record([(seq, ClusterFindings.SuggestKind, c.StudyId, null)]);
        if (_suggestOutcomes.Count > 256) _suggestOutcomes.Clear();
        _suggestOutcomes[seq] = outcome;
    }
}

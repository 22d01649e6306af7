using System.Text.Json.Nodes;
using Casebook.Cluster;
using Casebook.Findings;

namespace Casebook.Cli;

/// <summary>
/// `findings train|suggest|models|register ... --cluster F`: the single-node verbs (<see cref="FindingsCommands"/>, whose argument
/// parsing they share) over the cluster, printing the same JSON. Training runs here on examples from every shard; models are
/// kept in the cluster's registry and object store; suggestions go through the log to the shards that own the studies.
/// </summary>
public static class ClusterFindingsCommands
{

    public static int Train(Args a, string clusterFile, FindingTrainOptions options, bool json, TextWriter stdout)
    {
        a.EnsureAllUsed();
        var r = ClusterStudyCommands.Connected(clusterFile, c => c.TrainFindingModelsAsync(options));
        if (json) FindingsCommands.Write(stdout, new JsonObject { ["version"] = r.Version, ["labels"] = new JsonArray(r.Reports.Select(x => (JsonNode)x.ToJson()).ToArray()) });
        else
        {
            if (r.Reports.Count == 0) stdout.WriteLine("no clinician-confirmed findings or diagnoses to learn from (validate some first: see `validate`, `diagnose`)");
            foreach (var x in r.Reports)
                stdout.WriteLine(x.ModelId != null
                    ? $"{x.Label.Key}: {x.Positives} positive / {x.Negatives} negative, CV AUC {x.CvAuc:0.000} ({x.Folds} folds) → model {x.ModelId}"
                    : $"{x.Label.Key}: {x.Positives} positive / {x.Negatives} negative, not trained: {x.Skipped}");
        }
        return 0;
    }

    public static int Suggest(Args a, string clusterFile, FindingSuggestOptions options, bool json, TextWriter stdout)
    {
        var author = a.Get("author") ?? new CasebookOptions().Author;
        a.EnsureAllUsed();
        var result = ClusterStudyCommands.Connected(clusterFile, c => c.SuggestFindingsAsync(options, author));
        if (json) FindingsCommands.Write(stdout, result.ToJson());
        else
        {
            if (result.Models.Count == 0) stdout.WriteLine("no models: train some (`findings train`) or register an ONNX classifier (`findings register`)");
            foreach (var s in result.Suggestions) stdout.WriteLine($"{s.StudyId}: {s.Term} p={s.Probability:0.000} (AI-suggested by {s.ModelId})");
            stdout.WriteLine($"{result.StudiesScored} studies scored, {result.StudiesChanged} changed" + (result.Versions.Count > 0 ? $", log sequence {string.Join(", ", result.Versions)}" : ""));
        }
        return 0;
    }

    public static int Models(Args a, string clusterFile, bool all, bool json, TextWriter stdout)
    {
        a.EnsureAllUsed();
        var models = ClusterStudyCommands.Connected(clusterFile, c => c.FindingModelsAsync(all));
        if (json) FindingsCommands.Write(stdout, new JsonObject { ["models"] = new JsonArray(models.Select(m => (JsonNode)m.ToJson()).ToArray()) });
        else foreach (var m in models)
                stdout.WriteLine($"{m.ModelId}\t{m.LabelKey}\t{m.Kind}\tseq {m.TrainedVersion}\t{(m.CvAuc is { } auc ? $"CV AUC {auc:0.000}" : "")}{(m.Active ? "" : "\t(replaced)")}");
        return 0;
    }

    public static int Register(Args a, string clusterFile, string onnx, OnnxClassifierSpec spec, bool json, TextWriter stdout)
    {
        a.EnsureAllUsed();
        var info = ClusterStudyCommands.Connected(clusterFile, c => c.RegisterOnnxClassifierAsync(onnx, spec));
        if (json) FindingsCommands.Write(stdout, info.ToJson());
        else stdout.WriteLine($"registered {info.ModelId} ({spec.Labels.Count} labels) for the cluster; run `findings suggest --cluster F` to apply it");
        return 0;
    }
}

using System.Globalization;
using System.Text.Json.Nodes;
using Casebook.Embed;
using Casebook.Findings;

namespace Casebook.Cli;

/// <summary>
/// Findings learned from clinicians (issue 8, docs/findings.md). Contracts, keep stable:
/// <c>findings train [--db DIR] [--min-examples N] [--trainer lr|lightgbm] [--label L,…] [--features image,text,radiomics]
/// [--explicit-negatives-only] [--l2 X] --json</c> → <c>{"version","labels":[{"label","term","kind","codes","positives","negatives","model_id","cv_auc","folds","fold_aucs","skipped"}]}</c>;
/// <c>findings suggest [--db DIR] [--study ID] [--min-probability P] --json</c> →
/// <c>{"versions","models","studies_scored","studies_changed","suggestions":[{"study_id","term","kind","codes","probability","model_id"}]}</c>;
/// <c>findings models [--all] --json</c> → <c>{"models":[{"model_id","label","kind","trained_version","created","positives","negatives","cv_auc",…}]}</c>;
/// <c>findings register NAME --onnx FILE --labels A,B,… [--input-size N] [--activation sigmoid|softmax|none] [--mean r,g,b] [--std r,g,b]
/// [--pixel-scale S] [--channel-order rgb|bgr] [--input-name N] [--output-name N] --json</c>.
/// </summary>
public static class FindingsCommands
{
    static readonly HashSet<string> Flags = ["json", "all", "explicit-negatives-only"];

    public static int Run(string[] args) => Run(args, Console.Out);

    public static int Run(string[] args, TextWriter stdout)
    {
        if (args.Length == 0) throw new UsageException("findings needs a subcommand: train, suggest, models or register");
        var a = new Args(args[1..], Flags);
        return args[0] switch
        {
            "train" => Train(a, stdout),
            "suggest" => Suggest(a, stdout),
            "models" => Models(a, stdout),
            "register" => Register(a, stdout),
            _ => throw new UsageException($"unknown findings subcommand '{args[0]}' (train, suggest, models, register)"),
        };
    }

    static CasebookDb Open(Args a)
    {
        var dir = a.Get("db") ?? Commands.DefaultDb;
        if (!File.Exists(Path.Combine(dir, "casebook.db")))
            throw new InvalidOperationException($"no Casebook database at '{dir}' (run ./casebook ingest first, or pass --db)");
        var options = new CasebookOptions { KeyFile = a.Get("key-file") };
        if (a.Get("author") is { } author) options.Author = author;
        return CasebookDb.Open(dir, options);
    }

    internal static void Write(TextWriter w, JsonNode node) => w.WriteLine(node.ToJsonString(Commands.JsonOut));

    static double? Number(Args a, string name)
    {
        var v = a.Get(name);
        if (v == null) return null;
        return double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) ? x : throw new UsageException($"--{name} must be a number, not '{v}'");
    }

    static List<string>? List(Args a, string name) =>
        a.Get(name) is { } v ? v.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToList() : null;

    static int Train(Args a, TextWriter stdout)
    {
        if (a.Positional.Count > 0) throw new UsageException($"findings train takes no positional arguments (got '{a.Positional[0]}')");
        var trainer = a.Get("trainer") switch
        {
            null or "lr" or "logistic" or "logistic_regression" => FindingTrainer.LogisticRegression,
            "lightgbm" or "gbm" => FindingTrainer.LightGbm,
            var t => throw new UsageException($"--trainer '{t}': expected lr or lightgbm"),
        };
        var blocks = FeatureBlocks.Default;
        if (List(a, "features") is { } features)
        {
            blocks = FeatureBlocks.None;
            foreach (var f in features)
                blocks |= f switch
                {
                    "image" => FeatureBlocks.Image, "text" => FeatureBlocks.Text, "radiomics" => FeatureBlocks.Radiomics,
                    _ => throw new UsageException($"--features '{f}': expected image, text or radiomics (comma-separated)"),
                };
        }
        var classifier = new ClassifierOptions { Trainer = trainer };
        if (Number(a, "l2") is { } l2) classifier = classifier with { L2 = (float)l2 };
        var options = new FindingTrainOptions
        {
            MinExamples = (int)(a.Long("min-examples") ?? 5), ImplicitNegatives = !a.Flag("explicit-negatives-only"),
            Blocks = blocks, Classifier = classifier, Labels = List(a, "label"),
        };
        var json = a.Flag("json");
        if (a.Get("cluster") is { } cluster) return ClusterFindingsCommands.Train(a, cluster, options, json, stdout); // on the coordinator, examples from every shard
        using var db = Open(a);
        a.EnsureAllUsed();
        var version = db.CurrentVersion;
        var reports = db.TrainFindingModels(options);
        if (json) Write(stdout, new JsonObject { ["version"] = version, ["labels"] = new JsonArray(reports.Select(r => (JsonNode)r.ToJson()).ToArray()) });
        else
        {
            if (reports.Count == 0) stdout.WriteLine("no clinician-confirmed findings or diagnoses to learn from (validate some first: see `validate`, `diagnose`)");
            foreach (var r in reports)
                stdout.WriteLine(r.ModelId != null
                    ? $"{r.Label.Key}: {r.Positives} positive / {r.Negatives} negative, CV AUC {r.CvAuc:0.000} ({r.Folds} folds) → model {r.ModelId}"
                    : $"{r.Label.Key}: {r.Positives} positive / {r.Negatives} negative, not trained: {r.Skipped}");
        }
        return 0;
    }

    static int Suggest(Args a, TextWriter stdout)
    {
        if (a.Positional.Count > 0) throw new UsageException($"findings suggest takes no positional arguments (use --study ID)");
        var options = new FindingSuggestOptions { StudyId = a.Get("study"), MinProbability = Number(a, "min-probability") ?? 0.5 };
        var json = a.Flag("json");
        if (a.Get("cluster") is { } cluster) return ClusterFindingsCommands.Suggest(a, cluster, options, json, stdout); // through the log to the owning shards
        using var db = Open(a);
        a.EnsureAllUsed();
        var result = db.SuggestFindings(options);
        db.SaveIndexes();
        if (json) Write(stdout, result.ToJson());
        else
        {
            if (result.Models.Count == 0) stdout.WriteLine("no models: train some (`findings train`) or register an ONNX classifier (`findings register`)");
            foreach (var s in result.Suggestions) stdout.WriteLine($"{s.StudyId}: {s.Term} p={s.Probability:0.000} (AI-suggested by {s.ModelId})");
            stdout.WriteLine($"{result.StudiesScored} studies scored, {result.StudiesChanged} changed" + (result.Versions.Count > 0 ? $", version {string.Join(", ", result.Versions)}" : ""));
        }
        return 0;
    }

    static int Models(Args a, TextWriter stdout)
    {
        var all = a.Flag("all");
        var json = a.Flag("json");
        if (a.Get("cluster") is { } cluster) return ClusterFindingsCommands.Models(a, cluster, all, json, stdout); // the cluster's registry
        using var db = Open(a);
        a.EnsureAllUsed();
        var models = db.FindingModels(all);
        if (json) Write(stdout, new JsonObject { ["models"] = new JsonArray(models.Select(m => (JsonNode)m.ToJson()).ToArray()) });
        else foreach (var m in models)
                stdout.WriteLine($"{m.ModelId}\t{m.LabelKey}\t{m.Kind}\tv{m.TrainedVersion}\t{(m.CvAuc is { } auc ? $"CV AUC {auc:0.000}" : "")}{(m.Active ? "" : "\t(replaced)")}");
        return 0;
    }

    static int Register(Args a, TextWriter stdout)
    {
        if (a.Positional.Count != 1) throw new UsageException("findings register needs exactly one NAME");
        var onnx = a.Get("onnx") ?? throw new UsageException("--onnx FILE is required");
        var labels = List(a, "labels") ?? throw new UsageException("--labels A,B,… is required (one per output column, in order)");
        var input = new ImageInputSpec();
        if (a.Long("input-size") is { } size) input = input with { Width = (int)size, Height = (int)size };
        if (a.Long("input-width") is { } w) input = input with { Width = (int)w };
        if (a.Long("input-height") is { } h) input = input with { Height = (int)h };
        float[] Triple(string name, float[] fallback)
        {
            if (List(a, name) is not { } v) return fallback;
            if (v.Count != 3) throw new UsageException($"--{name} needs three comma-separated numbers (r,g,b)");
            return v.Select(x => float.TryParse(x, NumberStyles.Float, CultureInfo.InvariantCulture, out var f) ? f : throw new UsageException($"--{name}: '{x}' is not a number")).ToArray();
        }
        input = input with { Mean = Triple("mean", input.Mean), Std = Triple("std", input.Std) };
        if (Number(a, "pixel-scale") is { } scale) input = input with { PixelScale = (float)scale };
        if (a.Get("channel-order") is { } order)
            input = input with { ChannelOrder = order.ToLowerInvariant() switch { "rgb" => ChannelOrder.Rgb, "bgr" => ChannelOrder.Bgr, _ => throw new UsageException($"--channel-order '{order}': expected rgb or bgr") } };
        var activation = a.Get("activation")?.ToLowerInvariant() switch
        {
            null or "sigmoid" => OutputActivation.Sigmoid,
            "softmax" => OutputActivation.Softmax,
            "none" or "probabilities" => OutputActivation.None,
            var x => throw new UsageException($"--activation '{x}': expected sigmoid, softmax or none"),
        };
        var spec = new OnnxClassifierSpec { Name = a.Positional[0], Labels = labels, Input = input, Activation = activation, InputName = a.Get("input-name"), OutputName = a.Get("output-name") };
        var json = a.Flag("json");
        if (a.Get("cluster") is { } cluster) return ClusterFindingsCommands.Register(a, cluster, onnx, spec, json, stdout); // the cluster's registry
        using var db = Open(a);
        a.EnsureAllUsed();
        var info = db.RegisterOnnxClassifier(onnx, spec);
        if (json) Write(stdout, info.ToJson());
        else stdout.WriteLine($"registered {info.ModelId} ({labels.Count} labels); run `findings suggest` to apply it");
        return 0;
    }
}

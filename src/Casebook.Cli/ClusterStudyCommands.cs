using System.Globalization;
using System.Text.Json.Nodes;
using Casebook.Cluster;
using Casebook.Ingest;
using Casebook.Search;

namespace Casebook.Cli;

/// <summary>
/// The `--cluster FILE` forms of the study-scoped verbs (docs/cluster.md): versions, history, timeline, similar, validate,
/// diagnose, region and purge print the single-node JSON. Clinician changes and purges go into the log and are applied by
/// the study's shard; reads go to the shard that holds the study.
/// </summary>
public static class ClusterStudyCommands
{
    const int ConflictExit = 4;

    /// <summary>Runs one coordinator call against the cluster in FILE (every `--cluster` verb goes through here).</summary>
    internal static T Connected<T>(string clusterFile, Func<ClusterClient, Task<T>> call)
    {
        var config = ClusterConfig.Load(clusterFile);
        return Task.Run(async () =>
        {
            await using var client = await ClusterClient.ConnectAsync(config);
            return await call(client);
        }).GetAwaiter().GetResult();
    }

    static void Write(JsonNode node) => Console.Out.WriteLine(node.ToJsonString());

    /// <summary>`versions --cluster F`: every shard's versions ({"versions":[{version,time,author,message,shard}]}), by time.</summary>
    public static int Versions(Args a, string clusterFile)
    {
        var json = a.Flag("json");
        a.EnsureAllUsed();
        var versions = Connected(clusterFile, c => c.VersionsAsync());
        if (json) Write(new JsonObject { ["versions"] = versions });
        else foreach (var v in versions) Console.Out.WriteLine($"shard {v!["shard"],-3} {v["version"],5}  {v["time"]}  {v["author"]}  {v["message"]}");
        return 0;
    }

    public static int History(Args a, string clusterFile)
    {
        if (a.Positional.Count != 1) throw new UsageException("history needs exactly one STUDY_ID");
        var json = a.Flag("json");
        a.EnsureAllUsed();
        var id = a.Positional[0];
        var entries = Connected(clusterFile, c => c.HistoryAsync(id));
        if (json) Write(new JsonObject { ["study_id"] = id, ["versions"] = entries });
        else
            foreach (var e in entries.OfType<JsonObject>())
                Console.Out.WriteLine($"{e["version"],5}  {e["time"]}  {e["author"]}{(e["role"] != null ? $" ({e["role"]})" : "")}  {e["message"]}  [{string.Join(", ", e["changed"]!.AsArray())}]");
        return 0;
    }

    public static int Timeline(Args a, string clusterFile)
    {
        if (a.Positional.Count != 1) throw new UsageException("timeline needs exactly one STUDY_ID");
        int? window = a.Long("window") is { } w ? (w is > 0 and <= 36500 ? (int)w : throw new UsageException("--window must be 1..36500 days")) : null;
        int? outcomeWindow = a.Long("outcome-window") is { } ow ? (ow is > 0 and <= 36500 ? (int)ow : throw new UsageException("--outcome-window must be 1..36500 days")) : null;
        var json = a.Flag("json");
        a.EnsureAllUsed();
        var id = a.Positional[0];
        var t = Connected(clusterFile, c => c.TimelineAsync(id, window, outcomeWindow)) ?? throw new InvalidOperationException($"no study '{id}' in this cluster");
        if (json) { Write(t); return 0; }
        Console.Out.WriteLine($"study {id}: {t["events"]!.AsArray().Count} events, {t["outcomes"]!.AsArray().Count} outcomes");
        foreach (var e in t["events"]!.AsArray()) Console.Out.WriteLine($"  {e!["time"] ?? "(no time)",-25} {e["text"]}");
        return 0;
    }

    public static int Similar(Args a, string clusterFile)
    {
        var text = a.Positional.Count > 0 ? string.Join(' ', a.Positional) : null;
        var study = a.Get("study");
        var imagePath = a.Get("image");
        var regionSpec = a.Get("region");
        var limit = (int)(a.Long("limit") ?? 10);
        if (limit is < 1 or > 1000) throw new UsageException("--limit must be 1..1000");
        var filter = a.Get("where");
        var json = a.Flag("json");
        a.EnsureAllUsed();
        if (regionSpec != null)
        {
            // As on one node (ValidationCommands.Similar): clinician regions that look like this crop of one of the study's slices.
            if (study == null) throw new UsageException("--region needs --study ID (the study the slice belongs to)");
            var colon = regionSpec.LastIndexOf(':');
            if (colon <= 0) throw new UsageException($"--region '{regionSpec}': expected SEGMENT_ID:x,y,w,h");
            var box = Casebook.Validation.RegionBox.Parse(regionSpec[(colon + 1)..]);
            var hits = Connected(clusterFile, c => c.SimilarRegionsAsync(study, regionSpec[..colon], box, limit));
            if (json)
                Write(new JsonObject
                {
                    ["results"] = new JsonArray(hits.Select(h => (JsonNode)new JsonObject
                    {
                        ["study_id"] = h.StudyId, ["region_id"] = h.RegionId, ["label"] = h.Label, ["score"] = Math.Round(h.Score, 6),
                    }).ToArray()),
                });
            else foreach (var h in hits) Console.Out.WriteLine($"{h.Score,8:0.0000}  {h.StudyId}  {h.RegionId}  {h.Label}");
            return 0;
        }
        byte[]? image = null;
        if (imagePath != null)
        {
            if (!File.Exists(imagePath)) throw new UsageException($"--image '{imagePath}' does not exist");
            image = File.ReadAllBytes(imagePath);
        }
        var result = Connected(clusterFile, c => c.SimilarAsync(new SimilarQuery(study, image, text, limit, filter)));
        if (json) { Write(result.ToJson()); return 0; }
        foreach (var r in result.Results) Console.Out.WriteLine($"{r.Score,8:0.0000}  {r.StudyId}  {r.Outcomes.Count} outcomes");
        Console.Out.WriteLine($"summary over {result.Results.Count} similar studies:");
        foreach (var s in result.Summary) Console.Out.WriteLine($"  {s.Count,4}  {s.Code}  {s.Display}  ({string.Join(", ", s.StudyIds)})");
        return 0;
    }

    static string Need(Args a, string name) => a.Get(name) is { Length: > 0 } v ? v : throw new UsageException($"--{name} is required");

    public static int Validate(Args a, string clusterFile) => Change(a, clusterFile, ClusterCommand.ValidateFinding, new JsonObject
    {
        ["finding"] = Need(a, "finding"), ["status"] = Need(a, "status"),
        ["edit_term"] = a.Get("edit-term"), ["edit_laterality"] = a.Get("edit-laterality"), ["edit_code"] = a.Get("edit-code"),
    });

    public static int Diagnose(Args a, string clusterFile) => Change(a, clusterFile, ClusterCommand.Diagnose, new JsonObject
    {
        ["code"] = Need(a, "code"), ["system"] = Need(a, "system"), ["status"] = Need(a, "status"), ["display"] = a.Get("display"),
    });

    public static int Region(Args a, string clusterFile)
    {
        var args = new JsonObject { ["slice"] = Need(a, "slice"), ["label"] = Need(a, "label") };
        if (a.Get("polygon") is { } polygon)
        {
            if (a.Get("box") != null) throw new UsageException("give --box or --polygon, not both");
            Casebook.Validation.RegionBox.ParsePolygon(polygon); // bad coordinates fail here, before anything is appended
            args["polygon"] = polygon;
        }
        else
        {
            var box = Need(a, "box");
            Casebook.Validation.RegionBox.Parse(box);
            args["box"] = box;
        }
        return Change(a, clusterFile, ClusterCommand.Region, args);
    }

    static int Change(Args a, string clusterFile, string command, JsonObject args)
    {
        if (a.Positional.Count != 1) throw new UsageException("needs exactly one STUDY_ID");
        var baseVersion = a.Long("base-version") ?? throw new UsageException("--base-version is required (the version you started from; see `history STUDY_ID`)");
        var cmd = new ClusterCommand
        {
            Command = command, StudyId = a.Positional[0], Author = Need(a, "author"), Role = Need(a, "role"), Reason = a.Get("reason"),
            Time = ClusterCommand.NowTime(), BaseVersion = baseVersion,
            Args = new JsonObject(args.Where(kv => kv.Value != null).Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value!.DeepClone()))),
        };
        var json = a.Flag("json");
        a.EnsureAllUsed();
        var outcome = Connected(clusterFile, c => c.ChangeAsync(cmd));
        if (outcome.Error == "conflict")
        {
            Console.Error.WriteLine($"casebook: {outcome.Message}");
            if (json) Write(new JsonObject { ["error"] = "conflict", ["study_id"] = cmd.StudyId, ["base_version"] = baseVersion, ["current_version"] = outcome.CurrentVersion, ["message"] = outcome.Message });
            return ConflictExit;
        }
        var r = Ok(outcome);
        if (json) Write(r);
        else Console.Out.WriteLine($"study {r["study_id"]}: {r["action"]} committed as version {r["version"]} (through the cluster log)");
        return 0;
    }

    /// <summary>The result, or the single node's exception for the refusal (the CLI maps it to its exit code and message).</summary>
    public static JsonObject Ok(ClusterCommandOutcome o) => o.Error switch
    {
        null => o.Ok!,
        "forbidden" => throw new UnauthorizedAccessException(o.Message),
        "invalid" => throw new ArgumentException(o.Message),
        _ => throw new InvalidOperationException(o.Message),
    };

    /// <summary>`purge --patient ID [--issuer I] | --pseudo-id HEX | --study ID --cluster F`: through the log to the owning shard.</summary>
    public static int Purge(Args a, string clusterFile)
    {
        var patient = a.Get("patient");
        var pseudo = a.Get("pseudo-id");
        var study = a.Get("study");
        var issuer = a.Get("issuer") ?? StudyManifest.DefaultIssuer;
        var author = a.Get("author") ?? new CasebookOptions().Author; // as one node
        var json = a.Flag("json");
        a.EnsureAllUsed();
        if (new[] { patient, pseudo, study }.Count(x => x != null) != 1) throw new UsageException("purge needs exactly one of --patient ID, --pseudo-id HEX, --study ID");
        var r = Ok(Connected(clusterFile, c => c.PurgeAsync(study != null ? null : pseudo ?? c.Pseudonymise(issuer, patient!), study, author)));
        if (json) Write(new JsonObject { ["version"] = r["version"]?.DeepClone(), ["target"] = r["target"]?.DeepClone(), ["studies_removed"] = r["studies_removed"]?.DeepClone(), ["rows_removed"] = r["rows_removed"]?.DeepClone(), ["blobs_removed"] = r["blobs_removed"]?.DeepClone() });
        else Console.Out.WriteLine($"purged {r["target"]}: {r["studies_removed"]} studies, {r["rows_removed"]} rows, {r["blobs_removed"]} blobs, {r["log_entries_erased"]} log entries erased (shard version {r["version"]})");
        return 0;
    }

    /// <summary>`stats --cluster F`: the single-node keys, summed over the shards (see ClusterClient.StatsAsync).</summary>
    public static int Stats(Args a, string clusterFile)
    {
        var json = a.Flag("json");
        a.EnsureAllUsed();
        var node = Connected(clusterFile, c => c.StatsAsync());
        if (json) Write(node);
        else foreach (var (k, v) in node) Console.Out.WriteLine($"{k,-10} {v}");
        return 0;
    }

    /// <summary>`regions STUDY_ID --cluster F`: the study's regions from its shard (same JSON as one node).</summary>
    public static int Regions(Args a, string clusterFile)
    {
        if (a.Positional.Count != 1) throw new UsageException("regions needs exactly one STUDY_ID");
        var json = a.Flag("json");
        a.EnsureAllUsed();
        var id = a.Positional[0];
        var regions = Connected(clusterFile, c => c.RegionsAsync(id)) ?? throw new ArgumentException($"study '{id}' does not exist");
        foreach (var r in regions.OfType<JsonObject>()) if (r["source"] == null) r["source"] = "clinician";
        if (json) Write(new JsonObject { ["study_id"] = id, ["regions"] = regions });
        else foreach (var r in regions.OfType<JsonObject>()) Console.Out.WriteLine($"  {r["region_id"],-40} {r["source"],-9} {r["label"]}");
        return 0;
    }

    /// <summary>Verbs that read or write one database as a whole: with --cluster they say so instead of opening ./casebook-data.</summary>
    static readonly Dictionary<string, string> NotDistributed = new()
    {
        ["eval"] = "eval ir builds a throw-away database from its --docs file; ingesting an evaluation corpus into a running cluster would mix it with patients' studies and leave it in the log, and cluster search is tested to return one node's results, so evaluate on one node (--keep-db DIR keeps that database)",
    };

    public static void RefuseIfNotDistributed(string verb, string[] rest)
    {
        if (NotDistributed.TryGetValue(verb, out var why) && rest.Any(r => r == "--cluster" || r.StartsWith("--cluster=", StringComparison.Ordinal)))
            throw new UsageException($"{verb} is not available with --cluster yet: {why} (docs/cluster.md)");
    }
}

using System.Text.Json.Nodes;
using Casebook.Search;
using Casebook.Validation;

namespace Casebook.Cli;

/// <summary>
/// Clinician validation and similar cases (issue 6). Contracts, keep stable:
/// <c>validate STUDY_ID --finding TERM --status confirmed|rejected [--reason R] --author A --role R --base-version V</c>;
/// <c>diagnose STUDY_ID --code C --system icd10cm|snomed --status confirmed|provisional|refuted --author A --role R --base-version V</c>;
/// <c>region STUDY_ID --slice SEGMENT_ID --box x,y,w,h --label L --author A --role R --base-version V</c>;
/// <c>similar (--study ID | --image FILE | "TEXT") [--limit N] --json</c> →
/// <c>{"results":[{"study_id","score","outcomes":[...]}],"summary":[{"code","display","count","study_ids"}]}</c>;
/// <c>history STUDY_ID --json</c>. A stale --base-version exits 4 with a conflict message and writes nothing.
/// </summary>
public static partial class Commands
{
    const int ConflictExit = 4;

    // Options are read before Write runs the action, so an unknown option fails before anything is committed.
    static int Validate(Args a)
    {
        if (a.Get("cluster") is { } cluster) return ClusterStudyCommands.Validate(a, cluster);
        var (finding, status) = (Need(a, "finding"), Need(a, "status"));
        // Optional corrections while confirming (the "edit" of confirm / reject / edit).
        var edit = new FindingEdit(a.Get("edit-term"), a.Get("edit-laterality"), a.Get("edit-code"));
        return Write(a, (db, id, who, v) => db.ValidateFinding(id, finding, status, who, v, edit.IsEmpty ? null : edit));
    }

    static int Diagnose(Args a)
    {
        if (a.Get("cluster") is { } cluster) return ClusterStudyCommands.Diagnose(a, cluster);
        var (code, system, status, display) = (Need(a, "code"), Need(a, "system"), Need(a, "status"), a.Get("display"));
        return Write(a, (db, id, who, v) => db.SetDiagnosis(id, code, system, status, who, v, display));
    }

    static int Region(Args a)
    {
        if (a.Get("cluster") is { } cluster) return ClusterStudyCommands.Region(a, cluster);
        var (slice, label) = (Need(a, "slice"), Need(a, "label"));
        // A box (x,y,w,h) or a polygon (x1,y1,x2,y2,x3,y3,…), in pixels of the slice.
        if (a.Get("polygon") is { } polygon)
        {
            if (a.Get("box") != null) throw new UsageException("give --box or --polygon, not both");
            var points = RegionBox.ParsePolygon(polygon).Points;
            return Write(a, (db, id, who, v) => db.AddRegion(id, slice, points, label, who, v));
        }
        var box = RegionBox.Parse(Need(a, "box"));
        return Write(a, (db, id, who, v) => db.AddRegion(id, slice, box, label, who, v));
    }

    static string Need(Args a, string name) => a.Get(name) is { Length: > 0 } v ? v : throw new UsageException($"--{name} is required");

    static int Write(Args a, Func<CasebookDb, string, Attribution, long, ValidationResult> action)
    {
        if (a.Positional.Count != 1) throw new UsageException("needs exactly one STUDY_ID");
        var who = new Attribution(Need(a, "author"), Need(a, "role"), a.Get("reason"));
        var baseVersion = a.Long("base-version") ?? throw new UsageException("--base-version is required (the version you started from; see `history STUDY_ID`)");
        var json = a.Flag("json");
        using var db = OpenDb(a);
        a.EnsureAllUsed();
        ValidationResult r;
        try { r = action(db, a.Positional[0], who, baseVersion); }
        catch (ValidationConflictException e)
        {
            Console.Error.WriteLine($"casebook: {e.Message}");
            if (json) WriteJson(new JsonObject { ["error"] = "conflict", ["study_id"] = e.StudyId, ["base_version"] = e.BaseVersion, ["current_version"] = e.CurrentVersion, ["message"] = e.Message });
            return ConflictExit;
        }
        db.SaveIndexes();
        if (json) WriteJson(new JsonObject { ["study_id"] = r.StudyId, ["version"] = r.Version, ["action"] = r.Action, ["change"] = r.Change.DeepClone() });
        else Console.Out.WriteLine($"study {r.StudyId}: {r.Action} committed as version {r.Version}");
        return 0;
    }

    static int History(Args a)
    {
        if (a.Get("cluster") is { } cluster) return ClusterStudyCommands.History(a, cluster);
        if (a.Positional.Count != 1) throw new UsageException("history needs exactly one STUDY_ID");
        var json = a.Flag("json");
        using var db = OpenDb(a);
        a.EnsureAllUsed();
        var entries = db.History(a.Positional[0]);
        if (json)
        {
            WriteJson(new JsonObject
            {
                ["study_id"] = a.Positional[0],
                ["versions"] = new JsonArray(entries.Select(e => (JsonNode)e.ToJson()).ToArray()),
            });
            return 0;
        }
        foreach (var e in entries)
            Console.Out.WriteLine($"{e.Version,5}  {e.Time}  {e.Author}{(e.Role != null ? $" ({e.Role})" : "")}  {e.Message}  [{string.Join(", ", e.Changed)}]");
        return 0;
    }

    static int Similar(Args a)
    {
        if (a.Get("cluster") is { } cluster) return ClusterStudyCommands.Similar(a, cluster);
        var text = a.Positional.Count > 0 ? string.Join(' ', a.Positional) : null;
        var study = a.Get("study");
        var imagePath = a.Get("image");
        var regionSpec = a.Get("region");
        var limit = (int)(a.Long("limit") ?? 10);
        if (limit is < 1 or > 1000) throw new UsageException("--limit must be 1..1000");
        var json = a.Flag("json");
        var filter = a.Get("where");
        using var db = OpenDb(a);
        a.EnsureAllUsed();
        if (regionSpec != null)
        {
            // --study ID --region SEGMENT_ID:x,y,w,h: regions (clinician-drawn boxes) that look like this crop.
            if (study == null) throw new UsageException("--region needs --study ID (the study the slice belongs to)");
            var colon = regionSpec.LastIndexOf(':');
            if (colon <= 0) throw new UsageException($"--region '{regionSpec}': expected SEGMENT_ID:x,y,w,h");
            var hits = SimilarCases.Regions(db, study, regionSpec[..colon], RegionBox.Parse(regionSpec[(colon + 1)..]), limit);
            var node = new JsonObject
            {
                ["results"] = new JsonArray(hits.Select(h => (JsonNode)new JsonObject
                {
                    ["study_id"] = h.StudyId, ["region_id"] = h.RegionId, ["label"] = h.Label, ["score"] = Math.Round(h.Score, 6),
                }).ToArray()),
            };
            if (json) WriteJson(node);
            else foreach (var h in hits) Console.Out.WriteLine($"{h.Score,8:0.0000}  {h.StudyId}  {h.RegionId}  {h.Label}");
            return 0;
        }
        byte[]? image = null;
        if (imagePath != null)
        {
            if (!File.Exists(imagePath)) throw new UsageException($"--image '{imagePath}' does not exist");
            image = File.ReadAllBytes(imagePath);
        }
        var result = db.Similar(new SimilarQuery(study, image, text, limit, filter));
        if (json) { WriteJson(result.ToJson()); return 0; }
        foreach (var r in result.Results)
            Console.Out.WriteLine($"{r.Score,8:0.0000}  {r.StudyId}  {r.Outcomes.Count} outcomes");
        Console.Out.WriteLine($"summary over {result.Results.Count} similar studies:");
        foreach (var s in result.Summary)
            Console.Out.WriteLine($"  {s.Count,4}  {s.Code}  {s.Display}  ({string.Join(", ", s.StudyIds)})");
        return 0;
    }
}

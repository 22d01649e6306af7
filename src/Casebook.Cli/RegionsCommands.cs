using System.Globalization;
using System.Text.Json.Nodes;

namespace Casebook.Cli;

/// <summary>
/// Regions of interest (issue 8). Contract, keep stable:
/// <c>regions STUDY_ID [--db DIR] --json</c> →
/// <c>{"study_id","regions":[{"region_id","label","source","shape","slice","slices","instances","pixel","patient",
/// "voxel_count","volume_mm3"|"area_mm2","features",…}]}</c> (docs/regions.md). The <c>region</c> verb (one clinician box or
/// polygon) is separate (ValidationCommands).
/// </summary>
public static partial class Commands
{
    static int Regions(Args a)
    {
        if (a.Get("cluster") is { } cluster) return ClusterStudyCommands.Regions(a, cluster);
        if (a.Positional.Count != 1) throw new UsageException("regions needs exactly one STUDY_ID");
        var json = a.Flag("json");
        using var db = OpenDb(a);
        a.EnsureAllUsed();
        var studyId = a.Positional[0];
        var regions = db.Regions(studyId);
        // Clinician regions predate the source field: they are the clinician's.
        foreach (var r in regions.OfType<JsonObject>()) if (r["source"] == null) r["source"] = "clinician";
        if (json)
        {
            WriteJson(new JsonObject { ["study_id"] = studyId, ["regions"] = regions });
            return 0;
        }
        Console.Out.WriteLine($"study {studyId}: {regions.Count} region(s)");
        foreach (var r in regions.OfType<JsonObject>())
        {
            var size = r["volume_mm3"] is { } v ? $"{v.GetValue<double>().ToString("0.#", CultureInfo.InvariantCulture)} mm³"
                : r["area_mm2"] is { } ar ? $"{ar.GetValue<double>().ToString("0.#", CultureInfo.InvariantCulture)} mm²" : "";
            var slices = r["slices"] is JsonArray s ? $"{s.Count} slice(s)" : r["slice"]?.GetValue<string>() ?? "";
            Console.Out.WriteLine($"  {r["region_id"],-40} {r["source"],-9} {r["label"],-24} {size,-16} {slices}");
        }
        return 0;
    }
}

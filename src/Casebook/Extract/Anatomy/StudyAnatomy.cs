using System.Text.Json.Nodes;
using Casebook.Extract.Volumes;
using Casebook.Model;

namespace Casebook.Extract.Anatomy;

/// <summary>
/// Writes what the pixels and headers say about anatomy into a study's <c>anatomical_regions</c>, next to what its text
/// says (<see cref="Clinical.StudyAnnotation"/>, <c>"source": "text"</c>). Each producer replaces only its own entries:
/// <c>"source": "header"</c> (Body Part Examined of the study and its series), <c>"rule"</c> (<see cref="CtRuleMasks"/>) and
/// <c>"model:NAME"</c> (<see cref="OnnxSegmentationModel"/>).
/// </summary>
public static class StudyAnatomy
{
    public const string HeaderSource = "header";

    /// <summary>Body Part Examined (DICOM defined terms, or a manifest's body_part column) of the study and each series.</summary>
    public static void AddFromHeader(StudyRecord study)
    {
        var parts = new SortedDictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        void Add(string? part, string? series)
        {
            if (string.IsNullOrWhiteSpace(part)) return;
            var key = part.Trim().ToUpperInvariant();
            if (!parts.TryGetValue(key, out var set)) parts[key] = set = new SortedSet<string>(StringComparer.Ordinal);
            if (series != null) set.Add(series);
        }
        Add(Text(study.Metadata["body_part"]), null);
        if (study.Metadata["dicom"]?["series"] is JsonArray seriesList)
            foreach (var s in seriesList.OfType<JsonObject>())
                Add(Text(s["body_part"]), Text(s["series_uid"]));
        Replace(study, n => Text(n?["source"]) == HeaderSource, parts.Select(p => (JsonNode)new JsonObject
        {
            ["term"] = p.Key.ToLowerInvariant().Replace('_', ' '),
            ["category"] = "anatomy",
            ["body_part_examined"] = p.Key,
            ["series"] = new JsonArray(p.Value.Select(v => (JsonNode)JsonValue.Create(v)).ToArray()),
            ["source"] = HeaderSource,
        }).ToList());
    }

    /// <summary>Structures found in one series' volume (rule masks or a model), with their sizes and bounding boxes in mm.</summary>
    public static void AddFromPixels(StudyRecord study, string source, string? seriesUid, ImageVolume volume, IEnumerable<AnatomyStructure> structures, string? modelId = null)
    {
        var entries = new List<JsonNode>();
        foreach (var s in structures)
        {
            var o = new JsonObject
            {
                ["term"] = s.Name,
                ["category"] = "anatomy",
                ["source"] = source,
                ["series"] = seriesUid,
                ["voxels"] = s.VoxelCount,
                ["volume_ml"] = Math.Round(s.VolumeMl, 2),
                ["mean_hu"] = Math.Round(s.MeanHu, 1),
            };
            if (volume.Nz == 1) o["area_mm2"] = Math.Round(s.VoxelCount * volume.Spacing[0] * volume.Spacing[1], 1);
            if (s.BoundingBox() is { } b)
            {
                var lo = volume.ToPatient(b.X0, b.Y0, b.Z0);
                var hi = volume.ToPatient(b.X1, b.Y1, b.Z1);
                o["bbox_voxels"] = new JsonArray(b.X0, b.Y0, b.Z0, b.X1, b.Y1, b.Z1);
                o["bbox_mm"] = new JsonArray(lo.Concat(hi).Select(v => (JsonNode)JsonValue.Create(Math.Round(v, 1))).ToArray());
            }
            if (modelId != null) o["model"] = modelId;
            entries.Add(o);
        }
        // One series' structures replace that series' earlier ones from the same source; other series stay.
        Replace(study, n => Text(n?["source"]) == source && Text(n?["series"]) == seriesUid, entries);
    }

    /// <summary>Drops the entries <paramref name="replaced"/> selects and appends <paramref name="entries"/>.</summary>
    static void Replace(StudyRecord study, Func<JsonNode?, bool> replaced, IReadOnlyList<JsonNode> entries)
    {
        var keep = study.AnatomicalRegions.Where(n => !replaced(n)).Select(n => n!.DeepClone()).ToList();
        study.AnatomicalRegions = new JsonArray(keep.Concat(entries).ToArray());
    }

    static string? Text(JsonNode? n) => n is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
}

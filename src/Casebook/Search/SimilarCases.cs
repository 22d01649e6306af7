using System.Diagnostics;
using System.Numerics.Tensors;
using System.Text.Json.Nodes;
using Casebook.Model;
using Casebook.Timeline;
using Casebook.Validation;

namespace Casebook.Search;

/// <summary>What to find cases like: a study, an image (PNG/JPEG/DICOM bytes) or text (exactly one of them).</summary>
public sealed record SimilarQuery(string? StudyId = null, byte[]? Image = null, string? Text = null, int Limit = 10, string? Filter = null);

/// <summary>A similar study with its outcomes (clinician diagnoses and timeline outcomes after it).</summary>
public sealed record SimilarCase(string StudyId, double Score, JsonArray Outcomes);

/// <summary>One outcome over the result set: how many of the similar studies had it, and which.</summary>
public sealed record SimilarOutcomeCount(string Code, string? Display, int Count, IReadOnlyList<string> StudyIds);

public sealed record SimilarResult(IReadOnlyList<SimilarCase> Results, IReadOnlyList<SimilarOutcomeCount> Summary, double TookMs)
{
    /// <summary>The contract of <c>casebook similar --json</c>.</summary>
    public JsonObject ToJson() => new()
    {
        ["results"] = new JsonArray(Results.Select(r => (JsonNode)new JsonObject
        {
            ["study_id"] = r.StudyId, ["score"] = r.Score, ["outcomes"] = r.Outcomes.DeepClone(),
        }).ToArray()),
        ["summary"] = new JsonArray(Summary.Select(s => (JsonNode)new JsonObject
        {
            ["code"] = s.Code, ["display"] = s.Display, ["count"] = s.Count,
            ["study_ids"] = new JsonArray(s.StudyIds.Select(i => (JsonNode)JsonValue.Create(i)).ToArray()),
        }).ToArray()),
    };
}

/// <summary>
/// Similar cases with outcomes. A study query combines image and text evidence: its slices' image vectors mean-pooled (and
/// re-normalised) search the image index, its report text runs the hybrid text search, and the lists are fused like any search
/// (weighted RRF); the study itself is left out. Each hit carries its outcomes: the clinician's diagnoses on it (validation,
/// which outrank: a refuted diagnosis removes the same code from its timeline outcomes) and <see cref="CasebookDb.Outcomes"/>.
/// The summary counts, per code, how many of the hits had it (confirmed diagnoses, procedures, medications, …), with the ids.
/// </summary>
public static class SimilarCases
{
    /// <summary>Longest piece of a study's report used as the text query (the start holds findings and impression).</summary>
    public const int MaxQueryText = 2000;

    public static SimilarResult Run(CasebookDb db, SimilarQuery q)
    {
        var clock = Stopwatch.StartNew();
        if ((q.StudyId != null ? 1 : 0) + (q.Image != null ? 1 : 0) + (q.Text != null ? 1 : 0) != 1)
            throw new ArgumentException("similar takes exactly one of a study id, an image file or text");
        if (q.Limit < 1) throw new ArgumentException("--limit must be at least 1");
        SearchQuery search;
        if (q.StudyId != null)
        {
            var study = db.GetStudy(q.StudyId) ?? throw new ArgumentException($"study '{q.StudyId}' does not exist");
            var text = StudyText(study);
            var pooled = PooledImage(study);
            if (text == null && pooled == null) throw new ArgumentException($"study '{q.StudyId}' has neither text nor embedded images to compare");
            search = db.Search(text, null);
            if (pooled != null) search.WithImageVector(pooled);
        }
        else search = db.Search(q.Text, q.Image);
        // One more than asked for, since the query study itself is usually the best hit.
        search.Limit(q.Limit + 1).MatchesPerStudy(1);
        if (q.Filter != null) search.Where(q.Filter);
        var hits = search.ToList().Where(h => h.StudyId != q.StudyId).Take(q.Limit).ToList();
        var results = hits.Select(h => new SimilarCase(h.StudyId, h.Score, OutcomesOf(db, h.StudyId))).ToList();
        return new SimilarResult(results, Summarise(results), clock.Elapsed.TotalMilliseconds);
    }

    /// <summary>Search by a region: the crop of a slice (box in pixels) against the image_region segments (clinician-drawn regions).</summary>
    public static IReadOnlyList<(string StudyId, string RegionId, string? Label, double Score)> Regions(CasebookDb db, string studyId, string sliceSegmentId, RegionBox box, int limit)
    {
        var study = db.GetStudy(studyId) ?? throw new ArgumentException($"study '{studyId}' does not exist");
        var slice = study.Segments.FirstOrDefault(g => g.SegmentId == sliceSegmentId && g.Blob != null)
            ?? throw new ArgumentException($"study '{studyId}' has no image segment '{sliceSegmentId}'");
        var (pixels, _) = RegionCrops.Load(db.ReadBlob(slice.Blob!), study.Metadata);
        box.CheckWithin(pixels.Width, pixels.Height, sliceSegmentId);
        var vector = RegionCrops.Embed(db.ImageEmbedder, RegionCrops.Crop(pixels, box));
        return RegionsByVector(db, vector, limit);
    }

    /// <summary>Regions whose crops look most like <paramref name="vector"/> (cosine), best first.</summary>
    public static IReadOnlyList<(string StudyId, string RegionId, string? Label, double Score)> RegionsByVector(CasebookDb db, float[] vector, int limit)
    {
        var hits = db.Search(null, null).WithImageVector(vector).Where($"kind = '{SegmentKind.ImageRegion}'").Limit(limit).MatchesPerStudy(limit).Exact().ToList();
        return hits.SelectMany(h => h.Matches.Select(m => (h.StudyId, m.SegmentId, m.Text, m.Score)))
            .OrderByDescending(x => x.Score).ThenBy(x => x.SegmentId, StringComparer.Ordinal).Take(limit).ToList();
    }

    /// <summary>The text a study query searches with (report, else its paragraphs), cut to <see cref="MaxQueryText"/>.</summary>
    public static string? StudyText(StudyRecord s)
    {
        var text = !string.IsNullOrWhiteSpace(s.ReportText) ? s.ReportText
            : string.Join("\n", s.Segments.Where(g => g.Kind is SegmentKind.ReportParagraph or SegmentKind.DictationSegment && !string.IsNullOrWhiteSpace(g.Text)).Select(g => g.Text));
        if (string.IsNullOrWhiteSpace(text)) return null;
        return text.Length <= MaxQueryText ? text : text[..MaxQueryText];
    }

    /// <summary>The study's slice vectors mean-pooled and re-normalised (null when it has none).</summary>
    public static float[]? PooledImage(StudyRecord s)
    {
        var vectors = s.Segments.Where(g => g.Kind == SegmentKind.ImageSlice && g.ImageEmbedding != null).Select(g => g.ImageEmbedding!).ToList();
        if (vectors.Count == 0) return null;
        var mean = new float[vectors[0].Length];
        foreach (var v in vectors) TensorPrimitives.Add(mean, v, mean);
        var norm = TensorPrimitives.Norm(mean);
        if (norm > 0) TensorPrimitives.Divide(mean, norm, mean);
        return mean;
    }

    /// <summary>Clinician diagnoses (every status, marked) first, then timeline outcomes less the codes a clinician refuted.</summary>
    public static JsonArray OutcomesOf(CasebookDb db, string studyId)
    {
        var study = db.GetStudy(studyId, withSegments: false)!;
        var outcomes = new JsonArray();
        var refuted = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var d in (study.Metadata["diagnoses"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var status = d["status"]?.GetValue<string>();
            if (status == DiagnosisStatus.Refuted) { refuted.Add(d["code"]!.GetValue<string>()); continue; }
            outcomes.Add(new JsonObject
            {
                ["kind"] = OutcomeKind.Diagnosis, ["origin"] = "validation", ["code_system"] = d["system"]?.DeepClone(), ["code"] = d["code"]?.DeepClone(),
                ["display"] = d["display"]?.DeepClone(), ["status"] = status, ["author"] = d["author"]?.DeepClone(), ["time"] = d["time"]?.DeepClone(),
            });
        }
        foreach (var o in db.Outcomes(studyId))
        {
            if (o.Event.Code != null && refuted.Contains(o.Event.Code)) continue;
            var json = o.ToJson();
            json.Insert(1, "origin", "timeline");
            outcomes.Add(json);
        }
        return outcomes;
    }

    /// <summary>Per code (or display when uncoded): the hits that had it. Provisional clinician diagnoses are not counted.</summary>
    public static List<SimilarOutcomeCount> Summarise(List<SimilarCase> results)
    {
        var groups = new Dictionary<string, (string? Display, SortedSet<string> Ids)>(StringComparer.OrdinalIgnoreCase);
        foreach (var r in results)
            foreach (var o in r.Outcomes.OfType<JsonObject>())
            {
                if (o["origin"]?.GetValue<string>() == "validation" && o["status"]?.GetValue<string>() != DiagnosisStatus.Confirmed) continue;
                var key = o["code"]?.GetValue<string>() ?? o["display"]?.GetValue<string>();
                if (key == null) continue;
                if (!groups.TryGetValue(key, out var g)) groups[key] = g = (o["display"]?.GetValue<string>(), new SortedSet<string>(StringComparer.Ordinal));
                if (g.Display == null && o["display"]?.GetValue<string>() is { } d) groups[key] = g = (d, g.Ids);
                g.Ids.Add(r.StudyId);
            }
        return groups.Select(kv => new SimilarOutcomeCount(kv.Key, kv.Value.Display, kv.Value.Ids.Count, kv.Value.Ids.ToList()))
            .OrderByDescending(s => s.Count).ThenBy(s => s.Code, StringComparer.Ordinal).ToList();
    }
}

using System.Numerics.Tensors;
using System.Text.Json.Nodes;
using Casebook.Model;

namespace Casebook.Findings;

/// <summary>Which feature blocks a classifier may use.</summary>
[Flags]
public enum FeatureBlocks
{
    None = 0,
    /// <summary>The mean of the study's image-slice vectors (e.g. ResNet-18, 512-d), re-normalised.</summary>
    Image = 1,
    /// <summary>The mean of the study's report/dictation paragraph vectors (e.g. MiniLM, 384-d), re-normalised.</summary>
    Text = 2,
    /// <summary>Numeric region features (radiomics) from <c>image_regions[*].features</c>, averaged over the study's regions.</summary>
    Radiomics = 4,
    Default = Image | Radiomics,
}

/// <summary>
/// The layout of a model's feature vector, fixed at training and stored with the model so that suggestion builds the same
/// vector: [image block | text block | radiomics block]. A block a study lacks is zeros (as it was in training).
/// </summary>
public sealed record FeatureLayout(string? ImageModel, int ImageDim, string? TextModel, int TextDim, IReadOnlyList<string> RadiomicsKeys)
{
    public int Length => ImageDim + TextDim + RadiomicsKeys.Count;

    /// <summary>Studies need at least half of the training examples to carry a block for it to be used (a block most lack is noise).</summary>
    public static FeatureLayout Choose(IReadOnlyList<StudyRecord> studies, FeatureBlocks blocks)
    {
        string? imageModel = null, textModel = null;
        int imageDim = 0, textDim = 0;
        if (blocks.HasFlag(FeatureBlocks.Image))
            (imageModel, imageDim) = Dominant(studies, s => s.Segments.Where(g => g.Kind == SegmentKind.ImageSlice && g.ImageEmbedding != null)
                .Select(g => (g.ImageModel, g.ImageEmbedding!.Length)));
        if (blocks.HasFlag(FeatureBlocks.Text))
            (textModel, textDim) = Dominant(studies, s => s.Segments.Where(g => IsReportText(g) && g.TextEmbedding != null)
                .Select(g => (g.TextModel, g.TextEmbedding!.Length)));
        var keys = new List<string>();
        if (blocks.HasFlag(FeatureBlocks.Radiomics))
            keys = studies.SelectMany(s => RegionFeatures(s).Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        return new FeatureLayout(imageModel, imageDim, textModel, textDim, keys);

        (string?, int) Dominant(IReadOnlyList<StudyRecord> all, Func<StudyRecord, IEnumerable<(string? Model, int Dim)>> vectors)
        {
            var perStudy = all.Select(s => vectors(s).FirstOrDefault()).Where(v => v.Model != null).ToList();
            var top = perStudy.GroupBy(v => v).OrderByDescending(g => g.Count()).FirstOrDefault();
            return top != null && top.Count() * 2 >= all.Count ? top.Key : (null, 0);
        }
    }

    /// <summary>The study's feature vector, or null when it has none of the layout's blocks.</summary>
    public float[]? Vector(StudyRecord study)
    {
        var v = new float[Length];
        var any = false;
        if (ImageModel != null)
            any |= MeanInto(study.Segments.Where(g => g.Kind == SegmentKind.ImageSlice && g.ImageModel == ImageModel && g.ImageEmbedding?.Length == ImageDim)
                .Select(g => g.ImageEmbedding!), v.AsSpan(0, ImageDim));
        if (TextModel != null)
            any |= MeanInto(study.Segments.Where(g => IsReportText(g) && g.TextModel == TextModel && g.TextEmbedding?.Length == TextDim)
                .Select(g => g.TextEmbedding!), v.AsSpan(ImageDim, TextDim));
        if (RadiomicsKeys.Count > 0)
        {
            var features = RegionFeatures(study);
            var offset = ImageDim + TextDim;
            for (var i = 0; i < RadiomicsKeys.Count; i++)
                if (features.TryGetValue(RadiomicsKeys[i], out var x)) { v[offset + i] = (float)x; any = true; }
        }
        return any ? v : null;
    }

    public JsonObject ToJson() => new()
    {
        ["image_model"] = ImageModel, ["image_dim"] = ImageDim, ["text_model"] = TextModel, ["text_dim"] = TextDim,
        ["radiomics_keys"] = new JsonArray(RadiomicsKeys.Select(k => (JsonNode)JsonValue.Create(k)).ToArray()),
    };

    public static FeatureLayout FromJson(JsonObject o) => new(
        o["image_model"]?.GetValue<string>(), o["image_dim"]?.GetValue<int>() ?? 0, o["text_model"]?.GetValue<string>(), o["text_dim"]?.GetValue<int>() ?? 0,
        (o["radiomics_keys"] as JsonArray ?? []).Select(k => k!.GetValue<string>()).ToList());

    /// <summary>Report and dictation text only: a region's segment text is the clinician's label, which would leak the answer.</summary>
    static bool IsReportText(SegmentRecord g) => g.Kind is SegmentKind.ReportParagraph or SegmentKind.DictationSegment;

    static bool MeanInto(IEnumerable<float[]> vectors, Span<float> target)
    {
        var n = 0;
        foreach (var x in vectors) { TensorPrimitives.Add(target, x, target); n++; }
        if (n == 0) return false;
        var norm = TensorPrimitives.Norm(target);
        if (norm > 0) TensorPrimitives.Divide(target, norm, target);
        return true;
    }

    /// <summary>
    /// Numeric features of the study's regions, averaged per key: each region's <c>features</c> object read generically
    /// (numbers, and numbers one level down as "group.key"); non-finite values are skipped.
    /// </summary>
    public static Dictionary<string, double> RegionFeatures(StudyRecord study)
    {
        var sums = new Dictionary<string, (double Sum, int N)>(StringComparer.Ordinal);
        void Add(string key, JsonNode? node)
        {
            if (node is not JsonValue value || !value.TryGetValue<double>(out var x) || !double.IsFinite(x)) return;
            sums[key] = sums.TryGetValue(key, out var s) ? (s.Sum + x, s.N + 1) : (x, 1);
        }
        foreach (var region in study.ImageRegions.OfType<JsonObject>())
        {
            if (region["features"] is not JsonObject features) continue;
            foreach (var (key, node) in features)
                if (node is JsonObject group) foreach (var (inner, value) in group) Add($"{key}.{inner}", value);
                else Add(key, node);
        }
        return sums.ToDictionary(kv => kv.Key, kv => kv.Value.Sum / kv.Value.N, StringComparer.Ordinal);
    }
}

namespace Casebook.Search.Filtering;

public enum FilterFieldType
{
    /// <summary>Text compared case-insensitively; <c>contains</c> is a substring test.</summary>
    Text,
    /// <summary>ISO date text (yyyy-MM-dd); literals must be dates.</summary>
    Date,
    /// <summary>A JSON array of strings (or of objects with a name); only <c>contains</c> and <c>IS [NOT] NULL</c>.</summary>
    List,
    /// <summary>A metadata value: text or number as stored in the JSON object.</summary>
    Json,
}

/// <summary>
/// A field the filter language knows. <see cref="SqlExpression"/> is fixed SQL over the aliases <c>s</c>
/// (study row) and <c>g</c> (segment row); it is built only from this catalogue or from a validated
/// metadata key, never from values.
/// </summary>
public sealed record FilterField(string Name, FilterFieldType Type, string SqlExpression, bool IsSegmentField = false, bool IsCode = false)
{
    /// <summary>For metadata fields, <c>json_type</c> of the value (to tell numbers from text); null otherwise.</summary>
    public string? JsonTypeExpression { get; init; }
    /// <summary>A field of one entry of <c>image_regions</c> (alias <c>r</c>): predicates on it ask whether some region matches.</summary>
    public bool IsRegionField { get; init; }
}

/// <summary>The catalogue of filterable fields.</summary>
public static class FilterFields
{
    /// <summary>Metadata keys that may be written bare (<c>body_part = 'CHEST'</c>); any other key is <c>metadata.key</c>.</summary>
    public static readonly IReadOnlyList<string> MetadataKeys =
    [
        "body_part", "sex", "age_band", "device", "manufacturer", "manufacturer_model", "station", "institution",
        "study_description", "series_description", "view_position", "laterality", "projection", "specialty",
        "source", "language",
    ];

    /// <summary>Longest accepted metadata key, so paths stay short and predictable.</summary>
    public const int MaxMetadataKeyLength = 64;

    static readonly Dictionary<string, FilterField> Known = Build();

    static Dictionary<string, FilterField> Build()
    {
        var d = new Dictionary<string, FilterField>(StringComparer.OrdinalIgnoreCase);
        void Add(FilterField f) => d[f.Name] = f;
        Add(new("study_id", FilterFieldType.Text, "s.study_id"));
        Add(new("patient_pseudo_id", FilterFieldType.Text, "s.patient_pseudo_id"));
        Add(new("modality", FilterFieldType.Text, "s.modality"));
        Add(new("exam_date", FilterFieldType.Date, "s.exam_date"));
        Add(new("dicom_mime", FilterFieldType.Text, "s.dicom_mime"));
        Add(new("report_text", FilterFieldType.Text, "s.report_text"));
        Add(new("clinical_codes", FilterFieldType.List, "s.clinical_codes", IsCode: true));
        Add(new("anatomical_regions", FilterFieldType.List, "s.anatomical_regions"));
        Add(new("pathology_findings", FilterFieldType.List, "s.pathology_findings"));
        Add(new("risk_factors", FilterFieldType.List, "s.risk_factors"));
        Add(new("timeline_events", FilterFieldType.List, "s.timeline_events"));
        d["temporal_events"] = d["timeline_events"]; // the seed's second name for the one timeline list
        Add(new("kind", FilterFieldType.Text, "g.kind", IsSegmentField: true));
        // 'true' when a clinician validated a finding or set a diagnosis on the study (Validation/); `validated = true`.
        Add(new("validated", FilterFieldType.Text, ValidatedSql));
        foreach (var key in MetadataKeys) Add(Metadata(key));
        return d;
    }

    const string ValidatedSql = "(CASE WHEN EXISTS (SELECT 1 FROM json_each(s.pathology_findings) AS vf WHERE json_extract(vf.value, '$.validated') = 1)"
        + " OR json_array_length(json_extract(s.metadata, '$.diagnoses')) > 0 THEN 'true' ELSE 'false' END)";

    /// <summary>Every bare field name, in catalogue order.</summary>
    public static IReadOnlyList<string> Names { get; } = Known.Keys.ToList();

    /// <summary>Resolves a field name or <c>metadata.key</c> path; null when unknown or malformed.</summary>
    public static FilterField? Resolve(string name)
    {
        if (Known.TryGetValue(name, out var f)) return f;
        if (name.StartsWith(RegionPrefix, StringComparison.OrdinalIgnoreCase)) return Region(name[RegionPrefix.Length..]);
        const string prefix = "metadata.";
        if (name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
        {
            var key = name[prefix.Length..];
            return IsValidKey(key) ? Metadata(key) : null;
        }
        return null;
    }

    /// <summary>A metadata key must be an identifier: ASCII letter or '_' first, then letters, digits, '_'.</summary>
    public static bool IsValidKey(string key)
    {
        if (key.Length == 0 || key.Length > MaxMetadataKeyLength) return false;
        if (!(char.IsAsciiLetter(key[0]) || key[0] == '_')) return false;
        foreach (var c in key) if (!(char.IsAsciiLetterOrDigit(c) || c == '_')) return false;
        return true;
    }

    // The key is spliced into the JSON path (not a bound parameter) so that an expression index on
    // json_extract(metadata, '$.key') can serve the filter; IsValidKey guarantees it is [A-Za-z0-9_] only.
    static FilterField Metadata(string key) => new(key, FilterFieldType.Json, $"json_extract(s.metadata, '$.\"{key}\"')")
    {
        JsonTypeExpression = $"json_type(s.metadata, '$.\"{key}\"')",
    };

    public const string RegionPrefix = "region.";

    /// <summary>Text fields of a region entry (docs/regions.md); any other <c>region.key</c> is a numeric feature.</summary>
    public static readonly IReadOnlyList<string> RegionTextKeys =
        ["label", "source", "shape", "status", "interpreted_type", "segmentation_type", "region_id", "slice", "description"];

    // Regions (issue 8): region.label / region.source / … are the entry's own fields ("clinician" for entries without a
    // source: clinician boxes predate it); region.type and region.category are the SEG's coded meaning (type_code,
    // category_code the code); anything else is a feature under "features" (volume_mm3, mean, sphericity, …). Keys pass
    // IsValidKey before they are spliced into the JSON path, as metadata keys do.
    static FilterField? Region(string key)
    {
        if (!IsValidKey(key)) return null;
        var lower = key.ToLowerInvariant();
        string? text = lower switch
        {
            "source" => "coalesce(json_extract(r.value, '$.source'), 'clinician')",
            "type" or "category" => $"json_extract(r.value, '$.{lower}.meaning')",
            "type_code" or "category_code" => $"json_extract(r.value, '$.{lower[..^5]}.code')",
            _ when RegionTextKeys.Contains(lower) => $"json_extract(r.value, '$.\"{lower}\"')",
            _ => null,
        };
        if (text != null) return new FilterField(RegionPrefix + lower, FilterFieldType.Text, text) { IsRegionField = true };
        return new FilterField(RegionPrefix + key, FilterFieldType.Json, $"json_extract(r.value, '$.features.\"{key}\"')")
        {
            JsonTypeExpression = $"json_type(r.value, '$.features.\"{key}\"')",
            IsRegionField = true,
        };
    }

    /// <summary>Closest known name for "did you mean" hints, or null when nothing is close.</summary>
    public static string? Suggest(string name)
    {
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (var known in Known.Keys)
        {
            int d = Distance(name.ToLowerInvariant(), known);
            if (d < bestDistance) { bestDistance = d; best = known; }
        }
        return bestDistance <= Math.Max(1, name.Length / 3) ? best : null;
    }

    static int Distance(string a, string b)
    {
        if (a.Length > 100) return int.MaxValue;
        var prev = new int[b.Length + 1];
        var cur = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) prev[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            cur[0] = i;
            for (int j = 1; j <= b.Length; j++)
                cur[j] = Math.Min(Math.Min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (prev, cur) = (cur, prev);
        }
        return prev[b.Length];
    }
}

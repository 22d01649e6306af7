using System.Text.Json;
using System.Text.Json.Nodes;

namespace Casebook.Search;

/// <summary>
/// The JSON of a search answer: the contract of <c>casebook search --json</c> and of the server's <c>GET /api/search</c>.
/// Both write through here so the two cannot drift.
/// </summary>
public static class SearchResultJson
{
    static readonly JsonSerializerOptions Compact = new() { WriteIndented = false };

    public static JsonObject ToJson(SearchResult result) => new()
    {
        ["results"] = new JsonArray(result.Results.Select(h => (JsonNode)new JsonObject
        {
            ["study_id"] = h.StudyId,
            ["patient_pseudo_id"] = h.PatientPseudoId,
            ["score"] = h.Score,
            ["modality"] = h.Modality,
            ["exam_date"] = h.ExamDate,
            ["matches"] = new JsonArray(h.Matches.Select(m => (JsonNode)new JsonObject
            {
                ["segment_id"] = m.SegmentId, ["kind"] = m.Kind, ["text"] = m.Text, ["score"] = m.Score, ["snippet"] = m.Snippet,
            }).ToArray()),
        }).ToArray()),
        ["took_ms"] = Math.Round(result.TookMs, 3),
    };

    /// <summary>One line of compact JSON (no trailing newline).</summary>
    public static string Serialize(SearchResult result) => ToJson(result).ToJsonString(Compact);
}

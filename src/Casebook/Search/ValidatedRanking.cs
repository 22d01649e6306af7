using System.Text.Json.Nodes;
using Casebook.Storage;
using Microsoft.Data.Sqlite;

namespace Casebook.Search;

/// <summary>
/// Validated findings weigh more: one more fused list ranks the studies whose clinician-confirmed findings (pathology_findings
/// with <c>validated</c> and <c>confirmed</c>) or confirmed diagnoses (metadata.diagnoses) name a concept of the query. It has no
/// segments of its own, so it only lifts studies that the other lists already found; a study a clinician rejected the finding
/// for is not lifted.
/// </summary>
internal static class ValidatedRanking
{
    public static SearchExecutor.RankedList? List(SqliteConnection c, string query, long version, double weight)
    {
        // Only studies a validation commit touched are read (version_attribution is indexed by study), so a database without
        // validations pays one lookup in sqlite_master per search.
        if (CasebookDb.Scalar<long>(c, null, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'version_attribution'") == 0) return null;
        var q = " " + Normalise(query) + " ";
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"""
            SELECT s.study_id, s.pathology_findings, s.metadata FROM studies s
            WHERE {Schema.ValidAt} AND s.study_id IN (SELECT study_id FROM version_attribution)
              AND (s.pathology_findings LIKE '%"validated":true%' OR s.metadata LIKE '%"diagnoses"%')
            ORDER BY s.study_id
            """;
        cmd.Parameters.AddWithValue("@asof", version);
        var hits = new List<(string StudyId, double Score)>();
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            var terms = new List<string>();
            foreach (var f in (JsonNode.Parse(r.GetString(1)) as JsonArray ?? []).OfType<JsonObject>())
                if (f["validated"]?.GetValue<bool>() == true && f["confirmed"]?.GetValue<bool>() == true && f["term"]?.GetValue<string>() is { } t) terms.Add(t);
            if (JsonNode.Parse(r.GetString(2)) is JsonObject m && m["diagnoses"] is JsonArray ds)
                foreach (var d in ds.OfType<JsonObject>().Where(d => d["status"]?.GetValue<string>() == "confirmed"))
                {
                    if (d["display"]?.GetValue<string>() is { } display) terms.Add(display);
                    if (d["code"]?.GetValue<string>() is { } code) terms.Add(code);
                }
            var matched = terms.Count(t => Normalise(t) is { Length: > 0 } n && q.Contains(" " + n + " ", StringComparison.Ordinal));
            if (matched > 0) hits.Add((r.GetString(0), matched));
        }
        if (hits.Count == 0) return null;
        return new SearchExecutor.RankedList([], weight, hits.OrderByDescending(h => h.Score).ThenBy(h => h.StudyId, StringComparer.Ordinal).ToList());
    }

    /// <summary>Lower case, letters/digits/dots kept, everything else one space.</summary>
    static string Normalise(string text)
    {
        var chars = text.ToLowerInvariant().Select(ch => char.IsLetterOrDigit(ch) || ch == '.' ? ch : ' ').ToArray();
        return string.Join(' ', new string(chars).Split(' ', StringSplitOptions.RemoveEmptyEntries));
    }
}

using System.Text.Json;
using Casebook.Extract.Clinical;
using Microsoft.Data.Sqlite;

namespace Casebook.Search;

/// <summary>
/// Assertion-aware ranking for the lists that rank segments by their text (dense text retrieval, segment-level BM25):
/// a segment that mentions a finding of the query only as negated ("No pneumothorax.") is moved below every segment
/// that does not deny it, keeping the order within each group. Embeddings place "no pneumothorax" next to
/// "pneumothorax", so without this a denial can outrank an affirmation. The mentions come from the study's stored
/// <c>pathology_findings</c> / <c>risk_factors</c> evidence (segment ids), so a query costs one small read, not a
/// re-analysis. Document-level BM25 needs no re-ranking: its index holds negated mentions as marked tokens
/// (<see cref="StudyAnnotation.MatchText"/>).
/// </summary>
internal static class AssertionRanking
{
    public static List<SearchExecutor.RankedList> DemoteDenials(SqliteConnection c, string queryText, List<SearchExecutor.RankedList> lists)
    {
        static bool Applies(SearchExecutor.RankedList l) => l.Studies == null && !l.IsImage;
        // The query's own findings, affirmed in the query ("pneumothorax", not "no pneumothorax").
        var wanted = ClinicalAnalyzer.Default.Analyze(queryText).Concepts
            .Where(m => m.Category != ConceptCategory.Anatomy && !m.Assertion.Negated).Select(m => m.Term).ToHashSet(StringComparer.Ordinal);
        if (wanted.Count == 0) return lists;
        var rows = lists.Where(Applies).SelectMany(l => l.Segments).Select(r => r.RowId).Distinct().ToList();
        if (rows.Count == 0) return lists;
        var denies = Denials(c, rows, wanted);
        if (denies.Count == 0) return lists;
        return lists.Select(l =>
        {
            if (!Applies(l)) return l;
            var kept = l.Segments.Where(x => !denies.Contains(x.RowId)).ToList();
            if (kept.Count == l.Segments.Count) return l;
            // Scores drop below the lowest kept one (order within the denied group kept), for single-list native scores too.
            var floor = kept.Count > 0 ? kept.Min(x => x.Score) : 0;
            var ceiling = l.Segments.Max(x => x.Score);
            var demoted = l.Segments.Where(x => denies.Contains(x.RowId)).Select(x => x with { Score = floor - 1 - (ceiling - x.Score) });
            return l with { Segments = kept.Concat(demoted).ToList() };
        }).ToList();
    }

    /// <summary>Segments (row ids) whose mentions of the wanted terms are all negated, by the studies' stored evidence.</summary>
    static HashSet<long> Denials(SqliteConnection c, List<long> rows, HashSet<string> wanted)
    {
        var segmentRow = new Dictionary<string, long>(StringComparer.Ordinal);
        var studyFindings = new Dictionary<long, string>();
        using (var cmd = c.CreateCommand())
        {
            cmd.CommandText = """
                SELECT g.row_id, g.segment_id, s.row_id, s.pathology_findings, s.risk_factors
                FROM segments g JOIN studies s ON s.row_id = g.study_row_id WHERE g.row_id IN (SELECT value FROM json_each(@ids))
                """;
            cmd.Parameters.AddWithValue("@ids", "[" + string.Join(",", rows) + "]");
            using var r = cmd.ExecuteReader();
            while (r.Read())
            {
                segmentRow[r.GetString(1)] = r.GetInt64(0);
                studyFindings.TryAdd(r.GetInt64(2), r.GetString(3) + "\u0000" + r.GetString(4));
            }
        }
        var negated = new HashSet<string>(StringComparer.Ordinal);
        var affirmed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var json in studyFindings.Values.SelectMany(v => v.Split('\u0000')))
        {
            if (!json.Contains("\"evidence\"", StringComparison.Ordinal)) continue;
            using var doc = JsonDocument.Parse(json);
            foreach (var o in doc.RootElement.EnumerateArray())
            {
                if (o.ValueKind != JsonValueKind.Object || !o.TryGetProperty("term", out var term) || !wanted.Contains(term.GetString() ?? "")) continue;
                if (!o.TryGetProperty("evidence", out var evidence) || evidence.ValueKind != JsonValueKind.Array) continue;
                bool isNegated = o.TryGetProperty("negated", out var n) && n.ValueKind == JsonValueKind.True;
                foreach (var e in evidence.EnumerateArray())
                    if (e.TryGetProperty("segment", out var seg) && seg.GetString() is { } id && segmentRow.ContainsKey(id))
                        (isNegated ? negated : affirmed).Add(id);
            }
        }
        return negated.Where(id => !affirmed.Contains(id)).Select(id => segmentRow[id]).ToHashSet();
    }
}

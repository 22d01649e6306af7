using Casebook.Extract.Clinical;
using Microsoft.Data.Sqlite;

namespace Casebook.Search;

/// <summary>
/// Assertion-aware ranking for the lists that rank segments by their text (dense text retrieval, segment-level BM25):
/// a segment that mentions a finding of the query only as negated ("No pneumothorax.") is moved below every segment
/// that does not deny it, keeping the order within each group. Embeddings place "no pneumothorax" next to
/// "pneumothorax", so without this a denial can outrank an affirmation. Document-level BM25 needs no re-ranking: its
/// index holds negated mentions as marked tokens (<see cref="StudyAnnotation.MatchText"/>).
/// </summary>
internal static class AssertionRanking
{
    public static List<SearchExecutor.RankedList> DemoteDenials(SqliteConnection c, string queryText, List<SearchExecutor.RankedList> lists)
    {
        static bool applies(SearchExecutor.RankedList l) => l.Studies == null && !l.IsImage;
        var analyzer = ClinicalAnalyzer.Default;
        // The query's own findings, affirmed in the query ("pneumothorax", not "no pneumothorax").
        var wanted = analyzer.Analyze(queryText).Concepts
            .Where(m => m.Category != ConceptCategory.Anatomy && !m.Assertion.Negated).Select(m => m.Term).ToHashSet(StringComparer.Ordinal);
        if (wanted.Count == 0) return lists;
        var segmentLists = lists.Where(applies).ToList();
        var rows = segmentLists.SelectMany(l => l.Segments).Select(r => r.RowId).Distinct().ToList();
        if (rows.Count == 0) return lists;
        var denies = new HashSet<long>();
        using (var cmd = c.CreateCommand())
        {
            cmd.CommandText = "SELECT row_id, text FROM segments WHERE text IS NOT NULL AND row_id IN (SELECT value FROM json_each(@ids))";
            cmd.Parameters.AddWithValue("@ids", "[" + string.Join(",", rows) + "]");
            using var r = cmd.ExecuteReader();
            while (r.Read())
            {
                var mentions = analyzer.Analyze(r.GetString(1)).Concepts.Where(m => wanted.Contains(m.Term)).ToList();
                if (mentions.Count > 0 && mentions.All(m => m.Assertion.Negated)) denies.Add(r.GetInt64(0));
            }
        }
        if (denies.Count == 0) return lists;
        return lists.Select(l =>
        {
            if (!applies(l)) return l;
            var segs = l.Segments;
            var kept = segs.Where(x => !denies.Contains(x.RowId)).ToList();
            if (kept.Count == segs.Count) return l;
            // Scores drop below the lowest kept one (order within the denied group kept), for single-list native scores too.
            var floor = kept.Count > 0 ? kept.Min(x => x.Score) : 0;
            var ceiling = segs.Max(x => x.Score);
            var demoted = segs.Where(x => denies.Contains(x.RowId)).Select(x => x with { Score = floor - 1 - (ceiling - x.Score) });
            return l with { Segments = kept.Concat(demoted).ToList() };
        }).ToList();
    }
}

using System.Diagnostics;
using System.Numerics.Tensors;
using Casebook.Embed;
using Casebook.Index;
using Casebook.Search.Filtering;
using Casebook.Search.Text;
using Casebook.Storage;
using Microsoft.Data.Sqlite;

namespace Casebook.Search;

/// <summary>
/// Runs a <see cref="SearchQuery"/>: the filter is compiled to parameterised SQL and applied BEFORE ranking
/// (keyword search filters inside SQL; vector search restricts the index to the filtered candidates, or scans
/// them exactly), each ranked list (BM25, dense text, image) is turned into a ranking of studies by their best
/// segment, lists are fused with weighted reciprocal rank fusion, and studies are answered with their best segments.
/// </summary>
internal static class SearchExecutor
{
    internal sealed record Ranked(long RowId, double Score);

    /// <summary>
    /// One ranked list. Segment lists rank studies by their best segment; a list with <see cref="Studies"/> ranks
    /// studies directly (document-level BM25) and its segments only supply the matches shown.
    /// </summary>
    internal sealed record RankedList(List<Ranked> Segments, double Weight, List<(string StudyId, double Score)>? Studies = null)
    {
        public bool IsImage { get; init; }
    }

    public static SearchResult Run(CasebookDb db, SearchQuery q)
    {
        var clock = Stopwatch.StartNew();
        if (q.Text == null && q.ImageBytes == null && q.QueryVector == null && q.ImageVector == null)
            throw new ArgumentException("a search needs text, an image, or both");
        using var c = db.Connect();
        var current = db.ResolveVersion(c, null);
        var version = q.AsOfVersion == null ? current : db.ResolveVersion(c, q.AsOfVersion);
        var filter = q.Filter == null ? null : FilterCompiler.Compile(q.Filter);
        // Segments per ranked list: enough to fill the study limit several times over after grouping.
        var depth = Math.Max(50, q.LimitValue * 4);

        var lists = new List<RankedList>();
        string? snippetMatch = null;
        if (q.Text != null && q.ModeValue != SearchMode.Dense)
        {
            // Expansions (abbreviations, synonyms) get their own, lighter list: FTS5 cannot weight terms, and mixing
            // them into the user's query lowered NFCorpus BM25 nDCG@10 from 0.306 to 0.300.
            var phrases = Fts5Query.Phrases(q.Text, q.ExpandQuery ? MedicalQueryExpansion.Default : null);
            snippetMatch = Fts5Query.ToMatchExpression(phrases);
            lists.Add(Bm25(c, q, Fts5Query.ToMatchExpression(phrases.Where(p => !p.IsExpansion)), version, filter, depth, q.Bm25Weight));
            if (phrases.Any(p => p.IsExpansion))
                lists.Add(Bm25(c, q, Fts5Query.ToMatchExpression(phrases.Where(p => p.IsExpansion)), version, filter, depth, q.Bm25Weight * q.ExpansionWeight));
        }
        if ((q.Text != null || q.QueryVector != null) && q.ModeValue != SearchMode.Bm25)
        {
            var vector = q.QueryVector ?? db.TextEmbedder.Embed([q.Text!])[0];
            lists.Add(new(Dense(db, c, SegmentVectorIndexes.TextKind, db.TextEmbedder.Model.Id, vector, q, version, current, filter, depth), q.DenseWeight));
        }
        if (q.ImageVector != null)
            lists.Add(new(Dense(db, c, SegmentVectorIndexes.ImageKind, db.ImageEmbedder.Model.Id, q.ImageVector, q, version, current, filter, depth), q.ImageWeight) { IsImage = true });
        else if (q.ImageBytes != null)
        {
            var vector = ShardSearch.EmbedImageQuery(db.ImageEmbedder, q.ImageBytes);
            lists.Add(new(Dense(db, c, SegmentVectorIndexes.ImageKind, db.ImageEmbedder.Model.Id, vector, q, version, current, filter, depth), q.ImageWeight) { IsImage = true });
        }
        if (q.Text != null && q.AssertionAwareValue) lists = AssertionRanking.DemoteDenials(c, q.Text, lists);
        if (q.Text != null && q.ValidatedWeight > 0 && ValidatedRanking.List(c, q.Text, version, q.ValidatedWeight) is { } validated) lists.Add(validated);
        var hits = Fuse(c, lists, q);
        if (!string.IsNullOrEmpty(snippetMatch)) hits = AddSnippets(c, snippetMatch, hits);
        return new SearchResult(hits, clock.Elapsed.TotalMilliseconds);
    }

    internal static void Bind(SqliteCommand cmd, long version, CompiledFilter? filter)
    {
        cmd.Parameters.AddWithValue("@asof", version);
        if (filter != null) foreach (var p in filter.Parameters) cmd.Parameters.Add(p.Clone());
    }

    static string FilterSql(CompiledFilter? f) => f == null ? "" : $" AND ({f.Sql})";

    /// <summary>
    /// Keyword ranking. Studies are ranked by BM25 over their whole text (studies_fts); the matching segments of the
    /// top studies come from segments_fts. A filter on segment fields (kind) ranks segments instead.
    /// </summary>
    static RankedList Bm25(SqliteConnection c, SearchQuery q, string match, long version, CompiledFilter? filter, int depth, double weight)
    {
        if (match.Length == 0) return new([], weight);
        if (filter is { UsesSegmentFields: true }) return new(SegmentBm25(c, match, version, filter, depth, null), weight);
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"""
            SELECT s.row_id, s.study_id, bm25(studies_fts) AS rank
            FROM studies_fts JOIN studies s ON s.row_id = studies_fts.rowid
            WHERE studies_fts MATCH @match AND {Schema.ValidAt}{FilterSql(filter)}
            ORDER BY rank, s.study_id LIMIT @limit
            """;
        cmd.Parameters.AddWithValue("@match", match);
        cmd.Parameters.AddWithValue("@limit", Math.Max(q.LimitValue * 2, 20));
        Bind(cmd, version, filter);
        var studies = new List<(string, double)>();
        var rows = new List<long>();
        using (var r = cmd.ExecuteReader())
            while (r.Read()) { rows.Add(r.GetInt64(0)); studies.Add((r.GetString(1), -r.GetDouble(2))); }
        return new(rows.Count == 0 ? [] : SegmentBm25(c, match, version, null, depth, rows), weight, studies);
    }

    // Equal ranks (segments with the same terms and length) in segment_id order: the order a cluster's merge gives them
    // (ShardSearch.Merge), whose shards number their rows differently.
    static List<Ranked> SegmentBm25(SqliteConnection c, string match, long version, CompiledFilter? filter, int depth, List<long>? studyRows)
    {
        using var cmd = c.CreateCommand();
        var within = studyRows == null ? "" : " AND g.study_row_id IN (SELECT value FROM json_each(@rows))";
        cmd.CommandText = $"""
            SELECT g.row_id, bm25(segments_fts) AS rank
            FROM segments_fts JOIN segments g ON g.row_id = segments_fts.rowid JOIN studies s ON s.row_id = g.study_row_id
            WHERE segments_fts MATCH @match AND {Schema.ValidAt}{FilterSql(filter)}{within}
            ORDER BY rank, g.segment_id LIMIT @depth
            """;
        cmd.Parameters.AddWithValue("@match", match);
        cmd.Parameters.AddWithValue("@depth", depth);
        if (studyRows != null) cmd.Parameters.AddWithValue("@rows", "[" + string.Join(",", studyRows) + "]");
        Bind(cmd, version, filter);
        var list = new List<Ranked>();
        using var r = cmd.ExecuteReader();
        while (r.Read()) list.Add(new Ranked(r.GetInt64(0), -r.GetDouble(1)));
        return list;
    }

    /// <summary>FTS snippets (matched terms in [ ]) for the segments actually shown, not for every ranked candidate.</summary>
    static List<StudyHit> AddSnippets(SqliteConnection c, string match, List<StudyHit> hits)
    {
        if (hits.Count == 0) return hits;
        using var cmd = c.CreateCommand();
        cmd.CommandText = """
            SELECT g.segment_id, snippet(segments_fts, 0, '[', ']', '…', 24)
            FROM segments_fts JOIN segments g ON g.row_id = segments_fts.rowid
            WHERE segments_fts MATCH @match AND g.row_id IN (SELECT value FROM json_each(@rows))
            """;
        cmd.Parameters.AddWithValue("@match", match);
        cmd.Parameters.AddWithValue("@rows", "[" + string.Join(",", hits.SelectMany(h => h.Matches).Select(m => m.RowId)) + "]");
        var snippets = new Dictionary<string, string>();
        using (var r = cmd.ExecuteReader()) while (r.Read()) snippets[r.GetString(0)] = r.GetString(1);
        return hits.Select(h => h with { Matches = h.Matches.Select(m => m with { Snippet = snippets.GetValueOrDefault(m.SegmentId) }).ToList() }).ToList();
    }

    internal static List<Ranked> Dense(CasebookDb db, SqliteConnection c, SegmentVectorIndexes.Kind kind, string queryModel, float[] vector,
        SearchQuery q, long version, long current, CompiledFilter? filter, int depth)
    {
        // Only live rows are in the approximate index; older versions are scanned exactly from their stored vectors.
        if (version == current)
        {
            var (index, model) = db.VectorIndexes.Get(c, kind);
            if (index == null) return [];
            if (model != queryModel)
                throw new InvalidOperationException($"the database's {kind.Name} vectors were made by '{model}' but the query is embedded with '{queryModel}'; re-embed the column ({kind.Name}) or configure the same model");
            var candidates = filter == null ? null : Candidates(c, kind, version, filter);
            IReadOnlyList<VectorHit> SearchOnce(float[] v) => (q.ExactValue, candidates) switch
            {
                (true, null) => index.SearchExact(v, depth),
                (true, _) => index.SearchExact(v, depth, candidates),
                (false, null) => index.Search(v, depth),
                (false, _) => index.Search(v, depth, candidates),
            };
            var found = SearchOnce(vector);
            if (q.FeedbackDocs > 0 && found.Count > 0 && kind == SegmentVectorIndexes.TextKind)
            {
                // Rocchio feedback: move the query toward its best segments and search again (same path, same filter).
                var moved = (float[])vector.Clone();
                var buffer = new float[vector.Length];
                var used = 0;
                foreach (var hit in found.Take(q.FeedbackDocs))
                    if (index.TryGetVector(hit.Key, buffer)) { TensorPrimitives.MultiplyAdd(buffer, (float)(q.FeedbackWeight / q.FeedbackDocs), moved, moved); used++; }
                if (used > 0)
                {
                    TensorPrimitives.Divide(moved, TensorPrimitives.Norm(moved), moved);
                    found = SearchOnce(moved);
                }
            }
            return found.Select(f => new Ranked(f.Key, f.Score)).ToList();
        }
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"""
            SELECT g.row_id, g.{kind.VectorColumn}, g.{kind.ModelColumn}, g.segment_id FROM segments g JOIN studies s ON s.row_id = g.study_row_id
            WHERE g.{kind.VectorColumn} IS NOT NULL AND {Schema.ValidAt}{FilterSql(filter)}
            """;
        Bind(cmd, version, filter);
        var scored = new List<(Ranked Hit, string SegmentId)>();
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            var model = r.IsDBNull(2) ? null : r.GetString(2);
            if (model != queryModel)
                throw new InvalidOperationException($"segment vectors at version {version} were made by '{model}', the query by '{queryModel}'");
            var v = RowCodec.BytesToVector(r.GetValue(1))!;
            scored.Add((new Ranked(r.GetInt64(0), TensorPrimitives.Dot(vector, v)), r.GetString(3)));
        }
        // Equal scores (segments with the same text) in segment_id order, not row order: a cluster's shards, which number their
        // rows differently, merge their lists the same way (ShardSearch.Merge), so ties rank alike on one node and on a cluster.
        return scored.OrderByDescending(x => x.Hit.Score).ThenBy(x => x.SegmentId, StringComparer.Ordinal).Take(depth).Select(x => x.Hit).ToList();
    }

    static HashSet<long> Candidates(SqliteConnection c, SegmentVectorIndexes.Kind kind, long version, CompiledFilter filter)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT g.row_id FROM segments g JOIN studies s ON s.row_id = g.study_row_id WHERE g.{kind.VectorColumn} IS NOT NULL AND {Schema.ValidAt}{FilterSql(filter)}";
        Bind(cmd, version, filter);
        var set = new HashSet<long>();
        using var r = cmd.ExecuteReader();
        while (r.Read()) set.Add(r.GetInt64(0));
        return set;
    }

    /// <summary>RankFusion over segments keyed by row id (weighted RRF at study level; ties to study_id).</summary>
    static List<StudyHit> Fuse(SqliteConnection c, List<RankedList> lists, SearchQuery q)
    {
        var info = SegmentInfo(c, lists.SelectMany(l => l.Segments.Select(x => x.RowId)).Distinct().ToList());
        var inputs = lists.Select(l => new RankFusion.Input<long>(
            l.Segments.Select(x => new RankFusion.Item<long>(x.RowId, info.TryGetValue(x.RowId, out var g) ? g.StudyId : null, x.Score)).ToList(), l.Weight, l.Studies)).ToList();
        return RankFusion.Fuse(inputs, q.RrfK, q.LimitValue, q.SegmentsPerStudy, row => info[row].SegmentId).Select(f =>
        {
            var first = info[f.Segments[0].Key];
            return new StudyHit(f.StudyId, first.PatientPseudoId, Math.Round(f.Score, 6), first.Modality, first.ExamDate,
                f.Segments.Select(x => { var g = info[x.Key]; return new SegmentHit(g.SegmentId, g.Kind, g.Text, Math.Round(x.Score, 6), null) { RowId = x.Key }; }).ToList());
        }).ToList();
    }

    internal sealed record SegmentRow(string SegmentId, string Kind, string? Text, string StudyId, string PatientPseudoId, string? Modality, string? ExamDate);

    internal static Dictionary<long, SegmentRow> SegmentInfo(SqliteConnection c, List<long> rowIds)
    {
        var map = new Dictionary<long, SegmentRow>();
        foreach (var chunk in rowIds.Chunk(500))
        {
            using var cmd = c.CreateCommand();
            cmd.CommandText = $"""
                SELECT g.row_id, g.segment_id, g.kind, g.text, s.study_id, s.patient_pseudo_id, s.modality, s.exam_date
                FROM segments g JOIN studies s ON s.row_id = g.study_row_id WHERE g.row_id IN (SELECT value FROM json_each(@ids))
                """;
            cmd.Parameters.AddWithValue("@ids", "[" + string.Join(",", chunk) + "]");
            using var r = cmd.ExecuteReader();
            while (r.Read())
                map[r.GetInt64(0)] = new SegmentRow(r.GetString(1), r.GetString(2), r.IsDBNull(3) ? null : r.GetString(3), r.GetString(4), r.GetString(5),
                    r.IsDBNull(6) ? null : r.GetString(6), r.IsDBNull(7) ? null : r.GetString(7));
        }
        return map;
    }
}

using System.Diagnostics;
using Casebook.Search.Filtering;
using Casebook.Search.Text;
using Casebook.Storage;
using Microsoft.Data.Sqlite;

namespace Casebook.Search;

// Scatter-gather search over shards (src/Casebook.Cluster, docs/cluster.md). A shard is an ordinary Casebook
// directory holding some patients; the coordinator asks every shard for its BM25 statistics, sums them into
// global statistics, asks every shard for its ranked lists scored with those global statistics, and fuses the
// merged lists with the single node's RankFusion.

/// <summary>BM25 statistics of one FTS5 table for a list of phrases: rows, tokens and per-phrase document frequency.
/// They add up over shards (a study lives in exactly one shard), which is what makes the sum the single-node value.</summary>
public sealed record FtsStats(long Rows, long Tokens, long[] DocFreq)
{
    public static FtsStats Sum(IEnumerable<FtsStats> parts)
    {
        var list = parts.ToList();
        var df = new long[list.Count == 0 ? 0 : list[0].DocFreq.Length];
        foreach (var p in list) for (var i = 0; i < df.Length; i++) df[i] += p.DocFreq[i];
        return new FtsStats(list.Sum(p => p.Rows), list.Sum(p => p.Tokens), df);
    }
}

/// <summary>A shard's statistics for every phrase of a query (main and expansion phrases together), in studies_fts and segments_fts,
/// and its best dense hits for the query vector (the candidates of global pseudo-relevance feedback; null in BM25 mode).</summary>
public sealed record ShardStats(FtsStats Studies, FtsStats Segments, List<ShardVector>? Nearest = null);

/// <summary>One dense hit with its stored (unit) vector: the coordinator picks the global best of these for feedback.</summary>
public sealed record ShardVector(string SegmentId, double Score, float[] Vector);

/// <summary>A search sent to every shard. <see cref="Global"/> is null in the statistics round.</summary>
public sealed record ShardSearchRequest
{
    public string? Text { get; init; }
    public float[]? QueryVector { get; init; }
    /// <summary>A query image's vector (ShardSearch.EmbedImageQuery), searched against image slices.</summary>
    public float[]? ImageVector { get; init; }
    public string? Filter { get; init; }
    public int Limit { get; init; } = 10;
    public SearchMode Mode { get; init; } = SearchMode.Hybrid;
    public bool Exact { get; init; }
    public bool Expand { get; init; } = true;
    public double ExpansionWeight { get; init; } = 0.2;
    public double Bm25Weight { get; init; } = 1.0;
    public double DenseWeight { get; init; } = 1.0;
    public double ImageWeight { get; init; } = 1.0;
    /// <summary>Weight of the validated-findings list (ValidatedRanking); 0 leaves it out, as on one node.</summary>
    public double ValidatedWeight { get; init; } = 0.5;
    public int RrfK { get; init; } = 60;
    public int SegmentsPerStudy { get; init; } = 3;
    /// <summary>Dense pseudo-relevance feedback (SearchQuery.Feedback). The coordinator applies it once over all shards
    /// (<see cref="WithFeedback"/>) and sends round two the moved vector with 0 here, so no shard moves the query on its own.</summary>
    public int FeedbackDocs { get; init; } = 3;
    public double FeedbackWeight { get; init; } = 0.5;
    public ShardStats? Global { get; init; }
    /// <summary>A cluster-wide as-of: a log sequence (docs/cluster.md, "Time travel"); each shard resolves it to <see cref="AsOfVersion"/>.</summary>
    public long? AsOfLogSeq { get; init; }
    /// <summary>The shard's own version to read (null: its current one). Set by the shard, never by the coordinator.</summary>
    public long? AsOfVersion { get; init; }
}

public sealed record ShardSegment(string SegmentId, string Kind, string? Text, string StudyId, string PatientPseudoId, string? Modality, string? ExamDate, double Score, string? Snippet);
public sealed record ShardStudyScore(string StudyId, double Score);
/// <summary>One ranked list from one shard: <see cref="Name"/> names it across shards (bm25, bm25-expansion, dense, image, validated).</summary>
public sealed record ShardList(string Name, double Weight, List<ShardSegment> Segments, List<ShardStudyScore>? Studies);

public static class ShardSearch
{
    const double K1 = 1.2, B = 0.75; // FTS5's bm25() constants

    /// <summary>A query image's vector: a DICOM query is rendered like an ingested slice (middle frame) and embedded from its pixels.</summary>
    public static float[] EmbedImageQuery(Casebook.Embed.IImageEmbedder embedder, byte[] image) =>
        Casebook.Ingest.Dicom.DicomSliceRendering.LooksLikeDicom(image) && embedder is Casebook.Embed.OnnxImageEmbedder onnx
            ? onnx.EmbedPixels(Casebook.Ingest.Dicom.DicomSliceRendering.RenderQuery(image))
            : embedder.Embed([image])[0];

    /// <summary>The phrases a query searches for, main phrases first, as FTS5 phrase strings (what the match expression quotes).</summary>
    public static (string[] Main, string[] Expansion) Phrases(string? text, bool expand)
    {
        if (text == null) return ([], []);
        var phrases = Fts5Query.Phrases(text, expand ? MedicalQueryExpansion.Default : null);
        return (Safe(phrases.Where(p => !p.IsExpansion)), Safe(phrases.Where(p => p.IsExpansion)));
    }

    // The same phrase strings Fts5Query.ToMatchExpression quotes (deduplicated the same way).
    static string[] Safe(IEnumerable<QueryPhrase> phrases)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        return phrases.Select(p => string.Join(' ', p.Tokens.SelectMany(t => TextAnalyzer.Tokenize(t)).Select(t => t.Term)))
            .Where(s => s.Length > 0 && seen.Add(s)).ToArray();
    }

    static string Match(IEnumerable<string> phrases) => string.Join(" OR ", phrases.Select(p => "\"" + p.Replace("\"", "\"\"") + "\""));

    /// <summary>Round one: this shard's BM25 statistics for the query's phrases (all rows of the FTS tables, as FTS5 counts them).</summary>
    public static ShardStats Statistics(CasebookDb db, ShardSearchRequest request)
    {
        var (main, expansion) = Phrases(request.Text, request.Expand);
        var all = main.Concat(expansion).ToArray();
        using var c = db.Connect();
        var bm25 = request.Text != null && request.Mode != SearchMode.Dense;
        var empty = new FtsStats(0, 0, new long[all.Length]);
        return new ShardStats(bm25 ? TableStats(c, "studies_fts", all) : empty, bm25 ? TableStats(c, "segments_fts", all) : empty, Nearest(db, c, request));
    }

    /// <summary>This shard's best <see cref="ShardSearchRequest.FeedbackDocs"/> dense hits for the query vector, searched
    /// exactly as one node's first feedback pass (same depth, filter and exactness) so the global best are one node's.</summary>
    static List<ShardVector>? Nearest(CasebookDb db, SqliteConnection c, ShardSearchRequest request)
    {
        if (request.QueryVector == null || request.Mode == SearchMode.Bm25 || request.FeedbackDocs <= 0) return null;
        var version = db.ResolveVersion(c, null);
        var filter = request.Filter == null ? null : FilterCompiler.Compile(request.Filter);
        var q = new SearchQuery(db, request.Text, null).Limit(request.Limit).Exact(request.Exact).Feedback(0);
        var found = SearchExecutor.Dense(db, c, Index.SegmentVectorIndexes.TextKind, db.TextEmbedder.Model.Id, request.QueryVector, q, version, version, filter, Math.Max(50, request.Limit * 4));
        var (index, _) = db.VectorIndexes.Get(c, Index.SegmentVectorIndexes.TextKind);
        if (index == null || found.Count == 0) return [];
        var ids = SearchExecutor.SegmentInfo(c, found.Take(request.FeedbackDocs).Select(f => f.RowId).ToList());
        var nearest = new List<ShardVector>();
        foreach (var hit in found.Take(request.FeedbackDocs))
        {
            var v = new float[request.QueryVector.Length];
            if (ids.TryGetValue(hit.RowId, out var info) && index.TryGetVector(hit.RowId, v)) nearest.Add(new ShardVector(info.SegmentId, hit.Score, v));
        }
        return nearest;
    }

    /// <summary>
    /// Global Rocchio feedback, as SearchExecutor.Dense does on one node: the query moves toward the best
    /// <see cref="ShardSearchRequest.FeedbackDocs"/> hits over all shards (added in rank order, then renormalised), and
    /// round two searches with the moved vector and no further feedback.
    /// </summary>
    public static ShardSearchRequest WithFeedback(ShardSearchRequest request, IEnumerable<ShardStats> perShard)
    {
        if (request.QueryVector == null || request.FeedbackDocs <= 0) return request;
        var best = perShard.SelectMany(s => s.Nearest ?? []).OrderByDescending(n => n.Score).ThenBy(n => n.SegmentId, StringComparer.Ordinal).Take(request.FeedbackDocs).ToList();
        if (best.Count == 0) return request with { FeedbackDocs = 0 };
        var moved = (float[])request.QueryVector.Clone();
        foreach (var n in best) System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(n.Vector, (float)(request.FeedbackWeight / request.FeedbackDocs), moved, moved);
        System.Numerics.Tensors.TensorPrimitives.Divide(moved, System.Numerics.Tensors.TensorPrimitives.Norm(moved), moved);
        return request with { QueryVector = moved, FeedbackDocs = 0 };
    }

    static FtsStats TableStats(SqliteConnection c, string table, string[] phrases)
    {
        var (rows, tokens) = Averages(c, table);
        var df = new long[phrases.Length];
        for (var i = 0; i < phrases.Length; i++)
            df[i] = CasebookDb.Scalar<long>(c, null, $"SELECT COUNT(*) FROM {table} WHERE {table} MATCH @m", ("@m", Match([phrases[i]])));
        return new FtsStats(rows, tokens, df);
    }

    /// <summary>FTS5's averages record (row id 1 of the %_data table): varint row count, then a varint token count per column.</summary>
    static (long Rows, long Tokens) Averages(SqliteConnection c, string table)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT block FROM {table}_data WHERE id = 1";
        if (cmd.ExecuteScalar() is not byte[] block || block.Length == 0) return (0, 0);
        var at = 0;
        var rows = Varint(block, ref at);
        long tokens = 0;
        while (at < block.Length) tokens += Varint(block, ref at);
        return (rows, tokens);
    }

    // SQLite's varint (FTS5 uses the same encoding): big-endian 7-bit groups, the ninth byte carries 8 bits.
    static long Varint(byte[] b, ref int at)
    {
        long v = 0;
        for (var i = 0; i < 8 && at < b.Length; i++)
        {
            var x = b[at++];
            v = (v << 7) | (long)(x & 0x7f);
            if ((x & 0x80) == 0) return v;
        }
        if (at < b.Length) v = (v << 8) | b[at++];
        return v;
    }

    /// <summary>
    /// Round two: this shard's ranked lists. BM25 lists are scored with the global statistics in
    /// <see cref="ShardSearchRequest.Global"/>, so merging them over shards gives the single-node order and scores.
    /// </summary>
    public static List<ShardList> Lists(CasebookDb db, ShardSearchRequest request)
    {
        using var c = db.Connect();
        var version = db.ResolveVersion(c, request.AsOfVersion);
        // An as-of search reads stored vectors exactly, as one node does for an older version (the index holds live rows only).
        var current = request.AsOfVersion == null ? version : -1;
        var filter = request.Filter == null ? null : FilterCompiler.Compile(request.Filter);
        var depth = Math.Max(50, request.Limit * 4);
        var lists = new List<SearchExecutor.RankedList>();
        var names = new List<string>();
        string? snippetMatch = null;
        var (main, expansion) = Phrases(request.Text, request.Expand);
        if (request.Text != null && request.Mode != SearchMode.Dense && request.Global != null)
        {
            snippetMatch = Match(main.Concat(expansion));
            var offsets = 0;
            foreach (var (phrases, name, weight) in new[] { (main, "bm25", request.Bm25Weight), (expansion, "bm25-expansion", request.Bm25Weight * request.ExpansionWeight) })
            {
                var from = offsets;
                offsets += phrases.Length;
                if (phrases.Length == 0) continue;
                lists.Add(Bm25(c, request, phrases, from, version, filter, depth, weight));
                names.Add(name);
            }
        }
        if ((request.Text != null || request.QueryVector != null) && request.Mode != SearchMode.Bm25)
        {
            var vector = request.QueryVector ?? db.TextEmbedder.Embed([request.Text!])[0];
            var q = new SearchQuery(db, request.Text, null).Limit(request.Limit).Exact(request.Exact).Feedback(request.FeedbackDocs, request.FeedbackWeight);
            lists.Add(new(SearchExecutor.Dense(db, c, Index.SegmentVectorIndexes.TextKind, db.TextEmbedder.Model.Id, vector, q, version, current, filter, depth), request.DenseWeight));
            names.Add("dense");
        }
        if (request.ImageVector != null)
        {
            var q = new SearchQuery(db, request.Text, null).Limit(request.Limit).Exact(request.Exact);
            lists.Add(new(SearchExecutor.Dense(db, c, Index.SegmentVectorIndexes.ImageKind, db.ImageEmbedder.Model.Id, request.ImageVector, q, version, current, filter, depth), request.ImageWeight) { IsImage = true });
            names.Add("image");
        }
        // Assertion-aware demotion is a property of each segment, so a shard can apply it to its own lists.
        if (request.Text != null) lists = AssertionRanking.DemoteDenials(c, request.Text, lists);
        // Validated findings are a property of each study: each shard ranks its own; the coordinator merges them uncut.
        if (request.Text != null && request.ValidatedWeight > 0 && ValidatedRanking.List(c, request.Text, version, request.ValidatedWeight) is { } validated)
        {
            lists.Add(validated);
            names.Add("validated");
        }
        var info = SearchExecutor.SegmentInfo(c, lists.SelectMany(l => l.Segments.Select(s => s.RowId)).Distinct().ToList());
        var snippets = snippetMatch == null ? new Dictionary<long, string>() : Snippets(c, snippetMatch, info.Keys);
        return lists.Select((l, i) => new ShardList(names[i], l.Weight,
            l.Segments.Where(s => info.ContainsKey(s.RowId)).Select(s =>
            {
                var g = info[s.RowId];
                return new ShardSegment(g.SegmentId, g.Kind, g.Text, g.StudyId, g.PatientPseudoId, g.Modality, g.ExamDate, s.Score, snippets.GetValueOrDefault(s.RowId));
            }).ToList(),
            l.Studies?.Select(s => new ShardStudyScore(s.StudyId, s.Score)).ToList())).ToList();
    }

    static SearchExecutor.RankedList Bm25(SqliteConnection c, ShardSearchRequest r, string[] phrases, int offset, long version, CompiledFilter? filter, int depth, double weight)
    {
        var global = r.Global!;
        var match = Match(phrases);
        if (filter is { UsesSegmentFields: true })
        {
            // Single node ranks segments only, with the filter; the coordinator keeps the global top `depth`.
            var segs = Scores(c, "segments_fts", phrases, offset, global.Segments);
            var eligible = Eligible(c, $"SELECT g.row_id FROM segments_fts JOIN segments g ON g.row_id = segments_fts.rowid JOIN studies s ON s.row_id = g.study_row_id WHERE segments_fts MATCH @match AND {Schema.ValidAt} AND ({filter.Sql})", match, version, filter);
            return new(eligible.Select(id => new SearchExecutor.Ranked(id, segs[id])).OrderByDescending(x => x.Score).ThenBy(x => x.RowId).Take(depth).ToList(), weight);
        }
        var studyScores = Scores(c, "studies_fts", phrases, offset, global.Studies);
        var studyRows = new Dictionary<long, string>();
        using (var cmd = c.CreateCommand())
        {
            cmd.CommandText = $"SELECT s.row_id, s.study_id FROM studies_fts JOIN studies s ON s.row_id = studies_fts.rowid WHERE studies_fts MATCH @match AND {Schema.ValidAt}{(filter == null ? "" : $" AND ({filter.Sql})")}";
            cmd.Parameters.AddWithValue("@match", match);
            SearchExecutor.Bind(cmd, version, filter);
            using var rd = cmd.ExecuteReader();
            while (rd.Read()) studyRows[rd.GetInt64(0)] = rd.GetString(1);
        }
        // The same cut as single node (its top max(2·limit, 20) studies); a study in the global cut is in its shard's cut.
        var top = studyRows.Select(kv => (Row: kv.Key, StudyId: kv.Value, Score: studyScores[kv.Key]))
            .OrderByDescending(x => x.Score).ThenBy(x => x.StudyId, StringComparer.Ordinal).Take(Math.Max(r.Limit * 2, 20)).ToList();
        if (top.Count == 0) return new([], weight, []);
        // Every matching segment of those studies (no depth cut here: the coordinator cuts after merging).
        var segScores = Scores(c, "segments_fts", phrases, offset, global.Segments);
        var rows = Eligible(c, $"SELECT g.row_id FROM segments_fts JOIN segments g ON g.row_id = segments_fts.rowid JOIN studies s ON s.row_id = g.study_row_id WHERE segments_fts MATCH @match AND {Schema.ValidAt} AND g.study_row_id IN (SELECT value FROM json_each(@rows))",
            match, version, null, ("@rows", "[" + string.Join(",", top.Select(t => t.Row)) + "]"));
        return new(rows.Select(id => new SearchExecutor.Ranked(id, segScores[id])).OrderByDescending(x => x.Score).ThenBy(x => x.RowId).ToList(), weight,
            top.Select(t => (t.StudyId, t.Score)).ToList());
    }

    static List<long> Eligible(SqliteConnection c, string sql, string match, long version, CompiledFilter? filter, params (string Name, object Value)[] extra)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.Parameters.AddWithValue("@match", match);
        foreach (var (n, v) in extra) cmd.Parameters.AddWithValue(n, v);
        SearchExecutor.Bind(cmd, version, filter);
        var list = new List<long>();
        using var rd = cmd.ExecuteReader();
        while (rd.Read()) list.Add(rd.GetInt64(0));
        return list;
    }

    /// <summary>
    /// BM25 of every row matching any phrase, with global statistics. FTS5 scores a phrase as
    /// idf·f·(k1+1)/(f + k1·(1−b+b·|D|/avgdl)); the shard's own bm25() per phrase gives f back (it is an integer count),
    /// and the row's length |D| comes from the %_docsize table, so the score can be recomputed with the global idf and avgdl.
    /// </summary>
    static Dictionary<long, double> Scores(SqliteConnection c, string table, string[] phrases, int offset, FtsStats global)
    {
        var (localRows, localTokens) = Averages(c, table);
        var localAvg = localRows == 0 ? 1 : (double)localTokens / localRows;
        var globalAvg = global.Rows == 0 ? 1 : (double)global.Tokens / global.Rows;
        var scores = new Dictionary<long, double>();
        var lengths = new Dictionary<long, long>();
        for (var i = 0; i < phrases.Length; i++)
        {
            var hits = new List<(long Row, double Score)>();
            using (var cmd = c.CreateCommand())
            {
                cmd.CommandText = $"SELECT rowid, -bm25({table}) FROM {table} WHERE {table} MATCH @m";
                cmd.Parameters.AddWithValue("@m", Match([phrases[i]]));
                using var rd = cmd.ExecuteReader();
                while (rd.Read()) hits.Add((rd.GetInt64(0), rd.GetDouble(1)));
            }
            if (hits.Count == 0) continue;
            var localIdf = Idf(localRows, hits.Count);
            var globalIdf = Idf(global.Rows, global.DocFreq[offset + i]);
            Lengths(c, table, hits.Select(h => h.Row).Where(r => !lengths.ContainsKey(r)), lengths);
            foreach (var (row, local) in hits)
            {
                var dl = lengths.GetValueOrDefault(row);
                var part = local / localIdf; // f·(k1+1)/(f + K)
                var kLocal = K1 * (1 - B + B * dl / localAvg);
                var f = Math.Round(part * kLocal / (K1 + 1 - part));
                var kGlobal = K1 * (1 - B + B * dl / globalAvg);
                scores[row] = scores.GetValueOrDefault(row) + globalIdf * (f * (K1 + 1) / (f + kGlobal));
            }
        }
        return scores;
    }

    static double Idf(long rows, long hits)
    {
        var idf = Math.Log((rows - hits + 0.5) / (hits + 0.5));
        return idf <= 0 ? 1e-6 : idf;
    }

    static void Lengths(SqliteConnection c, string table, IEnumerable<long> rows, Dictionary<long, long> into)
    {
        foreach (var chunk in rows.Chunk(500))
        {
            using var cmd = c.CreateCommand();
            cmd.CommandText = $"SELECT id, sz FROM {table}_docsize WHERE id IN (SELECT value FROM json_each(@ids))";
            cmd.Parameters.AddWithValue("@ids", "[" + string.Join(",", chunk) + "]");
            using var rd = cmd.ExecuteReader();
            while (rd.Read())
            {
                var sz = (byte[])rd.GetValue(1);
                var at = 0;
                long total = 0;
                while (at < sz.Length) total += Varint(sz, ref at);
                into[rd.GetInt64(0)] = total;
            }
        }
    }

    static Dictionary<long, string> Snippets(SqliteConnection c, string match, IEnumerable<long> rows)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT rowid, snippet(segments_fts, 0, '[', ']', '…', 24) FROM segments_fts WHERE segments_fts MATCH @match AND rowid IN (SELECT value FROM json_each(@rows))";
        cmd.Parameters.AddWithValue("@match", match);
        cmd.Parameters.AddWithValue("@rows", "[" + string.Join(",", rows) + "]");
        var map = new Dictionary<long, string>();
        using var rd = cmd.ExecuteReader();
        while (rd.Read()) map[rd.GetInt64(0)] = rd.GetString(1);
        return map;
    }

    /// <summary>
    /// The coordinator's merge: each named list is merged over shards (studies and segments by score, ties by id, cut
    /// where single node cuts) and the merged lists are fused by <see cref="RankFusion"/>, as on one node.
    /// </summary>
    public static SearchResult Merge(ShardSearchRequest request, IEnumerable<List<ShardList>> perShard, Stopwatch? clock = null)
    {
        clock ??= Stopwatch.StartNew();
        var depth = Math.Max(50, request.Limit * 4);
        var merged = new List<ShardList>();
        foreach (var group in perShard.SelectMany(s => s).GroupBy(l => l.Name).OrderBy(g => Order(g.Key)))
        {
            var weight = group.First().Weight;
            if (group.Key == "validated")
                // One node keeps every study of this list (it has no segments and no cut).
                merged.Add(new ShardList(group.Key, weight, [], group.SelectMany(l => l.Studies ?? []).OrderByDescending(s => s.Score).ThenBy(s => s.StudyId, StringComparer.Ordinal).ToList()));
            else if (group.Any(l => l.Studies != null))
            {
                var studies = group.SelectMany(l => l.Studies ?? []).OrderByDescending(s => s.Score).ThenBy(s => s.StudyId, StringComparer.Ordinal)
                    .Take(Math.Max(request.Limit * 2, 20)).ToList();
                var keep = studies.Select(s => s.StudyId).ToHashSet();
                var segs = group.SelectMany(l => l.Segments).Where(s => keep.Contains(s.StudyId)).OrderByDescending(s => s.Score)
                    .ThenBy(s => s.SegmentId, StringComparer.Ordinal).Take(depth).ToList();
                merged.Add(new ShardList(group.Key, weight, segs, studies));
            }
            else
                merged.Add(new ShardList(group.Key, weight, group.SelectMany(l => l.Segments).OrderByDescending(s => s.Score)
                    .ThenBy(s => s.SegmentId, StringComparer.Ordinal).Take(depth).ToList(), null));
        }
        return new SearchResult(Fuse(merged, request), clock.Elapsed.TotalMilliseconds);
    }

    // The single-node list order (SearchExecutor.Run), so fused sums add in the same order.
    static int Order(string name) => name switch { "bm25" => 0, "bm25-expansion" => 1, "dense" => 2, "image" => 3, "validated" => 4, _ => 5 };

    static List<StudyHit> Fuse(List<ShardList> lists, ShardSearchRequest q)
    {
        var info = lists.SelectMany(l => l.Segments).GroupBy(s => s.SegmentId).ToDictionary(g => g.Key, g => g.First());
        var inputs = lists.Select(l => new RankFusion.Input<string>(
            l.Segments.Select(s => new RankFusion.Item<string>(s.SegmentId, s.StudyId, s.Score)).ToList(), l.Weight, l.Studies?.Select(s => (s.StudyId, s.Score)).ToList())).ToList();
        return RankFusion.Fuse(inputs, q.RrfK, q.Limit, q.SegmentsPerStudy, id => id).Select(f =>
        {
            var first = info[f.Segments[0].Key];
            return new StudyHit(f.StudyId, first.PatientPseudoId, Math.Round(f.Score, 6), first.Modality, first.ExamDate,
                f.Segments.Select(x => { var g = info[x.Key]; return new SegmentHit(g.SegmentId, g.Kind, g.Text, Math.Round(x.Score, 6), g.Snippet); }).ToList());
        }).ToList();
    }
}

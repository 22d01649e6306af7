using System.Diagnostics;
using Casebook.Ingest;
using Casebook.Search;

namespace Casebook.Eval;

public sealed record IrMetrics(double NdcgAt10, double RecallAt100, int Queries, double MeanQueryMs, double MedianQueryMs);

/// <summary>
/// Retrieval quality on a TREC-style test collection: documents (id TAB text) are ingested as studies into a
/// temporary database through the normal pipeline, queries are run with the chosen mode, and graded nDCG@10
/// (gain = grade, log2 discount) and recall@100 are averaged over queries that have at least one judgment.
/// </summary>
public static class IrEvaluation
{
    public static IrMetrics Run(string docsTsv, string queriesTsv, string qrelsPath, string mode, string? keepDbDir = null, IProgress<Progress>? progress = null,
        Func<SearchQuery, SearchQuery>? configure = null)
    {
        var searchMode = ParseMode(mode);
        var docs = ReadTsv(docsTsv);
        var queries = ReadTsv(queriesTsv);
        var qrels = ReadQrels(qrelsPath);
        var dir = keepDbDir ?? Path.Combine(Path.GetTempPath(), "casebook-eval-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var db = CasebookDb.Open(dir, new CasebookOptions { KeyFile = Path.Combine(Path.GetTempPath(), "casebook-eval.key") });
            if (db.CurrentVersion == 0)
            {
                var inputs = docs.Select(d => new StudyInput(d.Id, d.Id, "eval", null, null, null, [], docsTsv) { ReportText = d.Text }).ToList();
                db.Ingest(inputs, new IngestOptions { BatchSize = 1024, Message = "eval corpus" }, progress);
            }
            return Evaluate(db, queries, qrels, searchMode, progress, configure);
        }
        finally
        {
            if (keepDbDir == null) try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    public static IrMetrics Evaluate(CasebookDb db, IReadOnlyList<(string Id, string Text)> queries, Dictionary<string, Dictionary<string, int>> qrels,
        SearchMode mode, IProgress<Progress>? progress = null, Func<SearchQuery, SearchQuery>? configure = null)
    {
        var judged = queries.Where(q => qrels.TryGetValue(q.Id, out var j) && j.Values.Any(g => g > 0)).ToList();
        // Warm-up: the first query pays for model and index loading.
        if (judged.Count > 0) db.Search(judged[0].Text).Mode(mode).Limit(100).Execute();
        double ndcg = 0, recall = 0;
        var times = new List<double>();
        var done = 0;
        foreach (var (id, text) in judged)
        {
            var clock = Stopwatch.StartNew();
            var query = db.Search(text).Mode(mode).Limit(100);
            if (configure != null) query = configure(query);
            var ranked = query.Execute().Results.Select(r => r.StudyId).ToList();
            times.Add(clock.Elapsed.TotalMilliseconds);
            var judgments = qrels[id];
            ndcg += Ndcg(ranked, judgments, 10);
            var relevant = judgments.Count(kv => kv.Value > 0);
            recall += (double)ranked.Take(100).Count(d => judgments.GetValueOrDefault(d) > 0) / relevant;
            progress?.Report(new Progress("queries", ++done, judged.Count));
        }
        var n = Math.Max(1, judged.Count);
        times.Sort();
        return new IrMetrics(ndcg / n, recall / n, judged.Count, times.Count == 0 ? 0 : times.Average(), times.Count == 0 ? 0 : times[times.Count / 2]);
    }

    public static double Ndcg(IReadOnlyList<string> ranked, IReadOnlyDictionary<string, int> grades, int k)
    {
        double dcg = 0;
        for (var i = 0; i < Math.Min(k, ranked.Count); i++)
            dcg += grades.GetValueOrDefault(ranked[i]) / Math.Log2(i + 2);
        var ideal = grades.Values.Where(g => g > 0).OrderDescending().Take(k).Select((g, i) => g / Math.Log2(i + 2)).Sum();
        return ideal == 0 ? 0 : dcg / ideal;
    }

    public static SearchMode ParseMode(string mode) => mode switch
    {
        "bm25" => SearchMode.Bm25, "dense" => SearchMode.Dense, "hybrid" => SearchMode.Hybrid,
        _ => throw new ArgumentException($"mode must be bm25, dense or hybrid, not '{mode}'"),
    };

    public static List<(string Id, string Text)> ReadTsv(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: file not found");
        var list = new List<(string, string)>();
        var line = 0;
        foreach (var l in File.ReadLines(path))
        {
            line++;
            if (l.Length == 0) continue;
            var tab = l.IndexOf('\t');
            if (tab <= 0) throw new InvalidDataException($"{path}:{line}: expected 'id<TAB>text'");
            list.Add((l[..tab], l[(tab + 1)..]));
        }
        return list;
    }

    /// <summary>TREC qrels: "qid 0 docid grade" (or "qid docid grade"), whitespace separated.</summary>
    public static Dictionary<string, Dictionary<string, int>> ReadQrels(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: file not found");
        var map = new Dictionary<string, Dictionary<string, int>>();
        var line = 0;
        foreach (var l in File.ReadLines(path))
        {
            line++;
            var f = l.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (f.Length == 0) continue;
            if (f.Length is not (3 or 4) || !int.TryParse(f[^1], out var grade)) throw new InvalidDataException($"{path}:{line}: expected 'qid 0 docid grade'");
            if (!map.TryGetValue(f[0], out var d)) map[f[0]] = d = new();
            d[f[^2]] = grade;
        }
        return map;
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Casebook.Eval;
using Casebook.Ingest;
using Casebook.Search;

namespace Casebook.Bench;

/// <summary>
/// Retrieval quality and hybrid-query latency: NFCorpus dev (title queries) and the IU X-ray MeSH collection,
/// bm25 / dense / hybrid, plus LanceDB 0.31's hybrid search on the same NFCorpus split in the same run.
/// </summary>
public static class IrBenchmarks
{
    public static string Run(string shared, string work)
    {
        var md = new StringBuilder();
        var nf = Path.Combine(shared, "ir", "nfcorpus-dev");
        var docs = IrEvaluation.ReadTsv(Path.Combine(nf, "dev.docs"));
        var queries = IrEvaluation.ReadTsv(Path.Combine(nf, "dev.titles.queries"));
        var qrels = IrEvaluation.ReadQrels(Path.Combine(nf, "dev.2-1-0.qrel"));
        using var db = BuildDb(Path.Combine(work, "nfcorpus-db"), docs);

        md.AppendLine("### NFCorpus dev, title queries (graded qrels dev.2-1-0)").AppendLine();
        md.AppendLine($"{docs.Count} documents ingested as studies (paragraph segments, MiniLM vectors, FTS5 porter); {queries.Count} title queries, those with at least one relevant judgment counted.").AppendLine();
        md.AppendLine("| system | mode | nDCG@10 | recall@100 | queries | p50 ms | mean ms |").AppendLine("|---|---|---|---|---|---|---|");
        var ours = new Dictionary<string, IrMetrics>();
        foreach (var mode in new[] { "bm25", "dense", "hybrid" })
        {
            var m = IrEvaluation.Evaluate(db, queries, qrels, IrEvaluation.ParseMode(mode));
            ours[mode] = m;
            md.AppendLine($"| Casebook | {mode} | {m.NdcgAt10:0.0000} | {m.RecallAt100:0.0000} | {m.Queries} | {m.MedianQueryMs:0.00} | {m.MeanQueryMs:0.00} |");
        }

        // Retrieval alone: query vectors computed beforehand, so the timing is BM25 + ANN + fusion + row fetch.
        var judged = queries.Where(q => qrels.ContainsKey(q.Id) && qrels[q.Id].Values.Any(g => g > 0)).ToList();
        var qvecs = db.TextEmbedder.Embed(judged.Select(q => q.Text).ToList());
        for (var i = 0; i < Math.Min(20, judged.Count); i++) db.Search(judged[i].Text).WithQueryVector(qvecs[i]).Limit(100).Execute();
        var retrieval = new List<double>();
        for (var i = 0; i < judged.Count; i++)
        {
            var sw = Stopwatch.StartNew();
            db.Search(judged[i].Text).WithQueryVector(qvecs[i]).Limit(10).Execute();
            retrieval.Add(sw.Elapsed.TotalMilliseconds);
        }
        var e2e = new List<double>();
        foreach (var q in judged)
        {
            var sw = Stopwatch.StartNew();
            db.Search(q.Text).Limit(10).Execute();
            e2e.Add(sw.Elapsed.TotalMilliseconds);
        }

        var lance = RunLanceDb(db, docs, judged, qvecs, qrels, work);
        foreach (var (mode, node) in lance)
            md.AppendLine($"| LanceDB 0.31 | {mode} | {node.GetProperty("ndcg@10").GetDouble():0.0000} | {node.GetProperty("recall@100").GetDouble():0.0000} | {node.GetProperty("queries").GetInt32()} | {node.GetProperty("p50_ms").GetDouble():0.00} | |");
        md.AppendLine();
        md.AppendLine($"Hybrid query end to end (embed query, BM25, ANN, fuse, fetch rows; limit 10): p50 **{Median(e2e):0.00} ms**, p95 {P(e2e, 0.95):0.00} ms.  ");
        md.AppendLine($"Retrieval alone (query vector given; limit 10): p50 **{Median(retrieval):0.00} ms**, p95 {P(retrieval, 0.95):0.00} ms" +
                      (lance.TryGetValue("hybrid", out var lh) ? $"; LanceDB hybrid p50 {lh.GetProperty("p50_ms").GetDouble():0.00} ms (ratio {lh.GetProperty("p50_ms").GetDouble() / Median(retrieval):0.0}×)." : "."));
        md.AppendLine();

        // Fusion weights: a small grid, reported, so the shipped default is a measured choice.
        md.AppendLine("Hybrid fusion grid (BM25 weight : dense weight, RRF k = 60) on the same split:").AppendLine();
        md.AppendLine("| bm25 : dense | nDCG@10 | recall@100 |").AppendLine("|---|---|---|");
        foreach (var (wb, wd) in new[] { (1.0, 1.0), (1.0, 1.5), (1.0, 2.0), (1.5, 1.0), (2.0, 1.0) })
        {
            var m = IrEvaluation.Evaluate(db, queries, qrels, SearchMode.Hybrid, configure: q => q.Fusion(wb, wd));
            md.AppendLine($"| {wb:0.0} : {wd:0.0} | {m.NdcgAt10:0.0000} | {m.RecallAt100:0.0000} |");
        }
        md.AppendLine();

        var iu = IuXrayCollection.Load(Path.Combine(shared, "text", "iu-xray", "indiana_reports.csv"));
        using var iuDb = BuildDb(Path.Combine(work, "iuxray-db"), iu.Docs);
        md.AppendLine($"### IU X-ray MeSH collection ({iu.Docs.Count} reports, {iu.Queries.Count} MeSH problem terms used by ≥ 20 reports as queries)").AppendLine();
        md.AppendLine("| mode | nDCG@10 | recall@100 | p50 ms |").AppendLine("|---|---|---|---|");
        foreach (var mode in new[] { "bm25", "dense", "hybrid" })
        {
            var m = IrEvaluation.Evaluate(iuDb, iu.Queries, iu.Qrels, IrEvaluation.ParseMode(mode));
            md.AppendLine($"| {mode} | {m.NdcgAt10:0.0000} | {m.RecallAt100:0.0000} | {m.MedianQueryMs:0.00} |");
        }
        md.AppendLine();
        return md.ToString();
    }

    static CasebookDb BuildDb(string dir, List<(string Id, string Text)> docs)
    {
        var db = CasebookDb.Open(dir, new CasebookOptions { KeyFile = Path.Combine(Path.GetDirectoryName(dir)!, "bench.key"), Author = "bench" });
        if (db.CountStudies() != docs.Count)
        {
            var sw = Stopwatch.StartNew();
            db.Ingest(docs.Select(d => new StudyInput(d.Id, d.Id, "bench", null, null, null, [], dir) { ReportText = d.Text }).ToList(),
                new IngestOptions { BatchSize = 1024, Message = "benchmark corpus" });
            Console.Error.WriteLine($"bench: ingested {docs.Count} documents into {dir} in {sw.Elapsed.TotalSeconds:0.0} s");
        }
        return db;
    }

    /// <summary>Runs bench/peers/lancedb/hybrid.mjs on the same documents, MiniLM vectors and queries.</summary>
    static Dictionary<string, JsonElement> RunLanceDb(CasebookDb db, List<(string Id, string Text)> docs, List<(string Id, string Text)> queries,
        float[][] queryVectors, Dictionary<string, Dictionary<string, int>> qrels, string work)
    {
        var dir = Directory.CreateDirectory(Path.Combine(work, "lancedb-nfcorpus")).FullName;
        var docVecPath = Path.Combine(dir, "docs.f32");
        if (!File.Exists(docVecPath))
        {
            File.WriteAllLines(Path.Combine(dir, "docs.tsv"), docs.Select(d => d.Id + "\t" + d.Text));
            var vectors = db.TextEmbedder.Embed(docs.Select(d => d.Text).ToList());
            WriteF32(docVecPath, vectors);
        }
        File.WriteAllLines(Path.Combine(dir, "queries.tsv"), queries.Select(q => q.Id + "\t" + q.Text));
        WriteF32(Path.Combine(dir, "queries.f32"), queryVectors);
        File.WriteAllLines(Path.Combine(dir, "qrels.txt"), qrels.SelectMany(q => q.Value.Select(d => $"{q.Key} 0 {d.Key} {d.Value}")));
        var peer = Path.Combine(Program.RepoRoot, "bench", "peers", "lancedb");
        var result = new Dictionary<string, JsonElement>();
        try
        {
            Program.EnsureNodeModules(peer);
            foreach (var mode in new[] { "fts", "vector", "hybrid" })
            {
                var output = Program.RunProcess("node", peer, "hybrid.mjs", "--docs", Path.Combine(dir, "docs.tsv"), "--doc-vectors", docVecPath,
                    "--queries", Path.Combine(dir, "queries.tsv"), "--query-vectors", Path.Combine(dir, "queries.f32"), "--qrels", Path.Combine(dir, "qrels.txt"),
                    "--mode", mode, "--work", Path.Combine(dir, "lance-" + mode));
                var json = output.Trim().Split('\n')[^1];
                result[mode] = JsonDocument.Parse(json).RootElement.Clone();
            }
        }
        catch (Exception e) { Console.Error.WriteLine($"bench: LanceDB peer failed: {e.Message}"); }
        return result;
    }

    public static void WriteF32(string path, float[][] vectors)
    {
        using var fs = File.Create(path);
        foreach (var v in vectors) fs.Write(MemoryMarshal.AsBytes(v.AsSpan()));
    }

    public static double Median(List<double> xs) => P(xs, 0.5);
    public static double P(List<double> xs, double p)
    {
        if (xs.Count == 0) return double.NaN;
        var s = xs.Order().ToList();
        return s[Math.Min(s.Count - 1, (int)(p * s.Count))];
    }
}

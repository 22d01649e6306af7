using System.Diagnostics;
using System.Globalization;
using System.Text;
using Casebook.Eval;
using Casebook.Extract.Clinical;

namespace Casebook.Bench;

/// <summary>
/// Clinical NLP (suite <c>nlp</c>): precision, recall and F1 of ConText assertion (negated, uncertain, historical,
/// hypothetical, other experiencer) on Casebook's hand-labelled sentence sets (bench/Casebook.Bench/nlp: a development
/// set and a held-out set, references into ../shared/data/text), beside a NegEx-style trigger-window baseline measured
/// in the same run; and throughput of the whole pipeline (sentences, concepts, assertion, laterality) over the real
/// reports and notes, in sentences per second, median of 5 runs.
/// </summary>
public static class NlpBenchmarks
{
    const int Runs = 5;

    public static string Run(string shared)
    {
        var sb = new StringBuilder();
        var ci = CultureInfo.InvariantCulture;
        sb.AppendLine("## Clinical NLP: assertion quality");
        sb.AppendLine();
        sb.AppendLine("Sets: hand-labelled (sentence, target) pairs from IU X-ray reports, MTSamples and PriMock57 notes (see docs/clinical-nlp.md).");
        sb.AppendLine("`dev` was used for error analysis while the lexicon was written; `held-out` was labelled before any output was seen and never tuned on.");
        sb.AppendLine("`baseline` = negation only, a trigger ('no', 'not', 'denies', 'without', 'negative for', 'free of', 'absence of', 'ruled out') up to 5 words before the target.");
        sb.AppendLine();
        sb.AppendLine("| set | pairs | feature | gold | P | R | F1 | baseline F1 |");
        sb.AppendLine("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |");
        var dir = Path.Combine(Program.RepoRoot, "bench", "Casebook.Bench", "nlp");
        double assertsPerSecond = 0;
        foreach (var (name, file) in new[] { ("dev", "assertion-set.tsv"), ("held-out", "assertion-heldout.tsv") })
        {
            var examples = AssertionEvaluation.Load(Path.Combine(dir, file), Path.Combine(shared, "text"));
            var report = AssertionEvaluation.Evaluate(examples);
            var baseline = BaselineNegation(examples);
            foreach (var f in report.Features)
                sb.AppendLine(string.Create(ci, $"| {name} | {examples.Count} | {f.Feature} | {f.Gold} | {f.Precision:0.000} | {f.Recall:0.000} | {f.F1:0.000} | {(f.Feature == "negated" ? baseline.F1.ToString("0.000", ci) : "")} |"));
            var times = Enumerable.Range(0, Runs).Select(_ => AssertionEvaluation.Evaluate(examples).Elapsed.TotalSeconds).Order().ToList();
            assertsPerSecond = Math.Max(assertsPerSecond, examples.Count / times[Runs / 2]);
        }
        sb.AppendLine();
        sb.AppendLine("## Clinical NLP: throughput");
        sb.AppendLine();
        var texts = ReportCorpora.IuXray(shared).Concat(ReportCorpora.MtSamples(shared)).Concat(ReportCorpora.PriMockNotes(shared).Select(n => n.Note)).ToList();
        var analyzer = ClinicalAnalyzer.Default;
        int sentences = 0, concepts = 0;
        long chars = texts.Sum(t => (long)t.Length);
        foreach (var t in texts.Take(200)) analyzer.Analyze(t); // warm-up (JIT, lexicon load)
        var seconds = new List<double>();
        for (int r = 0; r < Runs; r++)
        {
            sentences = 0; concepts = 0;
            var clock = Stopwatch.StartNew();
            foreach (var t in texts)
            {
                var a = analyzer.Analyze(t);
                sentences += a.Sentences.Count;
                concepts += a.Concepts.Count;
            }
            seconds.Add(clock.Elapsed.TotalSeconds);
        }
        seconds.Sort();
        var median = seconds[Runs / 2];
        sb.AppendLine("| corpus | documents | sentences | concepts | MB | median s | sentences/s | MB/s | `nlp assert` pairs/s |");
        sb.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        sb.AppendLine(string.Create(ci, $"| IU X-ray + MTSamples + PriMock57 | {texts.Count} | {sentences} | {concepts} | {chars / 1e6:0.0} | {median:0.00} | {sentences / median:0} | {chars / 1e6 / median:0.00} | {assertsPerSecond:0} |"));
        sb.AppendLine();
        sb.AppendLine("One thread; sentence splitting, tokenising, concept matching (trie), ConText and laterality per sentence; `nlp assert` pairs/s excludes process start and JSON.");
        return sb.ToString();
    }

    /// <summary>
    /// Suite <c>nlp-ir</c>: the IU X-ray MeSH collection of the <c>ir</c> suite (same documents, queries, qrels and
    /// code path), run with assertion-aware search: many IU reports deny findings ("no pleural effusion"), which plain
    /// BM25 rewards. Compare with the <c>ir</c> suite's IU table measured before clinical NLP existed.
    /// </summary>
    public static string RunIuXray(string shared, string work)
    {
        var iu = IuXrayCollection.Load(Path.Combine(shared, "text", "iu-xray", "indiana_reports.csv"));
        var dir = Path.Combine(work, "iuxray-nlp-db");
        using var db = CasebookDb.Open(dir, new CasebookOptions { KeyFile = Path.Combine(work, "bench.key"), Author = "bench" });
        if (db.CountStudies() != iu.Docs.Count)
        {
            var sw = Stopwatch.StartNew();
            db.Ingest(iu.Docs.Select(d => new Casebook.Ingest.StudyInput(d.Id, d.Id, "bench", null, null, null, [], dir) { ReportText = d.Text }).ToList(),
                new Casebook.Ingest.IngestOptions { BatchSize = 1024, Message = "benchmark corpus" });
            Console.Error.WriteLine($"bench: ingested {iu.Docs.Count} documents in {sw.Elapsed.TotalSeconds:0.0} s");
        }
        var md = new StringBuilder();
        md.AppendLine($"### IU X-ray MeSH collection with assertion-aware search ({iu.Docs.Count} reports, {iu.Queries.Count} queries)").AppendLine();
        md.AppendLine("| mode | nDCG@10 | recall@100 | p50 ms |").AppendLine("|---|---|---|---|");
        // Dense re-ranking on and off in the same run (the keyword index marks negations either way): quality and the
        // latency it costs, as a ratio that survives machine load.
        foreach (var (mode, aware) in new[] { ("bm25", true), ("dense", false), ("dense", true), ("hybrid", false), ("hybrid", true) })
        {
            var m = IrEvaluation.Evaluate(db, iu.Queries, iu.Qrels, IrEvaluation.ParseMode(mode), configure: q => q.AssertionAware(aware));
            md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {mode}{(mode == "bm25" ? "" : aware ? " (dense re-ranking on)" : " (dense re-ranking off)")} | {m.NdcgAt10:0.0000} | {m.RecallAt100:0.0000} | {m.MedianQueryMs:0.00} |"));
        }
        return md.ToString();
    }

    static readonly string[][] BaselineTriggers = new[] { "no", "not", "denies", "denied", "without", "negative for", "free of", "absence of", "ruled out" }
        .Select(ClinicalTokenizer.Words).ToArray();

    /// <summary>The "trigger window" heuristic: negated when a trigger ends at most 5 words before the target.</summary>
    static FeatureScore BaselineNegation(List<AssertionExample> examples)
    {
        int tp = 0, fp = 0, fn = 0;
        foreach (var e in examples)
        {
            var (cs, _) = ClinicalAnalyzer.Locate(e.Sentence, e.Target);
            var words = ClinicalTokenizer.Tokenize(e.Sentence).Where(t => t.IsWord && t.End <= cs).Select(t => t.Norm).ToList();
            bool negated = false;
            for (int i = 0; i < words.Count && !negated; i++)
                foreach (var trig in BaselineTriggers)
                    if (i + trig.Length <= words.Count && words.Count - (i + trig.Length) <= 5 && trig.SequenceEqual(words.Skip(i).Take(trig.Length))) { negated = true; break; }
            if (negated && e.Gold.Negated) tp++; else if (negated) fp++; else if (e.Gold.Negated) fn++;
        }
        return new FeatureScore("negated", tp, fp, fn);
    }
}

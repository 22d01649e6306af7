using System.Diagnostics;
using System.Globalization;
using System.Text;
using Casebook.Extract.Clinical.Phi;
using Casebook.Extract.Clinical.Phi.Evaluation;

namespace Casebook.Bench;

/// <summary>
/// Text de-identification: recall and precision per identifier category on notes built from real text
/// (MTSamples, PriMock57, IU X-ray) with inserted, labelled identifiers (<see cref="PhiEvalCorpus"/>); names outside
/// the detector's lexicon (the main run) and with lexicon names allowed (for comparison); throughput of detection and
/// of de-identification. Misses and unmatched detections are written to the work folder for review.
/// </summary>
public static class PhiBenchmarks
{
    public const int Notes = 600;

    public static string AnnotationsPath => Path.Combine(Program.RepoRoot, "bench", "Casebook.Bench", "phi-base-annotations.tsv");

    public static string Run(string shared, string workDir)
    {
        var work = Directory.CreateDirectory(Path.Combine(workDir, "phi")).FullName;
        var annotations = File.Exists(AnnotationsPath) ? PhiEvalScorer.ReadAnnotations(AnnotationsPath) : [];
        var corpus = new PhiEvalCorpus(shared, seed: 1, excludeDetectorLexicon: true);
        var notes = corpus.Build(Notes);
        var detector = PhiDetector.Default;
        detector.Find("warm-up: Patient: Maria Okafor, MRN 1234567, seen 03/14/2019.");
        var result = PhiEvalScorer.Score(notes, detector, annotations);
        var withLexicon = PhiEvalScorer.Score(new PhiEvalCorpus(shared, seed: 2, excludeDetectorLexicon: false).Build(Notes), detector, annotations);
        var noHeaders = PhiEvalScorer.Score(new PhiEvalCorpus(shared, seed: 3, excludeDetectorLexicon: true) { Headers = false }.Build(Notes), detector, annotations);

        File.WriteAllLines(Path.Combine(work, "false-positives.tsv"), result.FalsePositives.Select(f => $"{f.Source}\t{f.BaseStart}\t{f.BaseEnd}\t{f.Type}\t{f.Text}\t{f.Context}"));
        File.WriteAllLines(Path.Combine(work, "misses.tsv"), result.Misses.Select(m => $"{m.Source}\t{m.Gold.Type}\t{m.Text}"));

        // Throughput: detection alone and full de-identification (surrogates + date shift), median of 5 passes.
        var chars = notes.Sum(n => n.Text.Length);
        var findTimes = new List<double>();
        var applyTimes = new List<double>();
        var deid = new TextDeidentifier(detector, new byte[32], -100);
        for (var pass = 0; pass < 5; pass++)
        {
            var sw = Stopwatch.StartNew();
            foreach (var n in notes) detector.Find(n.Text);
            findTimes.Add(sw.Elapsed.TotalSeconds);
            sw.Restart();
            foreach (var n in notes) deid.Apply(n.Text);
            applyTimes.Add(sw.Elapsed.TotalSeconds);
        }
        findTimes.Sort();
        applyTimes.Sort();
        double f = findTimes[2], a = applyTimes[2];

        var sources = notes.GroupBy(n => n.Source.Split('#', '/')[0]).Select(g => $"{g.Count()} {g.Key}");
        var sb = new StringBuilder();
        sb.AppendLine("## Text de-identification (PHI)");
        sb.AppendLine();
        sb.AppendLine(CultureInfo.InvariantCulture, $"Data: {notes.Count} notes ({string.Join(", ", sources)}), {chars:N0} characters, {notes.Sum(n => n.Gold.Count)} inserted identifiers " +
                      $"({corpus.FirstNames.Count} first and {corpus.LastNames.Count} last names from Synthea + a hand-written list, none in the detector's Bogus lexicon). " +
                      $"{annotations.Count} reviewed identifiers of the real text (phi-base-annotations.tsv) count as true in \"precision\"; \"strict\" counts them as false.");
        sb.AppendLine();
        sb.AppendLine("| category | labels | recall | typed recall | detections | precision | strict precision |");
        sb.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var c in result.Categories.Append(result.All))
            sb.AppendLine(CultureInfo.InvariantCulture, $"| {c.Category} | {c.Gold} | {c.Recall:0.0000} | {c.TypedRecall:0.0000} | {c.Detected} | {c.Precision:0.0000} | {c.StrictPrecision:0.0000} |");
        sb.AppendLine();
        sb.AppendLine(CultureInfo.InvariantCulture, $"Same generator, names allowed from the lexicon too (seed 2): NAME recall {withLexicon["NAME"].Recall:0.0000}, DATE {withLexicon["DATE"].Recall:0.0000}, ID {withLexicon["ID"].Recall:0.0000}, all-category precision {withLexicon.All.Precision:0.0000}.");
        sb.AppendLine();
        sb.AppendLine(CultureInfo.InvariantCulture, $"Harder: the same notes without their header block (seed 3), so a name in a sentence cannot be found through the header's mention of it: " +
                      $"NAME recall {noHeaders["NAME"].Recall:0.0000} ({noHeaders["NAME"].Gold - noHeaders["NAME"].Recalled} of {noHeaders["NAME"].Gold} missed), DATE {noHeaders["DATE"].Recall:0.0000}, ID {noHeaders["ID"].Recall:0.0000}, " +
                      $"all-category recall {noHeaders.All.Recall:0.0000}, strict precision {noHeaders.All.StrictPrecision:0.0000}.");
        File.WriteAllLines(Path.Combine(work, "misses-no-headers.tsv"), noHeaders.Misses.Select(m => $"{m.Source}\t{m.Gold.Type}\t{m.Text}"));
        sb.AppendLine();
        sb.AppendLine(CultureInfo.InvariantCulture, $"Throughput (median of 5 passes over the {notes.Count} notes): detection {chars / f / 1e6:0.00} M chars/s ({notes.Count / f:0} notes/s); " +
                      $"de-identification with surrogates and date shift {chars / a / 1e6:0.00} M chars/s ({notes.Count / a:0} notes/s). Misses: {result.Misses.Count}; unmatched detections: {result.FalsePositives.Count}.");
        return sb.ToString();
    }
}

using System.Diagnostics;
using System.Text.Json;
using Casebook.Extract.Clinical;
using Sylvan.Data.Csv;

namespace Casebook.Eval;

/// <summary>One labelled pair of an assertion set: the sentence (resolved from its reference), the target and the gold features.</summary>
public sealed record AssertionExample(string Source, string Record, string Sentence, string Target, Assertion Gold);

/// <summary>Precision, recall and F1 of one feature (positive = negated, uncertain, …, experiencer "other").</summary>
public sealed record FeatureScore(string Feature, int TruePositives, int FalsePositives, int FalseNegatives)
{
    public int Gold => TruePositives + FalseNegatives;
    public double Precision => TruePositives + FalsePositives == 0 ? 0 : (double)TruePositives / (TruePositives + FalsePositives);
    public double Recall => Gold == 0 ? 0 : (double)TruePositives / Gold;
    public double F1 => Precision + Recall == 0 ? 0 : 2 * Precision * Recall / (Precision + Recall);
}

/// <summary>Scores of a whole set, with the examples the system got wrong (per feature) and the time taken.</summary>
public sealed record AssertionReport(int Examples, IReadOnlyList<FeatureScore> Features, IReadOnlyList<(string Feature, AssertionExample Example)> Errors, TimeSpan Elapsed)
{
    public FeatureScore this[string feature] => Features.First(f => f.Feature == feature);
}

/// <summary>
/// Casebook's hand-labelled assertion sets (<c>bench/Casebook.Bench/nlp/*.tsv</c>): rows reference a sentence in
/// <c>../shared/data/text</c> (IU X-ray report field, MTSamples transcription, PriMock57 note) by record and character
/// offsets, so no text is committed; <see cref="Load"/> resolves them, <see cref="Evaluate"/> scores the ConText
/// assertion of each target as <c>nlp assert</c> does.
/// </summary>
public static class AssertionEvaluation
{
    public static readonly string[] FeatureNames = ["negated", "uncertain", "historical", "hypothetical", "experiencer"];

    public static List<AssertionExample> Load(string setFile, string sharedTextDir)
    {
        var iu = new Dictionary<string, Dictionary<string, string>>();
        using (var csv = CsvDataReader.Create(Path.Combine(sharedTextDir, "iu-xray", "indiana_reports.csv")))
            while (csv.Read())
                iu[csv.GetString(0)] = new() { ["findings"] = csv.GetString(6), ["impression"] = csv.GetString(7), ["indication"] = csv.GetString(4) };
        var mt = new Dictionary<string, string>();
        using (var csv = CsvDataReader.Create(Path.Combine(sharedTextDir, "mtsamples", "mtsamples.csv"), new CsvDataReaderOptions { HasHeaders = false }))
            while (csv.Read()) mt[csv.GetString(0).Trim()] = csv.GetString(4);
        var examples = new List<AssertionExample>();
        int lineNo = 0;
        foreach (var line in File.ReadLines(setFile))
        {
            lineNo++;
            if (line.Length == 0 || line[0] == '#' || line.StartsWith("source\t", StringComparison.Ordinal)) continue;
            var f = line.Split('\t');
            if (f.Length < 11) throw new FormatException($"{setFile}:{lineNo}: expected 11 tab-separated columns");
            var text = f[0] switch
            {
                "iu-xray" => iu[f[1]][f[2]],
                "mtsamples" => mt[f[1]],
                "primock57" => JsonDocument.Parse(File.ReadAllText(Path.Combine(sharedTextDir, "primock57", "notes", f[1] + ".json"))).RootElement.GetProperty("note").GetString()!,
                var s => throw new FormatException($"{setFile}:{lineNo}: unknown source '{s}'"),
            };
            int start = int.Parse(f[3]), end = int.Parse(f[4]);
            if (end > text.Length || start >= end) throw new FormatException($"{setFile}:{lineNo}: offsets {start}..{end} outside the record ({text.Length} chars)");
            examples.Add(new AssertionExample(f[0], f[1], text[start..end], f[5],
                new Assertion(f[6] == "true", f[7] == "true", f[8] == "true", f[9] == "true", f[10] == "other")));
        }
        return examples;
    }

    public static AssertionReport Evaluate(IReadOnlyList<AssertionExample> examples, ClinicalAnalyzer? analyzer = null)
    {
        analyzer ??= ClinicalAnalyzer.Default;
        var clock = Stopwatch.StartNew();
        var predicted = examples.Select(e => analyzer.Assert(e.Sentence, e.Target)).ToList();
        var elapsed = clock.Elapsed;
        var scores = new List<FeatureScore>();
        var errors = new List<(string, AssertionExample)>();
        foreach (var feature in FeatureNames)
        {
            int tp = 0, fp = 0, fn = 0;
            for (int i = 0; i < examples.Count; i++)
            {
                bool g = Get(examples[i].Gold, feature), p = Get(predicted[i], feature);
                if (g && p) tp++; else if (p) fp++; else if (g) fn++;
                if (g != p) errors.Add((feature, examples[i]));
            }
            scores.Add(new FeatureScore(feature, tp, fp, fn));
        }
        return new AssertionReport(examples.Count, scores, errors, elapsed);
    }

    static bool Get(Assertion a, string feature) => feature switch
    {
        "negated" => a.Negated, "uncertain" => a.Uncertain, "historical" => a.Historical, "hypothetical" => a.Hypothetical,
        _ => a.OtherExperiencer,
    };
}

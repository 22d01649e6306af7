using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Casebook.Ingest;
using Casebook.Ingest.Fhir;

namespace Casebook.Bench;

/// <summary>
/// FHIR ingest rate over the 12 Synthea R4 bundles in shared/data/fhir/synthea, in stages, all in one run:
/// raw JSON parse (System.Text.Json, the floor any reader pays), Firely POCO parse (strict, per resource), parse + mapping to
/// timeline events (pseudonyms, date shifts, UCUM), and a full `Ingest` into a fresh database (events committed, the 25
/// imaging studies built, embedded with MiniLM and committed). Medians over repeats; resources/s counts every resource in
/// the bundles (including Claims and the like that are read and left out).
/// </summary>
public static class FhirBenchmarks
{
    const int Repeats = 5;
    const int IngestRepeats = 3;

    public static string Run(string sharedDataDir, string workDir)
    {
        var folder = Path.Combine(sharedDataDir, "fhir", "synthea");
        var files = Directory.GetFiles(folder, "*.json").Order(StringComparer.Ordinal).ToList();
        var mb = files.Sum(f => new FileInfo(f).Length) / 1e6;
        var keyFile = Path.Combine(workDir, "fhir-bench.key");
        var key = PatientPseudonym.Load(keyFile);

        int resources = 0, events = 0;
        List<double> Time(int repeats, Action pass)
        {
            pass(); // warm-up: JIT, page cache, UCUM tables
            var t = new List<double>();
            for (var r = 0; r < repeats; r++) { var sw = Stopwatch.StartNew(); pass(); t.Add(sw.Elapsed.TotalSeconds); }
            return t;
        }
        var raw = Time(Repeats, () => { foreach (var f in files) using (JsonDocument.Parse(File.ReadAllBytes(f))) { } });
        var parse = Time(Repeats, () =>
        {
            var errors = new List<IngestError>();
            resources = files.Sum(f => FhirResourceReader.Read(f, errors).Count);
            if (errors.Count > 0) throw new InvalidOperationException($"FHIR bench: {errors.Count} errors, first: {errors[0]}");
        });
        var map = Time(Repeats, () =>
        {
            var errors = new List<IngestError>();
            var entries = files.SelectMany(f => FhirResourceReader.Read(f, errors)).ToList();
            events = new FhirTimelineMapper(key, null, errors).Map(entries).Events.Count;
        });
        var ingest = new List<double>();
        var fhirStage = new List<double>();
        for (var r = 0; r < IngestRepeats + 1; r++)
        {
            var dir = Path.Combine(workDir, $"fhir-db-{r}");
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
            using var db = CasebookDb.Open(dir, new CasebookOptions { KeyFile = keyFile, Author = "bench" });
            var sw = Stopwatch.StartNew();
            var result = db.Ingest([folder]);
            var s = sw.Elapsed.TotalSeconds;
            if (result.Errors.Count > 0) throw new InvalidOperationException($"FHIR bench ingest: {result.Errors[0]}");
            if (r == 0) continue; // the first run loads the text model
            ingest.Add(s);
            fhirStage.Add(result.Fhir!.Seconds);
            Directory.Delete(dir, true);
        }

        var sb = new StringBuilder();
        sb.AppendLine("## FHIR ingest (Synthea R4 bundles)");
        sb.AppendLine();
        sb.AppendLine($"{files.Count} transaction bundles, {mb:F1} MB, {resources} resources → {events} timeline events and 25 imaging studies " +
                      $"(`shared/data/fhir/synthea`). Median of {Repeats} passes ({IngestRepeats} fresh databases for the full ingest, after one warm-up run that loads MiniLM).");
        sb.AppendLine();
        sb.AppendLine("| stage | median s | resources/s | vs raw JSON parse |");
        sb.AppendLine("| --- | ---: | ---: | ---: |");
        var rawMedian = Median(raw);
        void Row(string name, List<double> t) => sb.AppendLine(
            $"| {name} | {Median(t).ToString("F3", CultureInfo.InvariantCulture)} | {(resources / Median(t)).ToString("F0", CultureInfo.InvariantCulture)} | {(Median(t) / rawMedian).ToString("F1", CultureInfo.InvariantCulture)}× |");
        Row("raw JSON parse (`JsonDocument`, floor)", raw);
        Row("Firely POCO parse, per resource (`FhirResourceReader`)", parse);
        Row("parse + map to events (`FhirTimelineMapper`)", map);
        Row("FHIR stage of `Ingest` (parse, map, commit events)", fhirStage);
        Row("full `Ingest` (+ 25 studies built, MiniLM-embedded, committed)", ingest);
        return sb.ToString();
    }

    static double Median(List<double> xs) { var s = xs.Order().ToList(); return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2; }
}

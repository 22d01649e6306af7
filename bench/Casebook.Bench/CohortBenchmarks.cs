using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Casebook.Cohorts;
using Casebook.Ingest.Fhir;
using Casebook.Model;
using Casebook.Storage;
using Casebook.Timeline;

namespace Casebook.Bench;

/// <summary>
/// Cohort query time on a generated million-event timeline: 20,000 synthetic patients × 50 events (HbA1c from two "sites",
/// one reporting % and one mmol/mol, canonicalised with the same <see cref="LabUnits"/> as FHIR ingest; glucose; ICD-10-CM
/// conditions, some refuted or provisional; encounters), committed through <see cref="CasebookDb.CommitEvents"/> in batches,
/// plus one study per patient (modality, sex, age band) through <see cref="CasebookDb.Commit"/>. Each definition is run once
/// to warm up and then <see cref="Repeats"/> times; the median is reported.
/// </summary>
public static class CohortBenchmarks
{
    const int Patients = 20_000;
    const int EventsPerPatient = 50;
    const int Repeats = 5;

    static readonly string[] Icd = ["E11.9", "E11.65", "E11.22", "I10", "E78.5", "J45.909", "N18.3", "K21.9", "M54.5", "F32.9"];
    static readonly string[] Modalities = ["CT", "MR", "CR", "US", "DX"];

    public static string Run(string workDir)
    {
        var dir = Path.Combine(workDir, "cohort-db");
        if (Directory.Exists(dir)) Directory.Delete(dir, true);
        using var db = CasebookDb.Open(dir, new CasebookOptions { KeyFile = Path.Combine(workDir, "cohort-bench.key"), Author = "bench" });
        var rng = new Random(6);
        var gen = Stopwatch.StartNew();
        var batch = new List<TimelineEvent>(100_000);
        long total = 0;
        var start = new DateTime(2015, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        var studies = new WriteBatch();
        for (var p = 0; p < Patients; p++)
        {
            var pid = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes("bench-patient-" + p)));
            var ifccSite = p % 2 == 1;
            var baseA1c = 5.0 + rng.NextDouble() * 3.0; // 5–8 %
            for (var i = 0; i < EventsPerPatient; i++)
            {
                var t = start.AddDays(rng.Next(0, 3650)).AddMinutes(rng.Next(0, 1440));
                var time = t.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
                var ev = new TimelineEvent { EventId = $"bench/{p}/{i}", PatientPseudoId = pid, Type = EventType.Observation, Source = $"Observation/bench-{p}-{i}",
                    Time = time, SortTime = time, Precision = "time", Status = "final" };
                switch (i % 10)
                {
                    case 0: case 1: case 2:
                    {
                        var pct = Math.Round(baseA1c + (rng.NextDouble() - 0.5), 1);
                        ev.CodeSystem = "http://loinc.org";
                        ev.Code = ifccSite ? "59261-8" : "4548-4";
                        ev.Display = "Hemoglobin A1c";
                        (ev.Value, ev.Unit) = ifccSite ? (Math.Round(LabUnits.NgspToIfcc(pct)), "mmol/mol") : (pct, "%");
                        break;
                    }
                    case 3: case 4:
                        ev.CodeSystem = "http://loinc.org"; ev.Code = "2345-7"; ev.Display = "Glucose";
                        (ev.Value, ev.Unit) = (Math.Round(70 + rng.NextDouble() * 130), "mg/dL");
                        break;
                    case 5:
                    {
                        var ce = new TimelineEvent { EventId = ev.EventId, PatientPseudoId = pid, Type = EventType.Condition, Source = $"Condition/bench-{p}-{i}",
                            Time = time, SortTime = time, Precision = "time", CodeSystem = "http://hl7.org/fhir/sid/icd-10-cm", Code = Icd[rng.Next(Icd.Length)],
                            Status = rng.Next(10) switch { 0 => "refuted", 1 => "provisional", _ => "confirmed" } };
                        batch.Add(ce);
                        continue;
                    }
                    default:
                    {
                        var en = new TimelineEvent { EventId = ev.EventId, PatientPseudoId = pid, Type = EventType.Encounter, Source = $"Encounter/bench-{p}-{i}",
                            Time = time, SortTime = time, Precision = "time", CodeSystem = "http://snomed.info/sct", Code = "185349003", Display = "Encounter for check up", Status = "finished" };
                        batch.Add(en);
                        continue;
                    }
                }
                if (LabUnits.Canonical(ev.Value!.Value, ev.Unit, ev.Code, ev.Display) is { } c) { ev.CanonicalValue = c.Value; ev.CanonicalUnit = c.Unit; }
                batch.Add(ev);
            }
            studies.Upserts.Add(new StudyRecord
            {
                StudyId = $"bench-study-{p}", PatientPseudoId = pid, Modality = Modalities[rng.Next(Modalities.Length)],
                ExamDate = start.AddDays(rng.Next(0, 3650)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                Metadata = new JsonObject { ["sex"] = rng.Next(2) == 0 ? "F" : "M", ["age_band"] = $"{rng.Next(4, 18) * 5}-{rng.Next(4, 18) * 5 + 4}" },
                ClinicalCodes = rng.Next(20) == 0 ? ["ICD10:E11.9"] : [],
            });
            if (batch.Count >= 100_000) { total += db.CommitEvents(batch, "bench events").Inserted; batch.Clear(); }
        }
        if (batch.Count > 0) total += db.CommitEvents(batch, "bench events").Inserted;
        db.Commit(studies, "bench studies");
        var genSeconds = gen.Elapsed.TotalSeconds;

        var definitions = new (string Label, string Json)[]
        {
            ("ICD-10 E11 (hierarchy), confirmed", """{"code":{"code":"E11"}}"""),
            ("2 × HbA1c ≥ 6.5 % within 365 d (both sites)", """{"lab":{"code":["4548-4","59261-8"],"comparator":">=","value":6.5,"unit":"%","count":2,"within_days":365}}"""),
            ("one glucose ≥ 126 mg/dL in 2020", """{"lab":{"code":"2345-7","comparator":">=","value":126,"unit":"mg/dL","from":"2020-01-01","to":"2020-12-31"}}"""),
            ("all: HbA1c window, E11, not I10, sex F, age 40–64, modality CT", """{"all":[{"lab":{"code":["4548-4","59261-8"],"comparator":">=","value":6.5,"unit":"%","count":2,"within_days":365}},{"code":{"code":"E11"}},{"not":{"code":{"code":"I10"}}},{"sex":"F"},{"age":{"min":40,"max":64}},{"modality":"CT"}]}"""),
        };
        var first = Stopwatch.StartNew();
        db.RunCohort(CohortDefinition.Parse("""{"criteria":{"sex":"F"}}""")); // first call: makes the cohort table and the events code index
        var firstSeconds = first.Elapsed.TotalSeconds;
        var sb = new StringBuilder();
        sb.AppendLine("## Cohort query time on a generated million-event timeline (`cohort`)");
        sb.AppendLine();
        sb.AppendLine($"Method: {Patients:N0} synthetic patients × {EventsPerPatient} events = {total:N0} `patient_events` rows (HbA1c from two sites, " +
                      "% and IFCC mmol/mol, canonicalised by `LabUnits`; glucose in mg/dL; ICD-10-CM conditions, 10 % refuted and 10 % provisional; encounters), " +
                      $"committed through `CommitEvents` in batches of 100,000, plus {Patients:N0} studies; generation and commit took {genSeconds:0.0} s. " +
                      $"The first cohort call makes the `cohort_definitions` table and the `patient_events(code, type)` index: {firstSeconds:0.0} s. " +
                      $"Each definition then runs once to warm up and {Repeats} times; median wall time of `RunCohort` (patients and studies, compiled to one SQLite query each).");
        sb.AppendLine();
        sb.AppendLine("| definition | patients | studies | median ms | min ms |");
        sb.AppendLine("| --- | ---: | ---: | ---: | ---: |");
        foreach (var (label, json) in definitions)
        {
            var def = CohortDefinition.Parse($$"""{"criteria":{{json}}}""");
            var warm = db.RunCohort(def);
            var t = new List<double>();
            for (var r = 0; r < Repeats; r++) { var sw = Stopwatch.StartNew(); db.RunCohort(def); t.Add(sw.Elapsed.TotalMilliseconds); }
            t.Sort();
            sb.AppendLine($"| {label} | {warm.Patients.Count:N0} | {warm.Studies.Count:N0} | {t[t.Count / 2]:0} | {t[0]:0} |");
        }
        sb.AppendLine();
        sb.AppendLine($"Load average at the end: {Load()}; {Environment.ProcessorCount} cores.");
        return sb.ToString();
    }

    static string Load() => File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}

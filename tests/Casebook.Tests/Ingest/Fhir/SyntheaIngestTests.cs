using Casebook.Model;
using Casebook.Timeline;

namespace Casebook.Tests.Ingest.Fhir;

/// <summary>FHIR ingest over the 12 real Synthea R4 transaction bundles (3171 resources).</summary>
public class SyntheaIngestTests(SyntheaFixture synthea) : IClassFixture<SyntheaFixture>
{
    [Fact]
    public void All_twelve_bundles_ingest_without_errors()
    {
        var r = synthea.Result;
        Assert.Empty(r.Errors);
        var fhir = Assert.IsType<Casebook.Ingest.Fhir.FhirIngestStats>(r.Fhir);
        Assert.Equal(12, fhir.Files);
        Assert.Equal(Directory.GetFiles(synthea.Folder, "*.json").Length, fhir.Files);
        Assert.True(fhir.Resources > 3000, $"{fhir.Resources} resources");
        Assert.True(fhir.Events > 2000, $"{fhir.Events} events");
        // Every event belongs to one of the 12 pseudonymised patients; no FHIR id, name or identifier is stored.
        var patients = synthea.Db.Studies(withSegments: false).Select(s => s.PatientPseudoId).Distinct().ToList();
        Assert.All(patients, p => Assert.Matches("^[0-9a-f]{64}$", p));
        var bundle = File.ReadAllText(Directory.GetFiles(synthea.Folder, "*.json").Order().First());
        var patientId = System.Text.RegularExpressions.Regex.Match(bundle, "\"id\": \"([0-9a-f-]{36})\"").Groups[1].Value;
        var dbText = File.ReadAllText(Path.Combine(synthea.Db.Directory, "casebook.db"), System.Text.Encoding.Latin1);
        Assert.DoesNotContain(patientId, dbText);
        var ssn = System.Text.RegularExpressions.Regex.Match(bundle, "\"(999-\\d{2}-\\d{4})\"").Groups[1].Value; // Synthea SSNs: 999-xx-xxxx
        Assert.Matches(@"^999-\d{2}-\d{4}$", ssn);
        Assert.DoesNotContain(ssn, dbText);
    }

    [Fact]
    public void Imaging_studies_become_studies_with_text_and_timelines()
    {
        var studies = synthea.Db.Studies().ToList();
        Assert.Equal(25, studies.Count); // 25 ImagingStudy resources, no report carries text of its own
        Assert.All(studies, s =>
        {
            Assert.StartsWith("2.25.", s.StudyId); // the DICOM UID remap, as DICOM ingest names studies
            Assert.NotNull(s.ExamDate);
            Assert.Contains("EXAM:", s.ReportText);
            Assert.Contains(s.Segments, g => g.Kind == SegmentKind.ReportParagraph && g.TextEmbedding != null);
            Assert.NotEmpty(s.TimelineEvents);
            Assert.NotNull(s.Metadata["fhir"]);
        });
        // Text built from the study, its encounter and the diagnosis made there.
        var knee = studies.First(s => s.ReportText!.Contains("anterior cruciate ligament", StringComparison.Ordinal));
        Assert.Equal("DX", knee.Modality);
        Assert.Contains("EXAM: Knee X-ray; modality DX (Digital Radiography); body site Knee.", knee.ReportText);
        // Events in the study's column are in time order and include the study's own imaging event.
        var times = knee.TimelineEvents.Select(e => DateTimeOffset.Parse(e!["time"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(times.Order(), times);
        Assert.Contains(knee.TimelineEvents, e => e!["type"]!.GetValue<string>() == "imaging" && e["study_id"]?.GetValue<string>() == knee.StudyId);
        // The window: nothing further than a year from the exam.
        var exam = DateTimeOffset.Parse(knee.ExamDate!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.All(times, t => Assert.InRange(Math.Abs((t - exam).TotalDays), 0, 366));
    }

    [Fact]
    public void Filters_see_timeline_events_and_a_study_shows_its_outcomes()
    {
        var db = synthea.Db;
        // timeline_events works as a filter field: the wrist-fracture study's patient timeline names the fracture.
        var hits = db.Search("x-ray").Where("timeline_events CONTAINS 'Fracture subluxation of wrist'").Limit(50).ToList();
        var wrist = db.Studies(withSegments: false).First(s => s.ReportText!.Contains("Fracture subluxation of wrist")).StudyId;
        Assert.Contains(hits, h => h.StudyId == wrist);
        Assert.True(hits.Count < 25, "the filter must narrow the 25 studies");
        var t = db.Timeline(wrist)!;
        Assert.NotEmpty(t.Events);
        Assert.Equal(t.Events.Where(e => e.SortTime != null).Select(e => e.SortTime).Order(StringComparer.Ordinal), t.Events.Where(e => e.SortTime != null).Select(e => e.SortTime));
        // Real events after the X-ray: the diagnosis made at the visit, its treatment, and what followed within a year.
        Assert.Contains(t.Outcomes, o => o.Kind == OutcomeKind.Diagnosis && o.Event.Display == "Fracture subluxation of wrist" && o.DaysAfter == 0);
        Assert.Contains(t.Outcomes, o => o.Kind == OutcomeKind.Procedure && o.Event.Display == "Bone immobilization");
        Assert.Contains(t.Outcomes, o => o.Kind == OutcomeKind.Diagnosis && o.DaysAfter > 30);
        Assert.All(t.Outcomes, o => Assert.InRange(o.DaysAfter, 0, 365));
        Assert.DoesNotContain(t.Outcomes, o => o.Event.StudyId == wrist); // not its own imaging event
        Assert.DoesNotContain(t.Outcomes, o => o.Event.Display == "X-ray or wrist"); // nor its own exam

        // A shorter window keeps only the early outcomes.
        var month = db.Outcomes(wrist, new TimelineOptions { OutcomeWindowDays = 30 });
        Assert.True(month.Count < t.Outcomes.Count);
        Assert.All(month, o => Assert.InRange(o.DaysAfter, 0, 30));

        // Summary over all studies: counts per kind with the studies behind each.
        var all = db.Studies(withSegments: false).Select(s => s.StudyId).ToList();
        var summary = db.SummarizeOutcomes([.. all, "no-such-study"]);
        Assert.Equal(all.Count, summary.Studies);
        Assert.Equal(["no-such-study"], summary.Missing);
        var diagnosis = summary.Kinds.Single(k => k.Kind == OutcomeKind.Diagnosis);
        Assert.Contains(wrist, diagnosis.StudyIds);
        Assert.Equal(diagnosis.StudyIds.Count, diagnosis.Studies);
        var fracture = summary.Codes.Single(c => c.Display == "Fracture subluxation of wrist");
        Assert.Contains(wrist, fracture.StudyIds);
    }

    [Fact]
    public void Reingesting_the_same_bundles_changes_nothing()
    {
        var before = synthea.Db.CurrentVersion;
        var again = synthea.Db.Ingest([synthea.Folder]);
        Assert.Empty(again.Errors);
        Assert.Equal(0, again.Inserted + again.Updated);
        Assert.Equal(0, again.Fhir!.EventsChanged);
        Assert.Equal(before, synthea.Db.CurrentVersion);
    }
}

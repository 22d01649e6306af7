using Casebook.Extract.Dicom.Deid;
using Casebook.Ingest;
using Casebook.Timeline;

namespace Casebook.Tests.Ingest;

/// <summary>The engine side of the HL7 feeds: received reports, patient demographic updates and patient merges.</summary>
public class PatientUpdateTests
{
    static StudyInput Study(string id, string patient, string text, string? accession = null, string? examDate = null) =>
        new(id, patient, StudyManifest.DefaultIssuer, "CT", examDate, null, [], id)
        {
            ReportText = text,
            Extra = accession == null ? new Dictionary<string, string>() : new Dictionary<string, string> { ["accession"] = accession },
        };

    [Fact]
    public void A_received_report_attaches_by_accession_only_to_its_own_patients_study_and_a_resend_changes_nothing()
    {
        using var tmp = new TempDirectory();
        using var db = tmp.OpenDb();
        db.Ingest([Study("S-1", "PAT-1", "CT head without contrast. No acute findings.", accession: "ACC-9", examDate: "2021-03-04")]);

        var report = new ReceivedReport(StudyManifest.DefaultIssuer, "PAT-1", "ADDENDUM: small chronic lacunar infarct in the left basal ganglia.", ["ACC-9"], "ORU_R01_1");
        var r = db.AddReceivedReport(report);
        Assert.Empty(r.Errors);
        Assert.Equal("S-1", r.StudyId);
        Assert.False(r.Created);
        var study = db.GetStudy("S-1")!;
        Assert.StartsWith("CT head without contrast.", study.ReportText);
        Assert.Contains("lacunar infarct", study.ReportText);
        Assert.Contains(db.Search("lacunar infarct basal ganglia").Limit(3).Execute().Results, h => h.StudyId == "S-1");

        Assert.Null(db.AddReceivedReport(report).Version); // same text again: nothing new

        var otherPatient = db.AddReceivedReport(report with { PatientId = "PAT-2", Text = "Another text." });
        Assert.Contains(otherPatient.Errors, e => e.Reason.Contains("another patient"));

        var unknown = db.AddReceivedReport(new ReceivedReport(StudyManifest.DefaultIssuer, "PAT-3", "Chest radiograph: clear lungs.", ["ACC-NEW"], "ORU_R01_2"));
        Assert.True(unknown.Created);
        Assert.StartsWith(CasebookDb.ReportOnlyStudyPrefix, unknown.StudyId);
        Assert.DoesNotContain("ACC-NEW", unknown.StudyId);
        var joined = db.AddReceivedReport(new ReceivedReport(StudyManifest.DefaultIssuer, "PAT-3", "Addendum: no change.", ["ACC-NEW"], "ORU_R01_3"));
        Assert.Equal(unknown.StudyId, joined.StudyId);
        Assert.False(joined.Created);

        Assert.Throws<ArgumentException>(() => db.AddReceivedReport(report with { Accessions = [" "] }));
    }

    [Fact]
    public void A_demographic_update_stores_sex_and_the_age_band_at_each_study_as_a_new_version()
    {
        using var tmp = new TempDirectory();
        using var db = tmp.OpenDb();
        db.Ingest([Study("S-1", "PAT-1", "CT chest. Normal.", examDate: "2020-06-01"), Study("S-2", "PAT-1", "CT abdomen. Normal."), Study("S-3", "PAT-2", "CT spine. Normal.")]);
        var before = db.Versions().Count;
        var r = db.UpdatePatientDemographics(StudyManifest.DefaultIssuer, "PAT-1", new PatientDemographics("female", new DateOnly(1960, 7, 1)) { AsOf = new DateOnly(2024, 1, 15) }, "ADT^A08", "hl7:test");
        Assert.Equal(2, r.Studies);
        Assert.Equal(before + 1, db.Versions().Count);
        var s1 = db.GetStudy("S-1")!;
        Assert.Equal("F", s1.Metadata["sex"]!.GetValue<string>());
        Assert.Equal("55-59", s1.Metadata["age_band"]!.GetValue<string>()); // 59 at the 2020-06-01 exam
        Assert.Equal("60-64", db.GetStudy("S-2")!.Metadata["age_band"]!.GetValue<string>()); // 63 at the message date
        Assert.Null(db.GetStudy("S-3")!.Metadata["sex"]);
        Assert.Equal("hl7:test", db.History("S-1")[^1].Author);
        Assert.Null(db.GetStudy("S-1", before)!.Metadata["sex"]); // history kept
        // The same update again changes nothing.
        Assert.Null(db.UpdatePatientDemographics(StudyManifest.DefaultIssuer, "PAT-1", new PatientDemographics("F", new DateOnly(1960, 7, 1)) { AsOf = new DateOnly(2024, 1, 15) }, "again").Version);
    }

    [Fact]
    public void A_merge_moves_the_prior_patients_studies_and_events_to_the_survivor_in_one_version()
    {
        using var tmp = new TempDirectory();
        using var db = tmp.OpenDb();
        db.Ingest([Study("S-OLD", "MRN-OLD", "MRI knee. Meniscal tear.", examDate: "2022-02-02"), Study("S-NEW", "MRN-NEW", "MRI knee follow-up. Stable.", examDate: "2023-02-02")]);
        var key = PatientPseudonym.Load(tmp.KeyFile);
        var prior = key.Pseudonymise(StudyManifest.DefaultIssuer, "MRN-OLD");
        var survivor = key.Pseudonymise(StudyManifest.DefaultIssuer, "MRN-NEW");
        db.CommitEvents([new TimelineEvent
        {
            EventId = "Procedure/arthroscopy-1", PatientPseudoId = prior, Type = "procedure", Source = "fhir", Time = "2022-03-01", SortTime = "2022-03-01T00:00:00Z",
            Display = "Knee arthroscopy",
        }], "events");
        var beforeMerge = db.Versions()[^1].Version;

        var r = db.MergePatients(StudyManifest.DefaultIssuer, "MRN-NEW", StudyManifest.DefaultIssuer, "MRN-OLD", "ADT^A40", "hl7:test");
        Assert.Equal(1, r.Events);
        Assert.Equal(beforeMerge + 1, r.Version);
        Assert.Equal(survivor, db.GetStudy("S-OLD")!.PatientPseudoId);
        Assert.Equal(prior, db.GetStudy("S-OLD", beforeMerge)!.PatientPseudoId);
        Assert.Empty(db.PatientEvents(prior));
        Assert.Single(db.PatientEvents(survivor), e => e.EventId == "Procedure/arthroscopy-1");
        Assert.Single(db.PatientEvents(prior, beforeMerge)); // as of before the merge, the event was the prior patient's
        Assert.Contains(prior, db.GetStudy("S-OLD")!.Metadata["merged_from"]!.ToJsonString());
        // Merging again finds nothing under the prior pseudonym; merging a patient into itself is refused.
        Assert.Null(db.MergePatients(StudyManifest.DefaultIssuer, "MRN-NEW", StudyManifest.DefaultIssuer, "MRN-OLD", "again").Version);
        Assert.Throws<ArgumentException>(() => db.MergePatients(StudyManifest.DefaultIssuer, "MRN-NEW", StudyManifest.DefaultIssuer, "MRN-NEW", "self"));
    }
}

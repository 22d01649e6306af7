using System.Text.Json.Nodes;
using Casebook.Extract.Clinical;
using Casebook.Model;
using Casebook.Search;
using Casebook.Storage;
using Casebook.Tests.Storage;
using Casebook.Timeline;
using Casebook.Validation;

namespace Casebook.Tests.Validation;

public class ValidationTests
{
    static readonly Attribution Alice = new("alice", "validator", "read the films");
    static readonly Attribution Bob = new("bob", "clinician", "pathology came back");

    static StudyRecord Annotated(CasebookDb db, string id, string report, string patient = "p1")
    {
        var s = StudyFactory.Full(db, id, patient: patient, report: report);
        s.PathologyFindings = new JsonArray();
        s.ClinicalCodes = [];
        StudyAnnotation.Annotate(s);
        return s;
    }

    [Fact]
    public void Validation_round_trip_with_history_and_a_conflict_that_overwrites_nothing()
    {
        using var tmp = new TempDirectory();
        using var db = tmp.OpenDb();
        var b = new WriteBatch();
        b.Upserts.Add(Annotated(db, "S1", "FINDINGS: small left pleural effusion. No pneumothorax."));
        b.Upserts.Add(Annotated(db, "S2", "FINDINGS: pleural effusion. Large right pleural effusion, pleural effusion increasing."));
        var v1 = db.Commit(b, "ingest").Version!.Value;
        Assert.Contains("ICD10:J90", db.GetStudy("S1")!.ClinicalCodes);

        // Alice and Bob both open S1 at v1. Alice confirms the finding first.
        var a = db.ValidateFinding("S1", "pleural effusion", FindingStatus.Confirmed, Alice, v1);
        var finding = db.GetStudy("S1")!.PathologyFindings.OfType<JsonObject>().First(f => f["term"]!.GetValue<string>() == "pleural effusion");
        Assert.True(finding["validated"]!.GetValue<bool>());
        Assert.Equal("alice", finding["validation"]!["author"]!.GetValue<string>());
        Assert.Equal("validator", finding["validation"]!["role"]!.GetValue<string>());
        Assert.Equal("read the films", finding["validation"]!["reason"]!.GetValue<string>());

        // Bob's write names v1, which is stale: a conflict naming the current version, and nothing written.
        var versionsBefore = db.Versions().Count;
        var conflict = Assert.Throws<ValidationConflictException>(() => db.SetDiagnosis("S1", "C34.90", "icd10cm", DiagnosisStatus.Confirmed, Bob, v1));
        Assert.Equal(a.Version, conflict.CurrentVersion);
        Assert.Contains($"version {a.Version}", conflict.Message);
        Assert.Equal(versionsBefore, db.Versions().Count);
        Assert.Null(db.GetStudy("S1")!.Metadata["diagnoses"]);
        Assert.Contains(db.GetStudy("S1")!.PathologyFindings.OfType<JsonObject>(), f => f["validated"]?.GetValue<bool>() == true); // Alice's work kept

        // Bob reloads and retries from the current version; then refutes the text-derived J90 (outranks the NLP code).
        var d = db.SetDiagnosis("S1", "C34.90", "icd10cm", DiagnosisStatus.Confirmed, Bob, a.Version);
        Assert.Equal("ICD10:C34.90", db.GetStudy("S1")!.ClinicalCodes[0]); // confirmed diagnosis first
        var r = db.SetDiagnosis("S1", "J90", "icd10cm", DiagnosisStatus.Refuted, Bob with { Reason = "no effusion on CT" }, d.Version);
        Assert.DoesNotContain("ICD10:J90", db.GetStudy("S1")!.ClinicalCodes);
        Assert.Contains("ICD10:J90", db.GetStudy("S1", asOf: d.Version)!.ClinicalCodes); // past state still readable

        // A role that may not validate is refused.
        Assert.Throws<UnauthorizedAccessException>(() => db.SetDiagnosis("S1", "J90", "icd10cm", "confirmed", new Attribution("eve", "researcher"), r.Version));
        Assert.Throws<ArgumentException>(() => db.SetDiagnosis("S1", "not-a-code", "icd10cm", "confirmed", Bob, r.Version));

        var history = db.History("S1");
        Assert.Equal([v1, a.Version, d.Version, r.Version], history.Select(h => h.Version));
        Assert.Equal(["created"], history[0].Changed);
        Assert.Equal(["alice", "bob", "bob"], history.Skip(1).Select(h => h.Author));
        Assert.Equal(["validator", "clinician", "clinician"], history.Skip(1).Select(h => h.Role));
        Assert.Equal("no effusion on CT", history[3].Reason);
        Assert.Contains("pathology_findings", history[1].Changed);
        Assert.Contains("clinical_codes", history[3].Changed);
        Assert.Equal("validate_finding", history[1].Action);
        // Each past state is readable as of its version.
        Assert.Null(db.GetStudy("S1", asOf: v1)!.PathologyFindings.OfType<JsonObject>().First()["validated"]);

        // Retrieval uses it: the validated filter, and S1 is lifted above S2 for its confirmed finding.
        var validated = db.Search("pleural effusion").Mode(SearchMode.Bm25).Where("validated = true").ToList();
        Assert.Equal(["S1"], validated.Select(h => h.StudyId));
        Assert.Equal(["S2"], db.Search("pleural effusion").Mode(SearchMode.Bm25).Where("validated = false").ToList().Select(h => h.StudyId));
        var boosted = db.Search("pleural effusion").Mode(SearchMode.Bm25).ToList();
        var plain = db.Search("pleural effusion").Mode(SearchMode.Bm25).ValidatedBoost(0).ToList();
        Assert.Equal("S2", plain[0].StudyId); // keyword evidence alone prefers S2's repeated terms
        Assert.Equal("S1", boosted[0].StudyId); // the clinician-confirmed finding lifts S1
    }

    [Fact]
    public void Rejecting_a_finding_takes_its_code_out_and_deletion_shows_in_history()
    {
        using var tmp = new TempDirectory();
        using var db = tmp.OpenDb();
        var b = new WriteBatch();
        b.Upserts.Add(Annotated(db, "S1", "FINDINGS: small left pleural effusion."));
        var v1 = db.Commit(b, "ingest").Version!.Value;
        var rej = db.ValidateFinding("S1", "Pleural Effusion", FindingStatus.Rejected, Alice with { Reason = "artefact" }, v1);
        var s = db.GetStudy("S1")!;
        Assert.DoesNotContain("ICD10:J90", s.ClinicalCodes);
        Assert.False(s.PathologyFindings.OfType<JsonObject>().First()["confirmed"]!.GetValue<bool>());
        Assert.Throws<ArgumentException>(() => db.ValidateFinding("S1", "pneumothorax", FindingStatus.Rejected, Alice, rej.Version));
        var del = new WriteBatch();
        del.Deletes.Add("S1");
        var v3 = db.Commit(del, "removed").Version!.Value;
        Assert.Equal(["created"], db.History("S1")[0].Changed);
        Assert.Equal((v3, "deleted"), (db.History("S1")[^1].Version, db.History("S1")[^1].Changed[0]));
    }

    [Fact]
    public void Racing_editors_on_the_same_base_version_one_wins_the_others_get_conflicts()
    {
        using var tmp = new TempDirectory();
        using var db = tmp.OpenDb();
        var b = new WriteBatch();
        b.Upserts.Add(Annotated(db, "S1", "FINDINGS: small left pleural effusion."));
        var v1 = db.Commit(b, "ingest").Version!.Value;
        var codes = new[] { "J90", "J91.8", "J94.8", "R09.1", "J18.9", "J98.4" };
        var outcomes = codes.AsParallel().WithDegreeOfParallelism(codes.Length).Select(code =>
        {
            using var own = tmp.OpenDb(); // separate handles, as separate processes would be
            try { own.SetDiagnosis("S1", code, "icd10cm", "confirmed", new Attribution("ed-" + code, "clinician"), v1); return code; }
            catch (ValidationConflictException) { return null; }
        }).ToList();
        var winner = Assert.Single(outcomes, o => o != null);
        var diagnoses = db.GetStudy("S1")!.Metadata["diagnoses"]!.AsArray();
        Assert.Equal(winner, Assert.Single(diagnoses)!["code"]!.GetValue<string>());
        Assert.Equal(2, db.History("S1").Count);
    }

    [Fact]
    public void Confirming_with_an_edit_corrects_the_finding_and_records_old_and_new()
    {
        using var tmp = new TempDirectory();
        using var db = tmp.OpenDb();
        var b = new WriteBatch();
        b.Upserts.Add(Annotated(db, "S1", "FINDINGS: small left pleural effusion."));
        var v1 = db.Commit(b, "ingest").Version!.Value;
        var r = db.ValidateFinding("S1", "pleural effusion", FindingStatus.Confirmed, Alice, v1, new FindingEdit(Laterality: "right", Icd10Code: "J91.8"));
        var f = db.GetStudy("S1")!.PathologyFindings.OfType<JsonObject>().Single(x => x["term"]!.GetValue<string>() == "pleural effusion");
        Assert.Equal("right", f["laterality"]!.GetValue<string>());
        Assert.Equal("left", f["validation"]!["edits"]!["laterality"]!["from"]!.GetValue<string>());
        var codes = db.GetStudy("S1")!.ClinicalCodes;
        Assert.Contains("ICD10:J91.8", codes);
        Assert.DoesNotContain("ICD10:J90", codes);
        Assert.Equal("right", db.History("S1")[1].Change!["edits"]!["laterality"]!["to"]!.GetValue<string>());
        Assert.Throws<ArgumentException>(() => db.ValidateFinding("S1", "pleural effusion", FindingStatus.Rejected, Alice, r.Version, new FindingEdit(Term: "x")));
    }
}

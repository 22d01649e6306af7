using Casebook.Cohorts;
using Casebook.Ingest.Fhir;
using Casebook.Tests.Ingest.Fhir;
using Casebook.Timeline;
using Microsoft.Data.Sqlite;

namespace Casebook.Tests.Cohorts;

/// <summary>Cohorts on the real Synthea bundles, checked against a direct computation over each patient's events.</summary>
public class SyntheaCohortTests(SyntheaFixture synthea) : IClassFixture<SyntheaFixture>
{
    List<string> AllPatients()
    {
        using var c = new SqliteConnection($"Data Source={Path.Combine(synthea.Db.Directory, "casebook.db")};Pooling=False");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT DISTINCT patient_pseudo_id FROM patient_events WHERE v_to IS NULL";
        using var r = cmd.ExecuteReader();
        var list = new List<string>();
        while (r.Read()) list.Add(r.GetString(0));
        return list;
    }

    [Fact]
    public void Lab_window_and_snomed_code_agree_with_a_direct_count_over_the_timeline()
    {
        // Synthea's HbA1c values sit between 5.8 and 6.4 %: 6.0 % splits them.
        var threshold = LabUnits.Canonical(6.0, "%", "4548-4")!.Value;
        var expectedLab = new List<string>();
        var expectedPrediabetes = new List<string>();
        foreach (var p in AllPatients())
        {
            var events = synthea.Db.PatientEvents(p);
            var times = events.Where(e => e.Type == EventType.Observation && e.Code == "4548-4" && e.CanonicalUnit == threshold.Unit
                                          && e.CanonicalValue >= threshold.Value - 1e-9 && e.SortTime != null)
                              .Select(e => DateTime.Parse(e.SortTime!, null, System.Globalization.DateTimeStyles.AdjustToUniversal)).Order().ToList();
            if (times.Where((t, i) => i + 1 < times.Count && (times[i + 1] - t).TotalDays <= 365).Any()) expectedLab.Add(p);
            if (events.Any(e => e.Type == EventType.Condition && e.Code == "15777000" && e.Status == "confirmed")) expectedPrediabetes.Add(p);
        }
        Assert.NotEmpty(expectedLab);
        Assert.NotEmpty(expectedPrediabetes);
        var lab = synthea.Db.RunCohort(CohortDefinition.Parse("""{"criteria":{"lab":{"code":"4548-4","comparator":">=","value":6.0,"unit":"%","count":2,"within_days":365}}}"""));
        Assert.Equal(expectedLab.Order(), lab.Patients.Order());
        var pre = synthea.Db.RunCohort(CohortDefinition.Parse("""{"criteria":{"code":{"system":"snomed","code":"15777000"}}}"""));
        Assert.Equal(expectedPrediabetes.Order(), pre.Patients.Order());
        var both = synthea.Db.RunCohort(CohortDefinition.Parse("""{"criteria":{"all":[{"code":{"system":"snomed","code":"15777000"}},{"not":{"lab":{"code":"4548-4","comparator":">=","value":6.0,"unit":"%","count":2,"within_days":365}}}]}}"""));
        Assert.Equal(expectedPrediabetes.Except(expectedLab).Order(), both.Patients.Order());
        // Every listed study belongs to a listed patient, and every patient's live studies are listed.
        var studies = synthea.Db.Studies(withSegments: false).Where(s => pre.Patients.Contains(s.PatientPseudoId)).Select(s => s.StudyId).Order();
        Assert.Equal(studies, pre.Studies.Select(s => s.StudyId).Order());
    }
}

using System.Text.Json.Nodes;
using Casebook.Search;
using Casebook.Validation;

namespace Casebook.Tests.Validation;

/// <summary>Similar cases over the Synthea FHIR bundles: real imaging studies with real timeline outcomes.</summary>
public class SimilarSyntheaTests
{
    [Fact]
    public void Similar_studies_from_synthea_carry_their_timeline_outcomes_and_the_summary_agrees_with_them()
    {
        using var tmp = new TempDirectory();
        using var db = tmp.OpenDb();
        var result = db.Ingest([SharedData.Require("fhir/synthea")]);
        Assert.Empty(result.Errors);
        var ids = db.Studies(withSegments: false).Select(s => s.StudyId).ToList();
        Assert.True(ids.Count >= 10, $"{ids.Count} studies");
        // The query: a study with text; the answer: every other study that any evidence reaches.
        var query = ids[0];
        var similar = db.Similar(new SimilarQuery(StudyId: query, Limit: ids.Count));
        Assert.NotEmpty(similar.Results);
        Assert.DoesNotContain(query, similar.Results.Select(r => r.StudyId));
        var withOutcomes = similar.Results.Where(r => r.Outcomes.Count > 0).ToList();
        Assert.NotEmpty(withOutcomes); // Synthea patients have procedures, medications, diagnoses after their imaging
        foreach (var r in similar.Results)
            Assert.Equal(db.Outcomes(r.StudyId).Count, r.Outcomes.Count(o => o!["origin"]!.GetValue<string>() == "timeline"));

        // The summary is over exactly these hits: per code, the hits whose outcomes carry it.
        Assert.NotEmpty(similar.Summary);
        foreach (var s in similar.Summary)
        {
            var behind = similar.Results.Where(r => r.Outcomes.OfType<JsonObject>().Any(o => (o["code"]?.GetValue<string>() ?? o["display"]?.GetValue<string>()) == s.Code))
                .Select(r => r.StudyId).Order(StringComparer.Ordinal).ToList();
            Assert.Equal(behind, s.StudyIds);
            Assert.Equal(behind.Count, s.Count);
        }
        var engine = db.SummarizeOutcomes(similar.Results.Select(r => r.StudyId));
        var top = similar.Summary[0];
        Assert.Equal(top.Count, engine.Codes.Where(c => (c.Code ?? c.Display) == top.Code).Max(c => c.Studies));

        // A clinician refuting a coded (SNOMED) outcome on one hit takes that hit out of the count: the refutation outranks FHIR.
        var coded = similar.Summary.First(s => s.Code.Length >= 6 && s.Code.All(char.IsAsciiDigit));
        var victim = coded.StudyIds[0];
        db.SetDiagnosis(victim, coded.Code, "snomed", "refuted", new Attribution("v", "validator", "not on review"), db.CurrentVersion);
        var again = db.Similar(new SimilarQuery(StudyId: query, Limit: ids.Count));
        var after = again.Summary.FirstOrDefault(s => s.Code == coded.Code);
        Assert.DoesNotContain(victim, after?.StudyIds ?? []);
        Assert.Equal(coded.Count - 1, after?.Count ?? 0);
    }
}

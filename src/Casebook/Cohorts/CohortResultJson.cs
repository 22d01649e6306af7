using System.Text.Json.Nodes;

namespace Casebook.Cohorts;

/// <summary>The JSON form of a cohort result, as `cohort run --json` and <c>POST /api/cohorts/run</c> print it.</summary>
public static class CohortResultJson
{
    /// <summary>The `cohort run --json` contract: {"name","definition_version","as_of","role","patients":{"count","ids"},"studies":{"count","ids"},"ms"}.</summary>
    public static JsonObject ToJson(CohortResult r, string role)
    {
        // Researchers: counts under 11 show as "<11" and the ids behind them are withheld (a list would give the count away).
        bool Hide(int n) => role == CohortRoles.Researcher && n > 0 && n < CohortRoles.SmallCountThreshold;
        var patients = new JsonObject { ["count"] = CohortRoles.Count(r.Patients.Count, role) };
        if (!Hide(r.Patients.Count)) patients["ids"] = new JsonArray(r.Patients.Select(p => (JsonNode)p).ToArray());
        var studies = new JsonObject { ["count"] = CohortRoles.Count(r.Studies.Count, role) };
        if (!Hide(r.Studies.Count) && !Hide(r.Patients.Count))
            studies["ids"] = new JsonArray(r.Studies.Select(s => (JsonNode)new JsonObject { ["study_id"] = s.StudyId, ["patient_pseudo_id"] = s.PatientPseudoId }).ToArray());
        return new JsonObject
        {
            ["name"] = r.Name,
            ["definition_version"] = r.DefinitionVersion,
            ["as_of"] = r.AsOf,
            ["role"] = role,
            ["patients"] = patients,
            ["studies"] = studies,
            ["ms"] = Math.Round(r.Milliseconds, 2),
        };
    }
}

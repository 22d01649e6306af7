using System.Text.Json.Nodes;
using Casebook.Ingest;
using Microsoft.AspNetCore.Http;

namespace Casebook.Server.Endpoints;

/// <summary>
/// Look-up by MRN for clinicians: the MRN is pseudonymised with the patient key (HMAC, as at ingest) and the patient's
/// studies are listed. The MRN travels in the POST body, so it never appears in URLs, logs or the audit target, and it is
/// never stored; the audit entry names only the pseudonym's prefix and the count.
/// </summary>
static class Patients
{
    public static async Task<IResult> Lookup(HttpContext ctx, CasebookDb db, ServerOptions o)
    {
        var body = await ctx.Request.ReadFromJsonAsync<JsonObject>(ctx.RequestAborted) ?? throw new ArgumentException("send {\"mrn\": \"…\", \"issuer\": \"…\"}");
        var mrn = body["mrn"]?.GetValue<string>()?.Trim();
        if (string.IsNullOrEmpty(mrn) || mrn.Length > 64) throw new ArgumentException("'mrn' must be 1–64 characters");
        var issuer = body["issuer"]?.GetValue<string>() ?? StudyManifest.DefaultIssuer;
        var keyFile = o.KeyFile ?? PatientPseudonym.DefaultKeyFile;
        // Never make a fresh key here: it would answer "no studies" for every patient instead of saying what is wrong.
        if (!File.Exists(keyFile)) throw new ProblemException(503, "Patient key unavailable", "the server has no patient pseudonym key (start it with --key-file)");
        var pseudo = PatientPseudonym.Load(keyFile).Pseudonymise(issuer, mrn);
        var studies = db.Studies(withSegments: false).Where(s => s.PatientPseudoId == pseudo).ToList();
        ctx.Items[Audit.AuditMiddleware.DetailKey] = $"patient {pseudo[..12]}…: {studies.Count} studies";
        return Results.Json(new JsonObject
        {
            ["patient_pseudo_id"] = pseudo,
            ["studies"] = new JsonArray(studies.Select(s => (JsonNode)new JsonObject
                { ["study_id"] = s.StudyId, ["modality"] = s.Modality, ["exam_date"] = s.ExamDate }).ToArray()),
        });
    }
}

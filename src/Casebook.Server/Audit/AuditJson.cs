using System.Text.Json.Nodes;

namespace Casebook.Server.Audit;

/// <summary>The JSON of the audit log: `casebook audit --json` and GET /api/audit answer the same shape.</summary>
public static class AuditJson
{
    public static JsonObject ToJson(IReadOnlyList<AuditEntry> entries, AuditVerification? verification)
    {
        var json = new JsonObject
        {
            ["entries"] = new JsonArray(entries.Select(e => (JsonNode)new JsonObject
            {
                ["seq"] = e.Seq, ["time"] = e.Time, ["actor"] = e.Actor, ["role"] = e.Role, ["action"] = e.Action, ["target"] = e.Target,
                ["remote"] = e.Remote, ["outcome"] = e.Outcome, ["detail"] = e.Detail, ["prev_hash"] = e.PrevHash, ["hash"] = e.Hash,
            }).ToArray()),
        };
        if (verification != null)
            json["verification"] = new JsonObject
            {
                ["intact"] = verification.Intact, ["entries"] = verification.Entries, ["first_bad_seq"] = verification.FirstBadSeq, ["reason"] = verification.Reason,
                ["head_hash"] = verification.HeadHash,
            };
        return json;
    }
}

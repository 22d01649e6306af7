using System.Text.Json.Nodes;

namespace Casebook.Validation;

/// <summary>Who makes a validation change and why: recorded on the version it makes. <paramref name="Time"/> is when the
/// clinician acted when that is not now (a cluster shard applying the change from its log, possibly again after a restore).</summary>
public sealed record Attribution(string Author, string Role, string? Reason = null, string? Time = null);

/// <summary>
/// Roles allowed to change a study's clinical content. <c>validator</c> and <c>clinician</c> may confirm or reject
/// findings, set diagnoses and draw regions; <c>admin</c> may do everything. Anyone else (researcher, reader, …) is refused:
/// validation is what makes retrieval trustworthy, so it is reserved for clinical roles.
/// </summary>
public static class ValidationRoles
{
    public static readonly IReadOnlyList<string> Allowed = ["validator", "clinician", "admin"];

    public static void Check(Attribution who)
    {
        if (string.IsNullOrWhiteSpace(who.Author)) throw new ArgumentException("--author is empty: every validation change names its author");
        if (!Allowed.Contains(who.Role, StringComparer.Ordinal))
            throw new UnauthorizedAccessException($"role '{who.Role}' may not validate; allowed roles: {string.Join(", ", Allowed)}");
    }
}

/// <summary>The study changed after the version the editor started from: nothing was written.</summary>
public sealed class ValidationConflictException(string studyId, long baseVersion, long currentVersion)
    : Exception($"conflict: study '{studyId}' was changed in version {currentVersion}, after base version {baseVersion}; nothing was written. Reload the study at version {currentVersion} (see `history {studyId}`) and apply the change again with --base-version {currentVersion}")
{
    public string StudyId { get; } = studyId;
    public long BaseVersion { get; } = baseVersion;
    /// <summary>The latest version that changed the study.</summary>
    public long CurrentVersion { get; } = currentVersion;
}

public static class FindingStatus
{
    public const string Confirmed = "confirmed", Rejected = "rejected", Edited = "edited";
}

public static class DiagnosisStatus
{
    public const string Confirmed = "confirmed", Provisional = "provisional", Refuted = "refuted";
    public static readonly IReadOnlyList<string> All = [Confirmed, Provisional, Refuted];
}

public static class CodeSystems
{
    public const string Icd10Cm = "icd10cm", Snomed = "snomed";
    /// <summary>The prefix the code carries in <c>clinical_codes</c> (as text-derived ICD10: and FHIR SNOMED: codes do).</summary>
    public static string Prefix(string system) => system == Icd10Cm ? "ICD10:" : "SNOMED:";
}

/// <summary>What a validation action did: the version it made and the JSON it wrote.</summary>
public sealed record ValidationResult(string StudyId, long Version, string Action, JsonNode Change);

/// <summary>One entry of a study's history.</summary>
public sealed record HistoryEntry(long Version, string Time, string Author, string? Role, string Message, string? Reason, string? Action,
    IReadOnlyList<string> Changed, JsonNode? Change)
{
    public JsonObject ToJson() => new()
    {
        ["version"] = Version, ["time"] = Time, ["author"] = Author, ["role"] = Role, ["message"] = Message, ["reason"] = Reason,
        ["action"] = Action, ["changed"] = new JsonArray(Changed.Select(c => (JsonNode)JsonValue.Create(c)).ToArray()), ["change"] = Change?.DeepClone(),
    };
}

/// <summary>
/// An edit made while validating a finding: a corrected term, laterality or ICD-10-CM code. The old values are kept in the
/// validation stamp (<c>edits: {field: {from, to}}</c>) so the history shows what the clinician changed.
/// </summary>
public sealed record FindingEdit(string? Term = null, string? Laterality = null, string? Icd10Code = null)
{
    public bool IsEmpty => Term == null && Laterality == null && Icd10Code == null;

    internal JsonObject? Apply(IReadOnlyList<JsonObject> findings, string status)
    {
        if (IsEmpty) return null;
        if (status != FindingStatus.Confirmed) throw new ArgumentException("an edit corrects a finding the clinician confirms: use --status confirmed with it");
        if (Laterality != null && Laterality is not ("left" or "right" or "bilateral" or "none"))
            throw new ArgumentException($"laterality '{Laterality}': expected left, right, bilateral or none");
        string? code = null;
        if (Icd10Code != null)
            code = Casebook.Extract.Clinical.ClinicalCodes.Normalise(Icd10Code) ?? throw new ArgumentException($"code '{Icd10Code}' is not an ICD-10-CM code");
        var edits = new JsonObject();
        void Record(string field, JsonNode? from, JsonNode? to) { if (!edits.ContainsKey(field)) edits[field] = new JsonObject { ["from"] = from?.DeepClone(), ["to"] = to?.DeepClone() }; }
        foreach (var f in findings)
        {
            if (Term != null) { Record("term", f["term"], Term.Trim()); f["term"] = Term.Trim(); }
            if (Laterality != null) { Record("laterality", f["laterality"], Laterality); f["laterality"] = Laterality == "none" ? null : Laterality; }
            if (code != null)
            {
                var codes = new JsonArray(JsonValue.Create(Casebook.Extract.Clinical.ClinicalCodes.Icd10Prefix + code));
                Record("codes", f["codes"], codes);
                f["codes"] = codes;
            }
        }
        return edits;
    }
}

using System.Text.Json.Nodes;
using Casebook.Model;
using Casebook.Validation;

namespace Casebook.Findings;

/// <summary>
/// What a classifier learns: a finding term ("mass") or a diagnosis code ("ICD10:C50.919"). <see cref="Key"/> is stable
/// ("finding:mass", "diagnosis:ICD10:C50.919") and names the model; <see cref="Term"/> is what a suggestion says.
/// </summary>
public sealed record FindingLabel(string Key, string Kind, string Term, IReadOnlyList<string> Codes)
{
    public const string FindingKind = "finding", DiagnosisKind = "diagnosis";

    public static FindingLabel Finding(string term) => new($"{FindingKind}:{Normalise(term)}", FindingKind, Normalise(term), []);

    public static FindingLabel Diagnosis(string prefixedCode, string? display) =>
        new($"{DiagnosisKind}:{prefixedCode}", DiagnosisKind, string.IsNullOrWhiteSpace(display) ? prefixedCode : display.Trim(), [prefixedCode]);

    internal static string Normalise(string term) => term.Trim().ToLowerInvariant();
}

/// <summary>
/// The clinician's word on one study, read from its validation marks: which labels were confirmed (positives) and which
/// were rejected or refuted (explicit negatives), separately for findings and diagnoses. Text-derived findings, provisional
/// diagnoses and model suggestions are not labels: only what a clinician ruled on counts.
/// </summary>
public sealed class StudyLabels
{
    public required string StudyId { get; init; }
    public Dictionary<string, (FindingLabel Label, bool Positive)> Findings { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, (FindingLabel Label, bool Positive)> Diagnoses { get; } = new(StringComparer.Ordinal);

    /// <summary>The clinician validated at least one finding here (so, closed-world, every other finding term is absent).</summary>
    public bool FindingsReviewed => Findings.Count > 0;
    /// <summary>The clinician confirmed or refuted at least one diagnosis here.</summary>
    public bool DiagnosesReviewed => Diagnoses.Count > 0;

    public static StudyLabels Of(StudyRecord study)
    {
        var labels = new StudyLabels { StudyId = study.StudyId };
        foreach (var f in study.PathologyFindings.OfType<JsonObject>())
        {
            if (f["validated"]?.GetValue<bool>() != true || f["term"]?.GetValue<string>() is not { Length: > 0 } term) continue;
            var label = FindingLabel.Finding(term);
            var positive = f["confirmed"]?.GetValue<bool>() == true;
            foreach (var code in (f["codes"] as JsonArray ?? []).Select(c => c?.GetValue<string>()).OfType<string>()) labels._validatedCodes.Add(code);
            // Every assertion variant of a term carries the same validation; a confirmation wins over a stale rejection.
            if (!labels.Findings.TryGetValue(label.Key, out var had) || positive) labels.Findings[label.Key] = (label, positive || had.Positive);
        }
        foreach (var d in (study.Metadata["diagnoses"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var status = d["status"]?.GetValue<string>();
            if (status is not (DiagnosisStatus.Confirmed or DiagnosisStatus.Refuted)) continue; // provisional: no ruling yet
            if (d["system"]?.GetValue<string>() is not { } system || d["code"]?.GetValue<string>() is not { } code) continue;
            var label = FindingLabel.Diagnosis(CodeSystems.Prefix(system) + code, d["display"]?.GetValue<string>());
            labels.Diagnoses[label.Key] = (label, status == DiagnosisStatus.Confirmed);
        }
        return labels;
    }

    /// <summary>
    /// This study as a training example for <paramref name="label"/>: true (positive), false (negative) or null (unknown).
    /// Negatives are the clinician's rejections and refutations, and, with <paramref name="implicitNegatives"/>, studies
    /// the clinician reviewed in the same domain (findings or diagnoses) without confirming this label.
    /// </summary>
    public bool? Example(FindingLabel label, bool implicitNegatives)
    {
        var (ruled, reviewed) = label.Kind == FindingLabel.FindingKind ? (Findings, FindingsReviewed) : (Diagnoses, DiagnosesReviewed);
        if (ruled.TryGetValue(label.Key, out var r)) return r.Positive;
        return implicitNegatives && reviewed ? false : null;
    }

    /// <summary>
    /// Whether a clinician has ruled on <paramref name="label"/> here, so that no suggestion is made for it: it is a training
    /// example (<see cref="Example"/>), or a validated finding carries its term or one of its codes (e.g. a suggestion the
    /// clinician confirmed or rejected).
    /// </summary>
    public bool RuledOn(FindingLabel label, bool implicitNegatives) =>
        Example(label, implicitNegatives) != null
        || Findings.ContainsKey(FindingLabel.Finding(label.Term).Key)
        || (label.Codes.Count > 0 && _validatedCodes.Overlaps(label.Codes));

    readonly HashSet<string> _validatedCodes = new(StringComparer.OrdinalIgnoreCase);

    public IEnumerable<FindingLabel> Confirmed => Findings.Values.Concat(Diagnoses.Values).Where(v => v.Positive).Select(v => v.Label);
}

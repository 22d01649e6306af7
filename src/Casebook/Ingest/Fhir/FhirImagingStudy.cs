using System.Text;
using System.Text.Json.Nodes;

namespace Casebook.Ingest.Fhir;

/// <summary>A report or document whose text belongs to an imaging study (or stands as a study of its own).</summary>
public sealed record FhirLinkedText(string Title, string Text, string Source);

/// <summary>
/// What FHIR says about one imaging study: the pieces its report text is built from (procedure, modality, body site,
/// reason, encounter diagnoses, series, linked reports). study_id is the DICOM StudyInstanceUID remapped with the same
/// keyed map as DICOM de-identification, so the FHIR row and the images land on one study.
/// </summary>
public sealed class FhirImagingStudy
{
    public required string StudyId { get; init; }
    public required FhirPatient Patient { get; init; }
    public required string Source { get; init; }
    public FhirTime? Started { get; init; }
    public string? Modality { get; init; }
    public List<string> Procedures { get; } = new();
    public List<string> Modalities { get; } = new();
    public List<string> BodySites { get; } = new();
    public List<string> Reasons { get; } = new();
    public List<string> EncounterDiagnoses { get; } = new();
    public List<string> Series { get; } = new();
    public string? Description { get; init; }
    public List<FhirLinkedText> Reports { get; } = new();
    /// <summary>True for a report/document with no imaging study: the study row holds only its text.</summary>
    public bool IsDocument { get; init; }

    /// <summary>The study's report text: sections the segmenter knows (EXAM, INDICATION, FINDINGS…), one per FHIR element.</summary>
    public string BuildText()
    {
        var sb = new StringBuilder();
        void Section(string heading, IEnumerable<string> lines)
        {
            var l = lines.Where(x => !string.IsNullOrWhiteSpace(x)).Distinct().ToList();
            if (l.Count == 0) return;
            if (sb.Length > 0) sb.Append("\n\n");
            sb.Append(heading).Append(": ").Append(string.Join("; ", l)).Append('.');
        }
        if (!IsDocument)
        {
            var exam = new List<string>();
            exam.AddRange(Procedures);
            if (Modalities.Count > 0) exam.Add("modality " + string.Join(", ", Modalities));
            if (BodySites.Count > 0) exam.Add("body site " + string.Join(", ", BodySites));
            if (Description != null) exam.Add(Description);
            Section("EXAM", exam);
            Section("INDICATION", Reasons);
            Section("CLINICAL HISTORY", EncounterDiagnoses.Select(d => "encounter diagnosis " + d));
            Section("TECHNIQUE", Series);
        }
        foreach (var r in Reports)
        {
            if (sb.Length > 0) sb.Append("\n\n");
            sb.Append(r.Title.ToUpperInvariant()).Append(":\n").Append(r.Text.Trim());
        }
        return sb.ToString();
    }

    /// <summary>metadata.fhir of the study row: marks the row as (partly) FHIR-derived, so later DICOM keeps this text.</summary>
    public JsonObject ToMetadata() => new()
    {
        ["source"] = Source,
        ["started"] = Started?.Value,
        ["sort_time"] = Started?.SortKey,
        ["reports"] = new JsonArray(Reports.Select(r => (JsonNode)r.Source).ToArray()),
        ["document"] = IsDocument,
    };
}

using System.Text.Json.Nodes;

namespace Casebook.Timeline;

/// <summary>Kinds of patient event; the string form is what the events table, JSON output and filters use.</summary>
public static class EventType
{
    public const string Condition = "condition";
    public const string Observation = "observation";
    public const string Procedure = "procedure";
    public const string Medication = "medication";
    public const string Allergy = "allergy";
    public const string Immunization = "immunization";
    public const string Encounter = "encounter";
    public const string Imaging = "imaging";
    public const string Report = "report";
    public static readonly IReadOnlyList<string> All = [Condition, Observation, Procedure, Medication, Allergy, Immunization, Encounter, Imaging, Report];
}

/// <summary>
/// One event on a patient's timeline (a row of <c>patient_events</c>). Times are already date-shifted with the patient's
/// shift (<see cref="Casebook.Extract.Dicom.Deid.DateShift"/>) and keep the precision the source gave ("2019", "2019-04",
/// "2019-04-02", or a full date-time with its offset); <see cref="SortTime"/> is the start of that period in UTC, for ordering
/// and windows. Nothing is imputed: a missing value or time stays null and is named in <see cref="Missing"/>.
/// </summary>
public sealed class TimelineEvent
{
    /// <summary>Stable id: the source plus, for an Observation component, "/component/N".</summary>
    public required string EventId { get; init; }
    public required string PatientPseudoId { get; init; }
    public required string Type { get; init; }
    /// <summary>Shifted time as the source wrote it (precision kept); null when the source has none.</summary>
    public string? Time { get; set; }
    public string? TimeEnd { get; set; }
    /// <summary>year, month, day or time (the precision of <see cref="Time"/>).</summary>
    public string? Precision { get; set; }
    /// <summary>Start of <see cref="Time"/>'s period as UTC "yyyy-MM-ddTHH:mm:ssZ" (date-only times count from 00:00).</summary>
    public string? SortTime { get; set; }
    public string? CodeSystem { get; set; }
    public string? Code { get; set; }
    public string? Display { get; set; }
    /// <summary>Numeric value as reported, with its unit.</summary>
    public double? Value { get; set; }
    public string? Unit { get; set; }
    /// <summary>Coded or text value (e.g. "Never smoker").</summary>
    public string? ValueText { get; set; }
    /// <summary>The value in UCUM canonical units (base units, or mmol/mol for HbA1c; see docs/fhir.md).</summary>
    public double? CanonicalValue { get; set; }
    public string? CanonicalUnit { get; set; }
    /// <summary>True/false when the source or a reference interval says so; null when unknown (never guessed).</summary>
    public bool? Abnormal { get; set; }
    /// <summary>What <see cref="Abnormal"/> rests on: interpretation, reference_range or reference_interval_table.</summary>
    public string? AbnormalBasis { get; set; }
    /// <summary>Status: verification status for conditions and allergies (confirmed, provisional, refuted, entered-in-error…), else the resource status.</summary>
    public string? Status { get; set; }
    /// <summary>Fields the source left out that an event of this type normally has ("value", "time", "code").</summary>
    public List<string> Missing { get; set; } = new();
    /// <summary>The study this event belongs to (imaging events and the reports linked to an imaging study).</summary>
    public string? StudyId { get; set; }
    /// <summary>Resource type + "/" + keyed hash of its logical id (the id itself is not stored).</summary>
    public required string Source { get; init; }
    /// <summary>Further fields by type (category, clinical_status, reference range, interpretation, intent, …).</summary>
    public JsonObject Detail { get; set; } = new();

    /// <summary>A refuted or entered-in-error condition/allergy: kept on the timeline, but filters and outcomes skip it.</summary>
    public bool Negated => Status is "refuted" or "entered-in-error";

    /// <summary>Readable one-line summary ("condition: Fracture of clavicle (confirmed)"); what filters match against.</summary>
    public string Text
    {
        get
        {
            var s = Type + ": " + (Display ?? Code ?? "(no code)");
            if (Value is { } v) s += " " + v.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture) + (Unit is { Length: > 0 } u ? " " + u : "");
            else if (ValueText != null) s += " " + ValueText;
            if (Abnormal == true) s += " (abnormal)";
            if (Status is { Length: > 0 } st && Type is EventType.Condition or EventType.Allergy) s += $" ({st})";
            return s;
        }
    }

    /// <summary>The JSON form used in the study's timeline_events column and the CLI (snake_case, nulls left out except missing ones).</summary>
    public JsonObject ToJson()
    {
        var o = new JsonObject
        {
            ["event_id"] = EventId,
            ["time"] = Time,
            ["type"] = Type,
            ["code_system"] = CodeSystem,
            ["code"] = Code,
            ["display"] = Display,
            ["text"] = Text,
        };
        if (TimeEnd != null) o["time_end"] = TimeEnd;
        if (Precision != null) o["precision"] = Precision;
        if (Value != null) o["value"] = Value;
        if (ValueText != null) o["value_text"] = ValueText;
        if (Unit != null) o["unit"] = Unit;
        if (CanonicalValue != null) { o["canonical_value"] = CanonicalValue; o["canonical_unit"] = CanonicalUnit; }
        o["abnormal"] = Abnormal;
        if (AbnormalBasis != null) o["abnormal_basis"] = AbnormalBasis;
        if (Status != null) o["status"] = Status;
        if (Negated) o["negated"] = true;
        if (Missing.Count > 0) o["missing"] = new JsonArray(Missing.Select(m => (JsonNode)m).ToArray());
        if (StudyId != null) o["study_id"] = StudyId;
        o["source"] = Source;
        if (Detail.Count > 0) o["detail"] = Detail.DeepClone();
        return o;
    }
}

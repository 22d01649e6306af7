using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Casebook.Export;
using Casebook.Model;
using Casebook.Timeline;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;

namespace Casebook.Cohorts;

/// <summary>Roles as the server names them (Casebook.Server.Security.Roles); the engine cannot reference the server.</summary>
public static class CohortRoles
{
    public const string Clinician = "clinician", Researcher = "researcher", Validator = "validator", Admin = "admin";
    public static readonly IReadOnlyList<string> All = [Clinician, Researcher, Validator, Admin];
    /// <summary>Small-cell suppression: researchers see counts under 11 as "&lt;11".</summary>
    public const int SmallCountThreshold = 11;

    public static string Check(string? role)
    {
        var r = (role ?? Clinician).Trim().ToLowerInvariant();
        return All.Contains(r) ? r : throw new ArgumentException($"role '{role}' is not one of {string.Join(", ", All)}");
    }

    /// <summary>A count as a researcher may see it: "&lt;11" below the threshold (but 0 stays 0: an empty cohort discloses no one).</summary>
    public static JsonNode Count(int n, string role) =>
        role == Researcher && n > 0 && n < SmallCountThreshold ? JsonValue.Create("<11") : JsonValue.Create(n);
}

/// <summary>What a cohort export wrote and what it left out.</summary>
public sealed record CohortExportResult(string Format, string Path, int Patients, int Studies, int Resources,
    int AudioLeftOut, int ImagesLeftOut, int PdfsLeftOut);

/// <summary>
/// De-identified exports of a cohort's studies: Parquet (the <c>clinical_retrieval</c> table of <see cref="TableExporter"/>,
/// filtered to the cohort), CSV (one row per study, the de-identified columns) and a FHIR R4 Bundle (pseudonymous Patient,
/// Condition, Observation and ImagingStudy resources with the shifted dates stored at ingest). Rows hold pseudonyms only:
/// ingest already removed names and identifiers. Dictation audio, report PDFs (original scans) and key images flagged for
/// burned-in text are left out unless an admin allows them; researchers cannot export a cohort under 11 patients.
/// </summary>
public static class CohortExporter
{
    public static readonly IReadOnlyList<string> Formats = ["parquet", "csv", "fhir"];

    public static CohortExportResult Export(CasebookDb db, CohortResult cohort, string format, string outPath, string? role, bool allowSensitive)
    {
        var r = CohortRoles.Check(role);
        var f = (format ?? "").Trim().ToLowerInvariant();
        if (!Formats.Contains(f)) throw new ArgumentException($"cohort export format '{format}' is not one of {string.Join(", ", Formats)}");
        if (allowSensitive && r != CohortRoles.Admin)
            throw new UnauthorizedAccessException($"allowing sensitive content (dictation audio, burned-in images, report PDFs) needs role admin, not {r}");
        if (r == CohortRoles.Researcher && cohort.Patients.Count < CohortRoles.SmallCountThreshold)
            throw new UnauthorizedAccessException($"the cohort has <{CohortRoles.SmallCountThreshold} patients: researchers may export only cohorts of at least {CohortRoles.SmallCountThreshold} (small-count suppression)");
        if (Path.GetDirectoryName(Path.GetFullPath(outPath)) is { } dir) Directory.CreateDirectory(dir);

        int audio = 0, images = 0, pdfs = 0;
        IEnumerable<StudyRecord> Studies(bool withSegments)
        {
            foreach (var (id, _) in cohort.Studies)
            {
                var s = db.GetStudy(id, cohort.AsOf, withSegments) ?? throw new InvalidOperationException($"study {id} is not in version {cohort.AsOf}");
                if (!allowSensitive)
                {
                    if (s.DictationAudio != null) { s.DictationAudio = null; s.DictationAudioMime = null; audio++; }
                    if (s.ReportPdf != null) { s.ReportPdf = null; pdfs++; }
                    if (s.DicomImage != null && BurnedInFlagged(s.Metadata)) { s.DicomImage = null; s.DicomMime = null; images++; }
                    // Segments can carry their own audio or slice blobs; none of them leave unless allowed.
                    foreach (var g in s.Segments) g.Blob = null;
                }
                yield return s;
            }
        }

        int resources = 0;
        switch (f)
        {
            case "parquet":
                TableExporter.Export(Studies(true), db.ReadBlob, "parquet", outPath, new ExportOptions { IncludeBlobs = true });
                break;
            case "csv":
                WriteCsv(Studies(false), outPath);
                break;
            default:
                resources = WriteFhir(db, cohort, Studies(false), outPath);
                break;
        }
        return new CohortExportResult(f, outPath, cohort.Patients.Count, cohort.Studies.Count, resources, audio, images, pdfs);
    }

    /// <summary>True when any <c>burned_in_annotation</c> in the metadata (study or series) says the header or OCR found burned-in text.</summary>
    public static bool BurnedInFlagged(JsonNode? node) => node switch
    {
        JsonObject o => o.Any(kv =>
            (kv.Key == "burned_in_annotation" && kv.Value is JsonObject b && (True(b["header"]) || True(b["ocr_text_found"])))
            || BurnedInFlagged(kv.Value)),
        JsonArray a => a.Any(BurnedInFlagged),
        _ => false,
    };

    static bool True(JsonNode? n) => n is JsonValue v && ((v.TryGetValue<bool>(out var b) && b) || (v.TryGetValue<string>(out var s) && s.Equals("YES", StringComparison.OrdinalIgnoreCase)));

    static readonly string[] CsvColumns = ["study_id", "patient_pseudo_id", "modality", "exam_date", "sex", "age_band", "clinical_codes", "findings", "report_text", "has_image"];

    static void WriteCsv(IEnumerable<StudyRecord> studies, string path)
    {
        using var w = new StreamWriter(path, false, new UTF8Encoding(false));
        w.WriteLine(string.Join(",", CsvColumns));
        foreach (var s in studies)
        {
            var findings = s.PathologyFindings.OfType<JsonObject>()
                .Where(x => x["affirmed"]?.GetValue<bool>() != false && x["negated"]?.GetValue<bool>() != true)
                .Select(x => x["term"]?.ToString()).Where(t => t != null).Distinct();
            string?[] cells =
            [
                s.StudyId, s.PatientPseudoId, s.Modality, s.ExamDate, s.Metadata["sex"]?.ToString(), s.Metadata["age_band"]?.ToString(),
                string.Join(";", s.ClinicalCodes), string.Join(";", findings), s.ReportText, s.DicomImage != null ? "true" : "false",
            ];
            w.WriteLine(string.Join(",", cells.Select(Csv)));
        }
    }

    /// <summary>RFC 4180 quoting; a cell starting with = + - @ gets a leading quote so spreadsheets do not run it as a formula.</summary>
    static string Csv(string? v)
    {
        if (string.IsNullOrEmpty(v)) return "";
        if (v[0] is '=' or '+' or '-' or '@' && !double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out _)) v = "'" + v;
        return v.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + v.Replace("\"", "\"\"") + "\"" : v;
    }

    static int WriteFhir(CasebookDb db, CohortResult cohort, IEnumerable<StudyRecord> studies, string path)
    {
        var bundle = new Bundle { Type = Bundle.BundleType.Collection, Timestamp = DateTimeOffset.UtcNow };
        var sexes = new Dictionary<string, string?>();
        var imaging = new List<Resource>();
        foreach (var s in studies)
        {
            sexes.TryAdd(s.PatientPseudoId, s.Metadata["sex"]?.ToString());
            var study = new ImagingStudy
            {
                Id = FhirId("study", s.StudyId),
                Status = ImagingStudy.ImagingStudyStatus.Available,
                Subject = new ResourceReference("Patient/" + s.PatientPseudoId),
                Started = s.ExamDate,
            };
            if (s.Modality != null) study.Modality.Add(new Coding("http://dicom.nema.org/resources/ontology/DCM", s.Modality));
            imaging.Add(study);
        }
        foreach (var p in cohort.Patients)
        {
            // Pseudonymous id only: no name, identifier, birth date, address or telecom.
            var patient = new Patient { Id = p };
            if (sexes.GetValueOrDefault(p) is { } sex)
                patient.Gender = sex switch { "M" => AdministrativeGender.Male, "F" => AdministrativeGender.Female, "O" => AdministrativeGender.Other, _ => AdministrativeGender.Unknown };
            Add(bundle, patient);
            var n = 0;
            foreach (var e in db.PatientEvents(p, cohort.AsOf))
            {
                n++;
                if (e.Negated) continue;
                if (Event(e, p, n) is { } r) Add(bundle, r);
            }
        }
        foreach (var r in imaging) Add(bundle, r);
        File.WriteAllText(path, new FhirJsonSerializer().SerializeToString(bundle));
        return bundle.Entry.Count;
    }

    static void Add(Bundle b, Resource r) => b.Entry.Add(new Bundle.EntryComponent { FullUrl = $"urn:casebook:{r.TypeName}/{r.Id}", Resource = r });

    /// <summary>A FHIR id (≤ 64 of [A-Za-z0-9.-]) that names the source row without copying free text into it.</summary>
    static string FhirId(string kind, string value)
    {
        var clean = new string(value.Where(ch => char.IsAsciiLetterOrDigit(ch) || ch is '-' or '.').ToArray());
        return clean.Length is > 0 and <= 64 && clean == value ? clean : kind + "-" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(value)))[..32];
    }

    static Resource? Event(TimelineEvent e, string patient, int n)
    {
        var id = $"{patient[..Math.Min(16, patient.Length)]}-{n}";
        var code = new CodeableConcept();
        if (e.Code != null) code.Coding.Add(new Coding(e.CodeSystem, e.Code, e.Display));
        else if (e.Display != null) code.Text = e.Display;
        var subject = new ResourceReference("Patient/" + patient);
        switch (e.Type)
        {
            case EventType.Condition:
                var c = new Condition { Id = "c" + id, Subject = subject, Code = code };
                if (e.Time != null) c.Onset = new FhirDateTime(e.Time);
                if (e.TimeEnd != null) c.Abatement = new FhirDateTime(e.TimeEnd);
                if (e.Status != null) c.VerificationStatus = new CodeableConcept("http://terminology.hl7.org/CodeSystem/condition-ver-status", e.Status);
                return c;
            case EventType.Observation:
                var o = new Observation { Id = "o" + id, Subject = subject, Code = code, Status = ObservationStatus.Final };
                if (e.Time != null) o.Effective = new FhirDateTime(e.Time);
                if (e.Value is { } v) o.Value = new Quantity((decimal)v, e.Unit ?? "") { System = "http://unitsofmeasure.org" };
                else if (e.ValueText != null) o.Value = new FhirString(e.ValueText);
                return o;
            default:
                return null; // procedures, medications, encounters …: not part of the cohort bundle yet
        }
    }
}

using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Casebook.Ingest.Dicom;
using Casebook.Timeline;
using Hl7.Fhir.Model;
using Hl7.Fhir.Utility;

namespace Casebook.Ingest.Fhir;

/// <summary>What FHIR ingest made of a set of files: events, imaging/document studies, counts.</summary>
public sealed class FhirBatch
{
    public List<TimelineEvent> Events { get; } = new();
    public List<FhirImagingStudy> Studies { get; } = new();
    /// <summary>Resources parsed (every type, including ones Casebook does not map, e.g. Claim).</summary>
    public int Resources { get; set; }
    /// <summary>Resources of types with no timeline meaning here (Claim, Organization, CarePlan…), read and left out.</summary>
    public int Unmapped { get; set; }
}

/// <summary>
/// Turns parsed FHIR resources into patient timeline events and imaging studies. Every resource is tied to its Patient
/// (subject/patient reference, resolved within the files of this ingest); its times are shifted with that patient's shift,
/// its logical id is replaced by a keyed hash. A resource that cannot be placed (no patient, unknown patient, no code) is
/// reported with its file, position, type and id, and the rest goes on.
/// </summary>
public sealed class FhirTimelineMapper(PatientPseudonym key, string? issuerOverride, List<IngestError> errors, Casebook.Extract.Documents.DocumentExtractionOptions? documents = null)
{
    const string DicomUidSystem = "urn:dicom:uid";
    static readonly string[] ImagingWords = ["x-ray", "xray", "radiograph", "ct ", "computed tomography", "mri", "magnetic resonance", "ultrasound", "sonograph", "echocardiogra", "mammogra", "scan", "imaging", "tomograph", "fluorosc", "angiogra", "pet "];
    readonly byte[] _idKey = key.DeriveKey("fhir-id");
    readonly Dictionary<string, FhirEntry> _byRef = new(StringComparer.Ordinal);
    readonly Dictionary<FhirEntry, FhirPatient?> _patients = new();

    public FhirBatch Map(IReadOnlyList<FhirEntry> entries)
    {
        var batch = new FhirBatch { Resources = entries.Count };
        foreach (var e in entries)
        {
            if (e.FullUrl != null) _byRef[e.FullUrl] = e;
            if (e.Resource.Id != null) _byRef[e.Resource.TypeName + "/" + e.Resource.Id] = e;
        }
        foreach (var e in entries.Where(e => e.Resource is Patient))
        {
            var p = FhirPatient.From((Patient)e.Resource, key, issuerOverride);
            if (p == null) errors.Add(new IngestError(e.File, $"{e.Label}: Patient has neither an identifier nor an id; its resources cannot be pseudonymised"));
            _patients[e] = p;
        }
        var imaging = new Dictionary<FhirEntry, FhirImagingStudy>();
        var reports = new List<(FhirEntry Entry, FhirPatient Patient, string Title, string Text, string? StudyRef, string? Encounter)>();
        foreach (var e in entries)
        {
            if (e.Resource is Patient) continue;
            if (!Mapped(e.Resource)) { batch.Unmapped++; continue; }
            var patient = PatientOf(e);
            if (patient == null) continue;
            try
            {
                switch (e.Resource)
                {
                    case Observation o: batch.Events.AddRange(MapObservation(e, o, patient)); break;
                    case Condition c: Add(batch, MapCondition(e, c, patient)); break;
                    case Procedure p: Add(batch, Basic(e, patient, EventType.Procedure, p.Code, Time(p.Performed, patient), Lit(p.Status))); break;
                    case MedicationRequest m: Add(batch, MapMedication(e, patient, m.Medication, Time(m.AuthoredOn, patient), Lit(m.Status), Lit(m.Intent))); break;
                    case MedicationStatement m: Add(batch, MapMedication(e, patient, m.Medication, Time(m.Effective, patient) ?? Time(m.DateAsserted, patient), Lit(m.Status), "statement")); break;
                    case AllergyIntolerance a: Add(batch, MapAllergy(e, a, patient)); break;
                    case Immunization i: Add(batch, Basic(e, patient, EventType.Immunization, i.VaccineCode, Time(i.Occurrence, patient), Lit(i.Status))); break;
                    case Encounter enc: Add(batch, MapEncounter(e, enc, patient)); break;
                    case ImagingStudy s:
                        var study = MapImagingStudy(e, s, patient, entries);
                        imaging[e] = study;
                        batch.Studies.Add(study);
                        var ev = Basic(e, patient, EventType.Imaging, s.ProcedureCode.FirstOrDefault(), Time(s.Started, patient), Lit(s.Status), allowNoCode: true);
                        ev.StudyId = study.StudyId;
                        if (ev.Code == null && study.Modality != null) { ev.CodeSystem = "http://dicom.nema.org/resources/ontology/DCM"; ev.Code = study.Modality; ev.Missing.Remove("code"); }
                        ev.Display ??= string.Join(" ", new[] { study.Modality, string.Join("/", study.BodySites) }.Where(x => !string.IsNullOrEmpty(x))) is { Length: > 0 } label ? label : null;
                        Add(batch, ev);
                        break;
                    case DiagnosticReport r:
                    {
                        var rev = Basic(e, patient, EventType.Report, r.Code, Time(r.Effective, patient) ?? Time(r.Issued, patient), Lit(r.Status));
                        var text = ReportText(e, r);
                        rev.Detail["category"] = r.Category.FirstOrDefault()?.Coding.FirstOrDefault()?.Code;
                        rev.Detail["has_text"] = text != null;
                        Add(batch, rev);
                        if (text != null) reports.Add((e, patient, rev.Display ?? "Report", text, r.ImagingStudy.FirstOrDefault()?.Reference, r.Encounter?.Reference));
                        break;
                    }
                    case DocumentReference d:
                    {
                        var dev = Basic(e, patient, EventType.Report, d.Type, Time(d.Date, patient) ?? Time(d.Context?.Period, patient), Lit(d.DocStatus) ?? Lit(d.Status));
                        var text = DocumentText(e, d);
                        dev.Detail["has_text"] = text != null;
                        Add(batch, dev);
                        var related = d.Context?.Related.Select(x => x.Reference).FirstOrDefault(x => x != null && Resolve(x)?.Resource is ImagingStudy);
                        if (text != null) reports.Add((e, patient, dev.Display ?? "Document", text, related, d.Context?.Encounter.FirstOrDefault()?.Reference));
                        break;
                    }
                }
            }
            catch (Exception ex) when (ex is InvalidDataException or FormatException or ArgumentException or OverflowException)
            {
                errors.Add(new IngestError(e.File, $"{e.Label}: {ex.Message}"));
            }
        }
        LinkReports(batch, imaging, reports);
        // Report events linked to a study carry its study_id.
        return batch;
    }

    static bool Mapped(Resource r) => r is Observation or Condition or Procedure or MedicationRequest or MedicationStatement or AllergyIntolerance
        or Immunization or Encounter or ImagingStudy or DiagnosticReport or DocumentReference;

    static void Add(FhirBatch batch, TimelineEvent? e) { if (e != null) batch.Events.Add(e); }

    FhirEntry? Resolve(string? reference)
    {
        if (string.IsNullOrWhiteSpace(reference)) return null;
        if (_byRef.TryGetValue(reference, out var e)) return e;
        // Absolute references (http://server/fhir/Patient/123[/_history/2]) resolve by their type/id tail.
        var parts = reference.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var h = Array.IndexOf(parts, "_history");
        if (h > 0) parts = parts[..h];
        return parts.Length >= 2 && _byRef.TryGetValue(parts[^2] + "/" + parts[^1], out e) ? e : null;
    }

    FhirPatient? PatientOf(FhirEntry e)
    {
        var reference = e.Resource switch
        {
            Observation o => o.Subject, Condition c => c.Subject, Procedure p => p.Subject, MedicationRequest m => m.Subject,
            MedicationStatement m => m.Subject, AllergyIntolerance a => a.Patient, Immunization i => i.Patient, Encounter enc => enc.Subject,
            ImagingStudy s => s.Subject, DiagnosticReport r => r.Subject, DocumentReference d => d.Subject, _ => null,
        };
        var field = e.Resource is AllergyIntolerance or Immunization ? "patient" : "subject";
        if (reference?.Reference == null)
        {
            errors.Add(new IngestError(e.File, $"{e.Label}: no {field} reference: the resource cannot be placed on a patient's timeline"));
            return null;
        }
        var target = Resolve(reference.Reference);
        if (target?.Resource is not Patient)
        {
            errors.Add(new IngestError(e.File, $"{e.Label}: {field} '{reference.Reference}' is not a Patient among the files of this ingest (ingest the Patient resource with it)"));
            return null;
        }
        return _patients.GetValueOrDefault(target);
    }

    /// <summary>Resource type + "/" + the first 64 bits of HMAC(fhir-id key, type/id) in hex: stable, and not the id itself.</summary>
    public string SourceOf(FhirEntry e)
    {
        var id = e.Resource.Id is { Length: > 0 } i ? e.Resource.TypeName + "/" + i
            : e.FullUrl ?? "content:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(e.File + "|" + e.Location)));
        return e.Resource.TypeName + "/" + Convert.ToHexStringLower(HMACSHA256.HashData(_idKey, Encoding.UTF8.GetBytes(id)))[..16];
    }

    static string? Lit<T>(T? value) where T : struct, Enum => value is { } v ? v.GetLiteral() : null;

    static FhirTime? Time(string? raw, FhirPatient p) => FhirTime.Shift(raw, p.Shift);

    static FhirTime? Time(DateTimeOffset? instant, FhirPatient p) =>
        instant is { } t ? FhirTime.Shift(t.ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture), p.Shift) : null;

    static FhirTime? Time(DataType? value, FhirPatient p) => value switch
    {
        FhirDateTime d => Time(d.Value, p),
        Date d => Time(d.Value, p),
        Instant i => Time(i.Value, p),
        Period period => Time(period.Start, p) ?? Time(period.End, p),
        Timing timing => Time(timing.Event.FirstOrDefault(), p),
        _ => null, // Age, Range, string onsets: no point in time to place
    };

    static string? EndOf(DataType? value, FhirPatient p) => value is Period { End: { } end } ? FhirTime.Shift(end, p.Shift)?.Value : null;

    TimelineEvent Basic(FhirEntry e, FhirPatient p, string type, CodeableConcept? code, FhirTime? time, string? status, bool allowNoCode = false, string suffix = "")
    {
        var source = SourceOf(e);
        var ev = new TimelineEvent { EventId = source + suffix, PatientPseudoId = p.PseudoId, Type = type, Source = source, Status = status };
        var coding = code?.Coding.FirstOrDefault(c => !string.IsNullOrWhiteSpace(c.Code));
        ev.CodeSystem = coding?.System;
        ev.Code = coding?.Code;
        ev.Display = coding?.Display ?? code?.Text;
        if (ev.Code == null && !allowNoCode) ev.Missing.Add("code");
        if (time != null) { ev.Time = time.Value; ev.Precision = time.Precision; ev.SortTime = time.SortKey; }
        else ev.Missing.Add("time");
        return ev;
    }

    TimelineEvent MapCondition(FhirEntry e, Condition c, FhirPatient p)
    {
        var verification = c.VerificationStatus?.Coding.FirstOrDefault()?.Code;
        var ev = Basic(e, p, EventType.Condition, c.Code, Time(c.Onset, p) ?? Time(c.RecordedDate, p), verification);
        ev.TimeEnd = c.Abatement is FhirDateTime a ? Time(a.Value, p)?.Value : EndOf(c.Abatement, p);
        ev.Detail["clinical_status"] = c.ClinicalStatus?.Coding.FirstOrDefault()?.Code;
        if (verification == null) ev.Detail["verification_status"] = "absent";
        if (c.Category.FirstOrDefault()?.Coding.FirstOrDefault()?.Code is { } cat) ev.Detail["category"] = cat;
        return ev;
    }

    TimelineEvent MapAllergy(FhirEntry e, AllergyIntolerance a, FhirPatient p)
    {
        var ev = Basic(e, p, EventType.Allergy, a.Code, Time(a.Onset, p) ?? Time(a.RecordedDate, p), a.VerificationStatus?.Coding.FirstOrDefault()?.Code);
        ev.Detail["clinical_status"] = a.ClinicalStatus?.Coding.FirstOrDefault()?.Code;
        if (Lit(a.Criticality) is { } crit) ev.Detail["criticality"] = crit;
        return ev;
    }

    TimelineEvent MapEncounter(FhirEntry e, Encounter enc, FhirPatient p)
    {
        var ev = Basic(e, p, EventType.Encounter, enc.Type.FirstOrDefault(), Time(enc.Period, p), Lit(enc.Status));
        ev.TimeEnd = EndOf(enc.Period, p);
        if (enc.Class?.Code is { } cls) ev.Detail["class"] = cls;
        if (enc.ReasonCode.Count > 0) ev.Detail["reasons"] = new JsonArray(enc.ReasonCode.Select(r => (JsonNode?)(r.Coding.FirstOrDefault()?.Display ?? r.Text)).ToArray());
        return ev;
    }

    TimelineEvent MapMedication(FhirEntry e, FhirPatient p, DataType? medication, FhirTime? time, string? status, string? kind)
    {
        var code = medication as CodeableConcept ?? (medication is ResourceReference r ? (Resolve(r.Reference)?.Resource as Medication)?.Code : null);
        var ev = Basic(e, p, EventType.Medication, code, time, status);
        if (kind != null) ev.Detail["intent"] = kind;
        return ev;
    }

    IEnumerable<TimelineEvent> MapObservation(FhirEntry e, Observation o, FhirPatient p)
    {
        var time = Time(o.Effective, p) ?? Time(o.Issued, p);
        var category = o.Category.SelectMany(c => c.Coding).FirstOrDefault()?.Code;
        var status = Lit(o.Status);
        if (o.Value == null && o.Component.Count > 0)
        {
            // Panels such as blood pressure: one event per component (systolic, diastolic), each with its own value and flag.
            var panel = o.Code?.Coding.FirstOrDefault()?.Display ?? o.Code?.Text;
            for (var i = 0; i < o.Component.Count; i++)
            {
                var c = o.Component[i];
                var ev = Basic(e, p, EventType.Observation, c.Code, time, status, suffix: $"/component/{i}");
                ev.Detail["panel"] = panel;
                if (category != null) ev.Detail["category"] = category;
                SetValue(ev, c.Value, c.DataAbsentReason, c.Interpretation, c.ReferenceRange.Count > 0 ? c.ReferenceRange : o.ReferenceRange);
                yield return ev;
            }
            yield break;
        }
        var single = Basic(e, p, EventType.Observation, o.Code, time, status);
        if (category != null) single.Detail["category"] = category;
        SetValue(single, o.Value, o.DataAbsentReason, o.Interpretation, o.ReferenceRange);
        yield return single;
    }

    static readonly HashSet<string> AbnormalInterpretations = ["A", "AA", "H", "HH", "HU", "L", "LL", "LU", ">", "<", "POS", "DET", "R", "W", "CAR", "RR", "IND", "E"];
    static readonly HashSet<string> NormalInterpretations = ["N", "NEG", "ND", "S", "NR"];

    /// <summary>Value, UCUM canonical value, reference range and abnormal flag; a missing value is named, never filled in.</summary>
    static void SetValue(TimelineEvent ev, DataType? value, CodeableConcept? absent, List<CodeableConcept> interpretation, List<Observation.ReferenceRangeComponent> ranges)
    {
        switch (value)
        {
            case Quantity q when q.Value != null:
                ev.Value = (double)q.Value.Value;
                ev.Unit = q.Code ?? q.Unit;
                if (q.Comparator is { } cmp) ev.Detail["comparator"] = cmp.GetLiteral();
                if (LabUnits.Canonical(ev.Value.Value, ev.Unit, ev.Code, ev.Display) is { } canonical)
                {
                    ev.CanonicalValue = canonical.Value; ev.CanonicalUnit = canonical.Unit;
                }
                else if (ev.Unit != null) ev.Detail["canonical"] = "unit not convertible by UCUM";
                break;
            case Quantity: break; // a Quantity without a value: missing, named below
            case CodeableConcept cc: ev.ValueText = cc.Coding.FirstOrDefault()?.Display ?? cc.Text ?? cc.Coding.FirstOrDefault()?.Code; break;
            case FhirString s: ev.ValueText = s.Value; break;
            case FhirBoolean b when b.Value != null: ev.ValueText = b.Value.Value ? "true" : "false"; break;
            case Integer n when n.Value != null: ev.Value = n.Value.Value; break;
            case null: break;
            default: ev.ValueText = value.ToString(); break;
        }
        if (ev.Value == null && ev.ValueText == null)
        {
            ev.Missing.Add("value");
            if (absent?.Coding.FirstOrDefault()?.Code is { } reason) ev.Detail["data_absent_reason"] = reason;
        }
        // Abnormal flag: the source's interpretation first, then its reference range, then the reference interval table.
        var interp = interpretation.SelectMany(i => i.Coding).Select(c => c.Code).FirstOrDefault(c => c != null);
        if (interp != null)
        {
            ev.Detail["interpretation"] = interp;
            if (AbnormalInterpretations.Contains(interp)) { ev.Abnormal = true; ev.AbnormalBasis = "interpretation"; return; }
            if (NormalInterpretations.Contains(interp)) { ev.Abnormal = false; ev.AbnormalBasis = "interpretation"; return; }
        }
        if (ev.CanonicalValue is not { } v) return;
        var range = ranges.FirstOrDefault(r => r.Low?.Value != null || r.High?.Value != null);
        if (range != null)
        {
            var low = Bound(range.Low, ev); var high = Bound(range.High, ev);
            ev.Detail["reference_range"] = new JsonObject { ["low"] = (double?)range.Low?.Value, ["high"] = (double?)range.High?.Value, ["unit"] = range.Low?.Code ?? range.Low?.Unit ?? range.High?.Code ?? range.High?.Unit };
            if (low != null || high != null)
            {
                ev.Abnormal = (low != null && v < low) || (high != null && v > high);
                ev.AbnormalBasis = "reference_range";
                return;
            }
        }
        if (ev.CodeSystem == "http://loinc.org" && ReferenceIntervals.ForLoinc(ev.Code) is { } table)
        {
            double? lo = table.Low is { } l ? LabUnits.Canonical(l, table.Unit, ev.Code, ev.Display)?.Value : null;
            double? hi = table.High is { } h ? LabUnits.Canonical(h, table.Unit, ev.Code, ev.Display)?.Value : null;
            var unitOk = LabUnits.Canonical(1, table.Unit, ev.Code, ev.Display)?.Unit == ev.CanonicalUnit; // same dimension only
            if (!unitOk) return;
            ev.Abnormal = (lo != null && v < lo - 1e-9 * Math.Abs(lo.Value)) || (hi != null && v > hi + 1e-9 * Math.Abs(hi.Value));
            ev.AbnormalBasis = "reference_interval_table";
        }
    }

    static double? Bound(Quantity? q, TimelineEvent ev)
    {
        if (q?.Value is not { } value) return null;
        var unit = q.Code ?? q.Unit ?? ev.Unit; // a range without a unit is in the value's unit
        var c = LabUnits.Canonical((double)value, unit, ev.Code, ev.Display);
        return c != null && c.Value.Unit == ev.CanonicalUnit ? c.Value.Value : null;
    }

    FhirImagingStudy MapImagingStudy(FhirEntry e, ImagingStudy s, FhirPatient p, IReadOnlyList<FhirEntry> all)
    {
        // The DICOM StudyInstanceUID: identifier system urn:dicom:uid (R4 ImagingStudy notes), or an RFC 3986 "urn:oid:" value.
        var uid = s.Identifier.Where(i => i.Value != null)
            .Select(i => i.System == DicomUidSystem || i.Value!.StartsWith("urn:oid:", StringComparison.Ordinal) ? i.Value!.Replace("urn:oid:", "") : null)
            .FirstOrDefault(v => v != null);
        var source = SourceOf(e);
        if (uid == null) errors.Add(new IngestError(e.File, $"{e.Label}: no DICOM Study Instance UID identifier (system {DicomUidSystem}); the study cannot link to DICOM images"));
        var studyId = DicomUidMap.Remap(key, uid ?? "fhir:" + source);
        var started = Time(s.Started, p);
        var study = new FhirImagingStudy
        {
            StudyId = studyId, Patient = p, Source = source, Started = started, Description = s.Description,
            Modality = s.Series.Select(x => x.Modality?.Code).Concat(s.Modality.Select(m => m.Code)).FirstOrDefault(m => !string.IsNullOrWhiteSpace(m)),
        };
        foreach (var m in s.Series.Select(x => x.Modality).Concat(s.Modality).Where(m => m?.Code != null))
            study.Modalities.Add(m!.Display is { Length: > 0 } d ? $"{m.Code} ({d})" : m.Code!);
        foreach (var b in s.Series.Where(x => x.BodySite != null))
            study.BodySites.Add((b.Laterality?.Display is { Length: > 0 } lat ? lat + " " : "") + (b.BodySite!.Display ?? b.BodySite!.Code));
        foreach (var series in s.Series)
        {
            var titles = series.Instance.Select(i => i.Title).Where(t => !string.IsNullOrWhiteSpace(t)).Distinct().Take(3).ToList();
            study.Series.Add($"series {series.Number?.ToString(CultureInfo.InvariantCulture) ?? "?"}: {series.Modality?.Code} {series.BodySite?.Display}, {series.NumberOfInstances ?? series.Instance.Count} instance(s)"
                + (series.Description is { Length: > 0 } sd ? " " + sd : "") + (titles.Count > 0 ? " (" + string.Join(", ", titles) + ")" : ""));
        }
        foreach (var pc in s.ProcedureCode) if ((pc.Coding.FirstOrDefault()?.Display ?? pc.Text) is { } d) study.Procedures.Add(d);
        if (Resolve(s.ProcedureReference?.Reference)?.Resource is Procedure pr && (pr.Code?.Coding.FirstOrDefault()?.Display ?? pr.Code?.Text) is { } prd) study.Procedures.Add(prd);
        foreach (var rc in s.ReasonCode) if ((rc.Coding.FirstOrDefault()?.Display ?? rc.Text) is { } d) study.Reasons.Add(d);
        foreach (var rr in s.ReasonReference)
            if (Resolve(rr.Reference)?.Resource is Condition rc2 && (rc2.Code?.Coding.FirstOrDefault()?.Display ?? rc2.Code?.Text) is { } d) study.Reasons.Add(d);
        // Same encounter: its reason, its imaging procedure (when the study names none) and the diagnoses made at it.
        var encounter = s.Encounter?.Reference;
        if (encounter != null && Resolve(encounter) is { } encEntry)
        {
            if (encEntry.Resource is Encounter enc && study.Reasons.Count == 0)
                foreach (var rc in enc.ReasonCode) if ((rc.Coding.FirstOrDefault()?.Display ?? rc.Text) is { } d) study.Reasons.Add(d);
            foreach (var other in all)
            {
                var otherEncounter = other.Resource switch { Procedure x => x.Encounter, Condition x => x.Encounter, _ => null };
                if (otherEncounter?.Reference == null || Resolve(otherEncounter.Reference) != encEntry) continue;
                if (other.Resource is Procedure op && study.Procedures.Count == 0 && (op.Code?.Coding.FirstOrDefault()?.Display ?? op.Code?.Text) is { } opd
                    && ImagingWords.Any(w => (opd + " ").Contains(w, StringComparison.OrdinalIgnoreCase)))
                    study.Procedures.Add(opd);
                if (other.Resource is Condition oc && (oc.Code?.Coding.FirstOrDefault()?.Display ?? oc.Code?.Text) is { } ocd
                    && oc.VerificationStatus?.Coding.FirstOrDefault()?.Code is null or "confirmed" or "provisional")
                    study.EncounterDiagnoses.Add(ocd);
            }
        }
        return study;
    }

    /// <summary>Reports with text go to their imaging study (explicit link, else same encounter); the rest stand as document studies.</summary>
    void LinkReports(FhirBatch batch, Dictionary<FhirEntry, FhirImagingStudy> imaging,
        List<(FhirEntry Entry, FhirPatient Patient, string Title, string Text, string? StudyRef, string? Encounter)> reports)
    {
        var byEncounter = new Dictionary<FhirEntry, FhirImagingStudy>();
        foreach (var (entry, study) in imaging)
            if (((ImagingStudy)entry.Resource).Encounter?.Reference is { } er && Resolve(er) is { } enc) byEncounter.TryAdd(enc, study);
        foreach (var r in reports)
        {
            var source = SourceOf(r.Entry);
            FhirImagingStudy? target = null;
            if (r.StudyRef != null && Resolve(r.StudyRef) is { } se) imaging.TryGetValue(se, out target);
            if (target == null && r.Encounter != null && Resolve(r.Encounter) is { } ee) byEncounter.TryGetValue(ee, out target);
            if (target != null && target.Patient.PseudoId == r.Patient.PseudoId)
            {
                target.Reports.Add(new FhirLinkedText(r.Title, r.Text, source));
                foreach (var ev in batch.Events.Where(x => x.Source == source)) ev.StudyId = target.StudyId;
                continue;
            }
            var time = batch.Events.FirstOrDefault(x => x.Source == source)?.Time;
            var doc = new FhirImagingStudy
            {
                StudyId = "fhir-" + source.Replace('/', '-'), Patient = r.Patient, Source = source, IsDocument = true,
                Started = time == null ? null : FhirTime.Shift(time, default),
            };
            doc.Reports.Add(new FhirLinkedText(r.Title, r.Text, source));
            batch.Studies.Add(doc);
            foreach (var ev in batch.Events.Where(x => x.Source == source)) ev.StudyId = doc.StudyId;
        }
    }

    string? ReportText(FhirEntry e, DiagnosticReport r)
    {
        var parts = new List<string>();
        foreach (var a in r.PresentedForm) if (FhirAttachments.Text(a, e, errors, documents) is { } t) parts.Add(t);
        if (!string.IsNullOrWhiteSpace(r.Conclusion) && !parts.Any(p => p.Contains(r.Conclusion.Trim(), StringComparison.Ordinal))) parts.Add("Conclusion: " + r.Conclusion.Trim());
        return parts.Count == 0 ? null : string.Join("\n\n", parts);
    }

    string? DocumentText(FhirEntry e, DocumentReference d)
    {
        var parts = d.Content.Select(c => c.Attachment).Where(a => a != null).Select(a => FhirAttachments.Text(a, e, errors, documents)).OfType<string>().ToList();
        return parts.Count == 0 ? null : string.Join("\n\n", parts);
    }
}

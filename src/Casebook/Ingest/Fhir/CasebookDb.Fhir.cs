using System.Diagnostics;
using System.Text.Json.Nodes;
using Casebook.Ingest;
using Casebook.Ingest.Fhir;
using Casebook.Model;
using Casebook.Timeline;

namespace Casebook;

public sealed partial class CasebookDb
{
    /// <summary>
    /// FHIR ingest, first half: reads the FHIR files, commits their events (one version), and returns the study inputs with
    /// the FHIR imaging/document studies merged in: an ImagingStudy whose remapped UID equals a DICOM study of this ingest
    /// becomes that study's report text; the others are studies of their own.
    /// </summary>
    internal (List<StudyInput> Inputs, FhirIngestStats? Stats, IReadOnlySet<string> Patients) IngestFhir(
        IReadOnlyList<string> files, List<StudyInput> inputs, List<IngestError> errors, IngestOptions options, PatientPseudonym key)
    {
        if (files.Count == 0) return (inputs, null, new HashSet<string>());
        var clock = Stopwatch.StartNew();
        var entries = new List<FhirEntry>();
        foreach (var f in files.Distinct()) entries.AddRange(FhirResourceReader.Read(f, errors));
        var batch = new FhirTimelineMapper(key, options.Fhir.Issuer, errors, options.Documents).Map(entries);
        var commit = CommitEvents(batch.Events, options.Message ?? $"ingest FHIR: {batch.Events.Count} events from {files.Count} files");
        var merged = new List<StudyInput>(inputs);
        var index = merged.Select((s, i) => (s.StudyId, i)).GroupBy(x => x.StudyId).ToDictionary(g => g.Key, g => g.First().i);
        foreach (var study in batch.Studies)
        {
            var text = study.BuildText();
            if (text.Length == 0) text = "EXAM: imaging study (FHIR gives no procedure, modality or body site).";
            var extra = new Dictionary<string, string>();
            if (study.Patient.Sex != null) extra["sex"] = study.Patient.Sex;
            var day = study.Started?.Date;
            if (day != null && study.Patient.AgeOn(DateOnly.ParseExact(day, "yyyy-MM-dd")) is { } age) extra["age"] = age.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (index.TryGetValue(study.StudyId, out var at))
            {
                var dicom = merged[at];
                if (dicom.Fhir != null) { errors.Add(new IngestError(study.Source, $"study {study.StudyId}: a second ImagingStudy names the same Study Instance UID; ignored")); continue; }
                if (key.Pseudonymise(dicom.Issuer, dicom.PatientId) != study.Patient.PseudoId)
                    errors.Add(new IngestError(dicom.Origin, $"study {study.StudyId}: the DICOM PatientID/issuer and the FHIR Patient identifier give different pseudonyms (check IssuerOfPatientID against the identifier system, or set the FHIR issuer); the images keep the DICOM patient"));
                merged[at] = dicom with
                {
                    ReportText = dicom.ReportText == null && dicom.ReportPath == null ? text : dicom.ReportText,
                    Fhir = study,
                    // Sex and age come from the DICOM header here (the slicer sets them); FHIR's only fill a FHIR-only row.
                };
                continue;
            }
            index[study.StudyId] = merged.Count;
            merged.Add(new StudyInput(study.StudyId, study.Patient.Id, study.Patient.Issuer, study.Modality, day, null, [], study.Source)
            {
                ReportText = text, Fhir = study, Extra = extra, ExamDateShifted = true,
            });
        }
        var stats = new FhirIngestStats(files.Count, batch.Resources, batch.Unmapped, batch.Events.Count, commit.Inserted + commit.Updated,
            batch.Studies.Count, commit.Version, clock.Elapsed.TotalSeconds);
        return (merged, stats, commit.Patients);
    }

    /// <summary>
    /// Before building: a DICOM (or image-only) study whose live row carries FHIR-derived text keeps that text (a new version
    /// merges, never replaces). Returns the input to build and the live row when one was read.
    /// </summary>
    internal StudyInput WithLiveFhirText(StudyInput input, Dictionary<string, string> liveHashes, out StudyRecord? liveRow)
    {
        liveRow = null;
        // Only two cases need the live row (so plain re-ingests never read it): a FHIR rebuild (to keep live images) and a
        // report-less image rebuild (to keep live FHIR text).
        var imageOnly = input.Fhir == null && input.ReportText == null && input.ReportPath == null;
        if ((input.Fhir == null && !imageOnly) || !liveHashes.ContainsKey(input.StudyId)) return input;
        liveRow = GetStudy(input.StudyId, withSegments: input.Fhir != null);
        if (liveRow == null || !imageOnly || liveRow.Metadata["fhir"] is null || liveRow.ReportText == null) return input;
        return input with { ReportText = liveRow.ReportText, ReportTextDeidentified = true };
    }

    /// <summary>
    /// After building: stamps metadata.fhir, keeps what the live row had that this input does not bring (a FHIR-only rebuild
    /// keeps the DICOM images and their vectors; a DICOM rebuild keeps metadata.fhir), and fills timeline_events.
    /// </summary>
    internal void MergeFhirAndTimeline(StudyRecord study, StudyInput input, StudyRecord? live, IngestOptions options)
    {
        if (input.Fhir != null) study.Metadata["fhir"] = input.Fhir.ToMetadata();
        else if (live?.Metadata["fhir"] is { } liveFhir && study.ReportText == live.ReportText) study.Metadata["fhir"] = liveFhir.DeepClone();
        if (live != null && study.Metadata["fhir"] != null)
        {
            var fhirOnly = input.Fhir != null && input.DicomStudy == null && input.ImagePaths.Count == 0 && live.Segments.Any(g => g.Kind != SegmentKind.ReportParagraph);
            if (fhirOnly)
            {
                study.DicomImage ??= live.DicomImage;
                study.DicomMime ??= live.DicomMime;
                study.Modality = live.Modality ?? study.Modality;
                study.ExamDate = live.ExamDate ?? study.ExamDate;
                study.Segments.AddRange(live.Segments.Where(g => g.Kind != SegmentKind.ReportParagraph));
                // Anatomy the images gave stays with the images, in the order an image build writes it: pixel anatomy (rule
                // masks, models) before the text's, header body part last, so a later image re-ingest finds nothing changed.
                static string Source(System.Text.Json.Nodes.JsonNode? a) => (string?)a?["source"] ?? "";
                var pixels = live.AnatomicalRegions.Where(a => Source(a) == "rule" || Source(a).StartsWith("model:")).Select(a => a!.DeepClone()).ToList();
                var header = live.AnatomicalRegions.Where(a => Source(a) == "header").Select(a => a!.DeepClone()).ToList();
                var text = study.AnatomicalRegions.Where(a => Source(a) is not ("rule" or "header") && !Source(a).StartsWith("model:")).Select(a => a!.DeepClone()).ToList();
                study.AnatomicalRegions = new System.Text.Json.Nodes.JsonArray(pixels.Concat(text).Concat(header).ToArray());
            }
            // The live row's values win, except FHIR's own: on a FHIR-only rebuild they are the DICOM header's (sex, age_band, dicom…).
            foreach (var (k, v) in live.Metadata)
                if (v != null && k is not "fhir" and not "source_files" && (fhirOnly || !study.Metadata.ContainsKey(k))) study.Metadata[k] = v.DeepClone();
            if (study.Metadata["source_files"] is JsonArray files && live.Metadata["source_files"] is JsonArray liveFiles)
                foreach (var f in liveFiles.Select(x => x?.GetValue<string>()).Where(x => x != null).Except(files.Select(x => x?.GetValue<string>())).ToList())
                    files.Add(f);
        }
        if (study.Metadata["fhir"] != null)
        {
            // A merged row is built in either order (DICOM then FHIR, or FHIR then DICOM): one key order, one content hash.
            var sorted = new JsonObject();
            foreach (var (k, v) in study.Metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToList()) sorted[k] = v?.DeepClone();
            if (sorted["source_files"] is JsonArray sf)
            {
                var names = sf.Select(x => x!.GetValue<string>()).Order(StringComparer.Ordinal).ToList();
                sorted["source_files"] = new JsonArray(names.Select(n => (JsonNode)n).ToArray());
            }
            study.Metadata = sorted;
        }
        study.TimelineEvents = TimelineColumnFor(study, options.Fhir.Timeline);
    }
}

using Sylvan.Data.Csv;

namespace Casebook.Ingest;

/// <summary>One study to ingest, as named by a manifest row or found in a folder; paths are absolute.</summary>
public sealed record StudyInput(
    string StudyId, string PatientId, string Issuer, string? Modality, string? ExamDate,
    string? ReportPath, IReadOnlyList<string> ImagePaths, string Origin)
{
    /// <summary>Report text given inline (API callers, evaluation) instead of a file.</summary>
    public string? ReportText { get; init; }
    /// <summary>Further manifest columns (sex, age, body_part, device, accession, ...), de-identified by the builder.</summary>
    public IReadOnlyDictionary<string, string> Extra { get; init; } = new Dictionary<string, string>();
    /// <summary>DICOM ingest: the study's series and instances when the study was discovered from DICOM files (ImagePaths then lists them).</summary>
    public Casebook.Extract.Dicom.DicomStudy? DicomStudy { get; init; }
    /// <summary>Scanned reports and dictations: an audio recording (.wav/.mp3/.ogg/.flac/.m4a) of the report, transcribed at ingest.</summary>
    public string? DictationPath { get; init; }
    /// <summary>FHIR ingest: the FHIR ImagingStudy (or report) this study's text was built from (Ingest/Fhir).</summary>
    public Fhir.FhirImagingStudy? Fhir { get; init; }
}

/// <summary>A problem with one input: the file (or manifest line) and the reason. The batch goes on.</summary>
public sealed record IngestError(string File, string Reason);

/// <summary>
/// Finds studies in ingest arguments: a folder holding <c>studies.csv</c>, a <c>studies.csv</c> given directly
/// (columns study_id, patient_id, modality, exam_date, report, images; optional issuer and dictation; report may be
/// typed text or a PDF/TIFF/PNG/JPEG scan, dictation an audio file), a folder without a
/// manifest (each .txt/.md report is a study named by its file stem, with same-stem images), or single files.
/// </summary>
public static class StudyManifest
{
    public const string DefaultIssuer = "local";
    public const string ManifestName = "studies.csv";
    static readonly string[] ReportExtensions = [".txt", ".md"];
    static readonly string[] ImageExtensions = [".png", ".jpg", ".jpeg"];
    static readonly string[] RequiredColumns = ["study_id", "patient_id", "modality", "exam_date", "report", "images"];
    // Scanned reports and dictations: the optional `dictation` column names an audio file (older manifests lack it).
    static readonly string[] KnownColumns = [.. RequiredColumns, "issuer", "dictation"];

    public static List<StudyInput> Discover(IEnumerable<string> paths, List<IngestError> errors) => Discover(paths, errors, null);

    /// <summary>
    /// As above; with <paramref name="key"/>, DICOM is discovered too (DICOM ingest): files with a DICOM extension or the
    /// DICM magic, zips, DICOMDIRs and the DICOM inside manifest-less folders, grouped into one study per
    /// StudyInstanceUID across all arguments (study_id = keyed remap of the UID, see Ingest/Dicom/DicomDiscovery).
    /// </summary>
    public static List<StudyInput> Discover(IEnumerable<string> paths, List<IngestError> errors, PatientPseudonym? key) => Discover(paths, errors, key, null);

    /// <summary>As above; with <paramref name="fhir"/>, FHIR files (.ndjson, .json naming a resourceType) are collected there (FHIR ingest).</summary>
    public static List<StudyInput> Discover(IEnumerable<string> paths, List<IngestError> errors, PatientPseudonym? key, List<string>? fhir)
    {
        var found = new List<StudyInput>();
        var dicom = new Dicom.DicomDiscovery();
        foreach (var raw in paths)
        {
            var path = Path.GetFullPath(raw);
            if (Directory.Exists(path))
            {
                var manifest = Path.Combine(path, ManifestName);
                if (File.Exists(manifest)) found.AddRange(ReadCsv(manifest, errors));
                else
                {
                    found.AddRange(ScanFolder(path));
                    if (key != null) dicom.AddFolder(path, errors); // DICOM ingest
                    fhir?.AddRange(Fhir.FhirResourceReader.InFolder(path)); // FHIR ingest
                }
            }
            else if (!File.Exists(path)) errors.Add(new IngestError(raw, "no such file or directory"));
            else if (path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase)) found.AddRange(ReadCsv(path, errors));
            else if (fhir != null && (path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".ndjson", StringComparison.OrdinalIgnoreCase))) fhir.Add(path); // FHIR ingest (the reader says when it is not FHIR)
            else if (key != null && (Dicom.DicomDiscovery.IsZip(path) || Dicom.DicomDiscovery.IsDicomCandidate(path))) dicom.AddFile(path, errors); // DICOM ingest
            else if (IsReport(path) || IsImage(path))
            {
                var stem = Path.GetFileNameWithoutExtension(path);
                found.Add(new StudyInput(stem, stem, DefaultIssuer, null, null, IsReport(path) ? path : null, IsImage(path) ? [path] : [], path));
            }
            else errors.Add(new IngestError(raw, $"unsupported file type '{Path.GetExtension(path)}' (expected a folder, studies.csv, .txt/.md report, .png/.jpg image, DICOM file, zip or DICOMDIR)"));
        }
        if (key != null && dicom.Count > 0) found.AddRange(dicom.ToStudyInputs(key, errors));
        // The same study named twice in one ingest is almost always a manifest mistake: keep the first, report the rest.
        var seen = new HashSet<string>();
        var unique = new List<StudyInput>();
        foreach (var s in found)
            if (seen.Add(s.StudyId)) unique.Add(s);
            else errors.Add(new IngestError(s.Origin, $"study_id '{s.StudyId}' appears more than once; later rows ignored"));
        return unique;
    }

    static bool IsReport(string p) => ReportExtensions.Contains(Path.GetExtension(p).ToLowerInvariant());
    static bool IsImage(string p) => ImageExtensions.Contains(Path.GetExtension(p).ToLowerInvariant());

    static IEnumerable<StudyInput> ScanFolder(string dir)
    {
        var files = Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        var images = files.Where(IsImage).GroupBy(f => Path.Combine(Path.GetDirectoryName(f)!, Path.GetFileNameWithoutExtension(f)))
                          .ToDictionary(g => g.Key, g => g.ToList());
        foreach (var report in files.Where(IsReport))
        {
            var key = Path.Combine(Path.GetDirectoryName(report)!, Path.GetFileNameWithoutExtension(report));
            var stem = Path.GetFileNameWithoutExtension(report);
            yield return new StudyInput(stem, stem, DefaultIssuer, null, null, report, images.GetValueOrDefault(key) ?? [], report);
        }
    }

    static List<StudyInput> ReadCsv(string manifest, List<IngestError> errors)
    {
        var list = new List<StudyInput>();
        var baseDir = Path.GetDirectoryName(manifest)!;
        try
        {
            using var csv = CsvDataReader.Create(manifest, new CsvDataReaderOptions { HasHeaders = true });
            var columns = Enumerable.Range(0, csv.FieldCount).Select(i => csv.GetName(i).Trim().ToLowerInvariant()).ToList();
            var missing = RequiredColumns.Where(c => !columns.Contains(c)).ToList();
            if (missing.Count > 0)
            {
                errors.Add(new IngestError(manifest, $"missing column(s) {string.Join(", ", missing)}; expected {string.Join(", ", RequiredColumns)}"));
                return list;
            }
            int Col(string name) => columns.IndexOf(name);
            string? Get(int i) => i < 0 || i >= csv.RowFieldCount ? null : csv.GetString(i) is { Length: > 0 } v ? v.Trim() : null;
            var line = 1;
            while (csv.Read())
            {
                line++;
                var origin = $"{manifest}:{line}";
                var studyId = csv.GetString(Col("study_id")); // kept verbatim
                var patient = Get(Col("patient_id"));
                if (string.IsNullOrWhiteSpace(studyId)) { errors.Add(new IngestError(origin, "study_id is empty")); continue; }
                if (patient == null) { errors.Add(new IngestError(origin, $"study '{studyId}': patient_id is empty")); continue; }
                var examDate = Get(Col("exam_date"));
                if (examDate != null && !DateOnly.TryParse(examDate, System.Globalization.CultureInfo.InvariantCulture, out _))
                {
                    errors.Add(new IngestError(origin, $"study '{studyId}': exam_date '{examDate}' is not a date")); continue;
                }
                var report = Get(Col("report"));
                var dictation = Get(Col("dictation")); // optional column: Col returns -1 and Get null when absent
                var images = (Get(Col("images")) ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    .Select(p => Path.GetFullPath(Path.Combine(baseDir, p))).ToList();
                list.Add(new StudyInput(studyId, patient, Get(Col("issuer")) ?? DefaultIssuer, Get(Col("modality")),
                    examDate == null ? null : DateOnly.Parse(examDate, System.Globalization.CultureInfo.InvariantCulture).ToString("yyyy-MM-dd"),
                    report == null ? null : Path.GetFullPath(Path.Combine(baseDir, report)), images, origin)
                {
                    DictationPath = dictation == null ? null : Path.GetFullPath(Path.Combine(baseDir, dictation)),
                    Extra = columns.Select((name, i) => (name, i)).Where(x => !KnownColumns.Contains(x.name) && Get(x.i) != null)
                                   .ToDictionary(x => x.name, x => Get(x.i)!),
                });
            }
        }
        catch (Exception e) when (e is IOException or FormatException or InvalidDataException or CsvFormatException)
        {
            errors.Add(new IngestError(manifest, $"unreadable manifest: {e.Message}"));
        }
        return list;
    }
}

using Sylvan.Data.Csv;

namespace Casebook.Ingest;

/// <summary>One study to ingest, as named by a manifest row or found in a folder; paths are absolute.</summary>
public sealed record StudyInput(
    string StudyId, string PatientId, string Issuer, string? Modality, string? ExamDate,
    string? ReportPath, IReadOnlyList<string> ImagePaths, string Origin)
{
    /// <summary>Report text given inline (API callers, evaluation) instead of a file.</summary>
    public string? ReportText { get; init; }
    /// <summary>True when <see cref="ReportText"/> was read back from a stored row: already de-identified, so not again (dates would shift twice).</summary>
    public bool ReportTextDeidentified { get; init; }
    /// <summary>Further manifest columns (sex, age, body_part, device, accession, ...), de-identified by the builder.</summary>
    public IReadOnlyDictionary<string, string> Extra { get; init; } = new Dictionary<string, string>();
    /// <summary>DICOM ingest: the study's series and instances when the study was discovered from DICOM files (ImagePaths then lists them).</summary>
    public Casebook.Extract.Dicom.DicomStudy? DicomStudy { get; init; }
    /// <summary>Scanned reports and dictations: an audio recording (.wav/.mp3/.ogg/.flac/.m4a) of the report, transcribed at ingest.</summary>
    public string? DictationPath { get; init; }
    /// <summary>
    /// True when <see cref="ExamDate"/> is already in the patient's shifted time frame (FHIR-derived dates). A manifest's
    /// exam_date is a real date, so the builder shifts it like the patient's DICOM, FHIR and report dates.
    /// </summary>
    public bool ExamDateShifted { get; init; }
    /// <summary>FHIR ingest: the FHIR ImagingStudy (or report) this study's text was built from (Ingest/Fhir).</summary>
    public Fhir.FhirImagingStudy? Fhir { get; init; }
    /// <summary>Regions: NIfTI mask volumes of the study's image (manifest column <c>regions</c>, docs/regions.md).</summary>
    public IReadOnlyList<RegionMaskInput> RegionMasks { get; init; } = [];
}

/// <summary>A NIfTI mask file and the label its region gets (null: the file's name; per value for multi-label masks).</summary>
public sealed record RegionMaskInput(string Path, string? Label)
{
    /// <summary>Parses the <c>regions</c> column: <c>mask.nii.gz[=Label];other.nii[=Label]</c>, paths relative to the manifest.</summary>
    public static List<RegionMaskInput> ParseColumn(string? value, string baseDir) =>
        (value ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(item =>
        {
            var eq = item.IndexOf('=');
            var path = eq < 0 ? item : item[..eq].Trim();
            var label = eq < 0 ? null : item[(eq + 1)..].Trim();
            return new RegionMaskInput(System.IO.Path.GetFullPath(System.IO.Path.Combine(baseDir, path)), string.IsNullOrEmpty(label) ? null : label);
        }).ToList();
}

/// <summary>A problem with one input: the file (or manifest line) and the reason. The batch goes on.</summary>
public sealed record IngestError(string File, string Reason);

/// <summary>
/// Finds studies in ingest arguments: a folder holding <c>studies.csv</c>, a <c>studies.csv</c> given directly
/// (columns study_id, patient_id, modality, exam_date, report, images; optional issuer and dictation; report may be
/// typed text or a PDF/TIFF/PNG/JPEG scan, dictation an audio file), a folder without a manifest, or single files.
/// <para>Linking: a manifest row without patient_id (or without study_id, naming an accession) and files dropped in a
/// folder become <see cref="StudyAttachment"/>s that name a study; <see cref="StudyLinker"/> resolves them at ingest.</para>
/// <para>A folder without a manifest (docs/extraction.md, "Folder drop"): (1) each .txt/.md report starts a study named
/// by its stem, joined by same-stem images and recordings; (2) every other scan (.pdf/.tif/.tiff, or a .png/.jpg whose
/// name holds "report" or "scan") or recording is attached to the study its name <c>&lt;study_id or accession&gt;[_anything]</c>
/// names, else the study its folder's name names, else the one DICOM study whose files share its folder; (3) when nothing resolves it starts a new study named by its
/// sub-folder (with that folder's images), or by its stem at the top of the ingested folder.</para>
/// </summary>
public static class StudyManifest
{
    public const string DefaultIssuer = "local";
    public const string ManifestName = "studies.csv";
    static readonly string[] ReportExtensions = [".txt", ".md"];
    static readonly string[] ImageExtensions = [".png", ".jpg", ".jpeg"];
    static readonly string[] ScanExtensions = [".pdf", ".tif", ".tiff"];
    static readonly string[] AudioExtensions = [".wav", ".mp3", ".ogg", ".flac", ".m4a"];
    static readonly string[] RequiredColumns = ["study_id", "patient_id", "modality", "exam_date", "report", "images"];
    // Scanned reports and dictations: the optional `dictation` column names an audio file (older manifests lack it).
    static readonly string[] KnownColumns = [.. RequiredColumns, "issuer", "dictation", "regions"];

    public static List<StudyInput> Discover(IEnumerable<string> paths, List<IngestError> errors) => Discover(paths, errors, null);

    /// <summary>Studies only: documents and recordings that name a study (see the overload with attachments) are left out.</summary>
    public static List<StudyInput> Discover(IEnumerable<string> paths, List<IngestError> errors, PatientPseudonym? key) =>
        Discover(paths, errors, key, new List<StudyAttachment>());

    /// <summary>
    /// As above; with <paramref name="key"/>, DICOM is discovered too (DICOM ingest): files with a DICOM extension or the
    /// DICM magic, zips, DICOMDIRs and the DICOM inside manifest-less folders, grouped into one study per
    /// StudyInstanceUID across all arguments (study_id = keyed remap of the UID, see Ingest/Dicom/DicomDiscovery).
    /// Documents and recordings that name a study go to <paramref name="attachments"/>.
    /// </summary>
    public static List<StudyInput> Discover(IEnumerable<string> paths, List<IngestError> errors, PatientPseudonym? key, List<StudyAttachment> attachments, List<string>? fhir = null)
    {
        var found = new List<StudyInput>();
        var dicom = new Dicom.DicomDiscovery();
        foreach (var raw in paths)
        {
            var path = Path.GetFullPath(raw);
            if (Directory.Exists(path))
            {
                var manifest = Path.Combine(path, ManifestName);
                if (File.Exists(manifest)) found.AddRange(ReadCsv(manifest, errors, attachments));
                else
                {
                    found.AddRange(ScanFolder(path, attachments));
                    if (key != null) dicom.AddFolder(path, errors); // DICOM ingest
                    fhir?.AddRange(Fhir.FhirResourceReader.InFolder(path)); // FHIR ingest
                }
            }
            else if (!File.Exists(path)) errors.Add(new IngestError(raw, "no such file or directory"));
            else if (path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase)) found.AddRange(ReadCsv(path, errors, attachments));
            else if (fhir != null && (path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".ndjson", StringComparison.OrdinalIgnoreCase))) fhir.Add(path); // FHIR ingest (the reader says when it is not FHIR)
            else if (key != null && (Dicom.DicomDiscovery.IsZip(path) || Dicom.DicomDiscovery.IsDicomCandidate(path))) dicom.AddFile(path, errors); // DICOM ingest
            else if (IsScan(path) || IsAudio(path))
            {
                // A scan or recording given alone: attached to the study its name names, else a study of its own.
                var stem = Path.GetFileNameWithoutExtension(path);
                attachments.Add(new StudyAttachment(path, IsAudio(path) ? AttachmentKind.Dictation : AttachmentKind.Report,
                    [new StudyReference(StudyReference.Name, stem)], path) { FallbackStudyId = stem });
            }
            else if (IsReport(path) || IsImage(path))
            {
                var stem = Path.GetFileNameWithoutExtension(path);
                found.Add(new StudyInput(stem, stem, DefaultIssuer, null, null, IsReport(path) ? path : null, IsImage(path) ? [path] : [], path));
            }
            else errors.Add(new IngestError(raw, $"unsupported file type '{Path.GetExtension(path)}' (expected a folder, studies.csv, .txt/.md report, .pdf/.tif scan, audio, .png/.jpg image, DICOM file, zip or DICOMDIR)"));
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
    static bool IsImage(string p) => ImageExtensions.Contains(Path.GetExtension(p).ToLowerInvariant()) && !IsReportNamed(p);
    static bool IsAudio(string p) => AudioExtensions.Contains(Path.GetExtension(p).ToLowerInvariant());

    /// <summary>
    /// A report scan: .pdf/.tif/.tiff always; a .png/.jpg/.jpeg only when its file name holds "report" or "scan"
    /// (report.png, S-1_scan_p2.jpg): any other PNG/JPEG is a key image.
    /// </summary>
    public static bool IsScan(string p) =>
        ScanExtensions.Contains(Path.GetExtension(p).ToLowerInvariant())
        || (ImageExtensions.Contains(Path.GetExtension(p).ToLowerInvariant()) && IsReportNamed(p));

    static bool IsReportNamed(string p)
    {
        var name = Path.GetFileNameWithoutExtension(p);
        return name.Contains("report", StringComparison.OrdinalIgnoreCase) || name.Contains("scan", StringComparison.OrdinalIgnoreCase);
    }

    static string Stem(string f) => Path.Combine(Path.GetDirectoryName(f)!, Path.GetFileNameWithoutExtension(f));

    static List<StudyInput> ScanFolder(string root, List<StudyAttachment> attachments)
    {
        var files = Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        var images = files.Where(IsImage).GroupBy(Stem).ToDictionary(g => g.Key, g => g.ToList());
        var audioByStem = files.Where(IsAudio).GroupBy(Stem).ToDictionary(g => g.Key, g => g.First());
        var claimed = new HashSet<string>(StringComparer.Ordinal);
        var studies = new List<StudyInput>();
        // Rule 1: a typed report starts a study named by its stem; same-stem images and the first same-stem recording join it.
        foreach (var report in files.Where(IsReport))
        {
            var stem = Path.GetFileNameWithoutExtension(report);
            var sameStem = images.GetValueOrDefault(Stem(report)) ?? [];
            var dictation = audioByStem.GetValueOrDefault(Stem(report));
            claimed.UnionWith(sameStem);
            if (dictation != null) claimed.Add(dictation);
            studies.Add(new StudyInput(stem, stem, DefaultIssuer, null, null, report, sameStem, report) { DictationPath = dictation });
        }
        // Rules 2 and 3: every other scan or recording names its study by file name, then by folder; else starts one.
        var dropped = files.Where(f => !claimed.Contains(f) && (IsScan(f) || IsAudio(f))).ToList();
        var studyFolders = new HashSet<string>(StringComparer.Ordinal);
        foreach (var f in dropped)
        {
            var dir = Path.GetDirectoryName(f)!;
            var stem = Path.GetFileNameWithoutExtension(f);
            var references = new List<StudyReference> { new(StudyReference.Name, stem), new(StudyReference.Name, Path.GetFileName(dir)), new(StudyReference.Folder, dir) };
            var inSubfolder = !string.Equals(dir, root, StringComparison.Ordinal);
            if (inSubfolder) studyFolders.Add(dir);
            attachments.Add(new StudyAttachment(f, IsAudio(f) ? AttachmentKind.Dictation : AttachmentKind.Report, references, f)
            {
                FallbackStudyId = inSubfolder ? Path.GetFileName(dir) : stem,
            });
        }
        // Images in a study folder (or with the stem of a report scan at the top) belong with its scans and recordings.
        var droppedStems = dropped.Select(Stem).ToHashSet(StringComparer.Ordinal);
        foreach (var img in files.Where(f => IsImage(f) && !claimed.Contains(f)))
        {
            var dir = Path.GetDirectoryName(img)!;
            string? owner = studyFolders.Contains(dir) ? Path.GetFileName(dir)
                : string.Equals(dir, root, StringComparison.Ordinal) && droppedStems.Contains(Stem(img)) ? Path.GetFileNameWithoutExtension(img) : null;
            if (owner == null) continue;
            attachments.Add(new StudyAttachment(img, AttachmentKind.Image, [new StudyReference(StudyReference.Name, owner)], img) { FallbackStudyId = owner });
        }
        return studies;
    }

    static List<StudyInput> ReadCsv(string manifest, List<IngestError> errors, List<StudyAttachment> attachments)
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
                var accession = Get(Col("accession"));
                if (string.IsNullOrWhiteSpace(studyId) || patient == null)
                {
                    // Linking: a row without patient_id (or without study_id, with an accession) names an existing study
                    // and attaches its report, dictation and images to it.
                    AddAttachmentRow(origin, baseDir, string.IsNullOrWhiteSpace(studyId) ? null : studyId.Trim(), accession, patient,
                        Get(Col("issuer")) ?? DefaultIssuer, Get(Col("report")), Get(Col("dictation")), Get(Col("images")), errors, attachments);
                    continue;
                }
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
                    RegionMasks = RegionMaskInput.ParseColumn(Get(Col("regions")), baseDir),
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

    static void AddAttachmentRow(string origin, string baseDir, string? studyId, string? accession, string? patient, string issuer,
        string? report, string? dictation, string? images, List<IngestError> errors, List<StudyAttachment> attachments)
    {
        if (studyId == null && accession == null)
        {
            errors.Add(new IngestError(origin, patient == null ? "study_id and patient_id are empty" : "study_id is empty (give it, or an accession to attach to)"));
            return;
        }
        var what = studyId != null ? $"study '{studyId}'" : $"accession '{accession}'";
        var references = new List<StudyReference>();
        if (studyId != null) references.Add(new StudyReference(StudyReference.StudyId, studyId));
        if (accession != null) references.Add(new StudyReference(StudyReference.Accession, accession));
        var files = new List<(string, AttachmentKind)>();
        if (report != null) files.Add((report, AttachmentKind.Report));
        if (dictation != null) files.Add((dictation, AttachmentKind.Dictation));
        foreach (var img in (images ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)) files.Add((img, AttachmentKind.Image));
        if (files.Count == 0)
        {
            errors.Add(new IngestError(origin, $"{what}: patient_id is empty and the row attaches nothing (no report, dictation or images)"));
            return;
        }
        foreach (var (file, kind) in files)
            attachments.Add(new StudyAttachment(Path.GetFullPath(Path.Combine(baseDir, file)), kind, references, origin) { PatientId = patient, Issuer = issuer });
    }
}

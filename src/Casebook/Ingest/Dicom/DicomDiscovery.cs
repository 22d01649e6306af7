using System.IO.Compression;
using Casebook.Extract.Dicom;

namespace Casebook.Ingest.Dicom;

/// <summary>
/// Finds DICOM instances among ingest arguments — single files (.dcm or any file with the "DICM" magic), folders
/// (recursive), zip archives and DICOMDIRs — and turns them into one <see cref="StudyInput"/> per StudyInstanceUID.
/// study_id = the keyed remap of StudyInstanceUID (<see cref="DicomUidMap"/>); the patient is PatientID with
/// IssuerOfPatientID (default <see cref="StudyManifest.DefaultIssuer"/>, so CSV and DICOM rows of one patient link).
/// </summary>
public sealed class DicomDiscovery
{
    static readonly string[] DicomExtensions = [".dcm", ".dicom", ".dic", ".ima"];
    static readonly DicomTag IssuerOfPatientID = new(0x00100021);
    readonly List<DicomInstance> _instances = new();

    public int Count => _instances.Count;

    /// <summary>True for a DICOM extension, the Part 10 "DICM" magic at byte 128, a zip or a DICOMDIR.</summary>
    public static bool IsDicomCandidate(string path) =>
        DicomExtensions.Contains(Path.GetExtension(path).ToLowerInvariant()) || HasDicmMagic(path)
        || Path.GetFileName(path).Equals("DICOMDIR", StringComparison.OrdinalIgnoreCase);

    public static bool IsZip(string path) => path.EndsWith(".zip", StringComparison.OrdinalIgnoreCase);

    /// <summary>PS3.10 §7.1: 128-byte preamble, then "DICM".</summary>
    public static bool HasDicmMagic(string path)
    {
        try
        {
            using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1);
            if (fs.Length < 132) return false;
            Span<byte> b = stackalloc byte[4];
            fs.Position = 128;
            return fs.Read(b) == 4 && b.SequenceEqual("DICM"u8);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }

    public static bool HasDicmMagic(ReadOnlySpan<byte> bytes) => bytes.Length >= 132 && bytes.Slice(128, 4).SequenceEqual("DICM"u8);

    /// <summary>Adds the instances of a file, zip or DICOMDIR given directly; failures are reported with the file and reason.</summary>
    public void AddFile(string path, List<IngestError> errors) => Add(path, errors, reportFailures: true);

    /// <summary>
    /// Walks a folder for DICOM: files with a DICOM extension or the DICM magic, and zips. A DICOMDIR inside the folder is
    /// not followed (the walk already finds the files it indexes). Extensionless files that do not parse are ignored
    /// silently (folders hold READMEs and the like); files that look like DICOM and do not parse are reported.
    /// </summary>
    public void AddFolder(string dir, List<IngestError> errors)
    {
        foreach (var file in Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(file);
            if (name.Equals("DICOMDIR", StringComparison.OrdinalIgnoreCase)) continue;
            if (IsZip(file) || DicomExtensions.Contains(Path.GetExtension(file).ToLowerInvariant()) || HasDicmMagic(file)) Add(file, errors, reportFailures: true);
            else if (Path.GetExtension(file).Length == 0) Add(file, errors, reportFailures: false); // raw datasets often have no extension
        }
    }

    void Add(string path, List<IngestError> errors, bool reportFailures)
    {
        var skipped = new List<string>();
        try
        {
            var found = DicomCatalog.Enumerate(path, skipped);
            _instances.AddRange(found);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or DicomParseException or UnauthorizedAccessException)
        {
            skipped.Add($"{path}: {e.Message}");
        }
        if (!reportFailures) return;
        foreach (var s in skipped) errors.Add(ToError(s));
    }

    /// <summary>DicomCatalog reports "SOURCE: reason"; split it back into file and reason.</summary>
    static IngestError ToError(string skipped)
    {
        var cut = skipped.IndexOf(": ", StringComparison.Ordinal);
        // A source may itself hold ": " only in odd file names; the reason then keeps the rest.
        return cut > 0 ? new IngestError(skipped[..cut], "not readable as DICOM: " + skipped[(cut + 2)..]) : new IngestError(skipped, "not readable as DICOM");
    }

    /// <summary>One StudyInput per StudyInstanceUID (series and slices ordered by <see cref="DicomCatalog.Group"/>).</summary>
    public List<StudyInput> ToStudyInputs(PatientPseudonym key, List<IngestError> errors)
    {
        var inputs = new List<StudyInput>();
        // The same file reached twice (a folder and a file inside it) counts once.
        var unique = _instances.GroupBy(i => i.Source, StringComparer.Ordinal).Select(g => g.First()).ToList();
        foreach (var study in DicomCatalog.Group(unique))
        {
            var sources = study.Series.SelectMany(s => s.Instances).Select(i => i.Source).ToList();
            if (study.StudyInstanceUID.Length == 0)
            {
                foreach (var s in sources) errors.Add(new IngestError(s, "no Study Instance UID (0020,000D): cannot place the instance in a study"));
                continue;
            }
            var studyId = DicomUidMap.Remap(key, study.StudyInstanceUID);
            string patientId, issuer;
            if (string.IsNullOrWhiteSpace(study.PatientID))
            {
                // No Patient ID: the study stands alone under a pseudonym derived from its own UID (never linked to others).
                patientId = "study:" + study.StudyInstanceUID; issuer = "dicom-no-patient-id";
            }
            else
            {
                patientId = study.PatientID.Trim();
                issuer = ReadIssuer(study.Series[0].Instances[0].Source) ?? StudyManifest.DefaultIssuer;
            }
            var modality = study.Series.Select(s => s.Modality).FirstOrDefault(m => !string.IsNullOrWhiteSpace(m));
            inputs.Add(new StudyInput(studyId, patientId, issuer, modality, null, null, sources, sources[0]) { DicomStudy = study });
        }
        return inputs;
    }

    static string? ReadIssuer(string source)
    {
        try
        {
            using var f = OpenHeader(source, long.MaxValue);
            return f.Dataset.GetString(IssuerOfPatientID) is { Length: > 0 } s ? s.Trim() : null;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or DicomParseException) { return null; }
    }

    /// <summary>Bytes of an instance: a file, or a zip entry named "archive.zip!entry" (as <see cref="DicomCatalog"/> names them).</summary>
    public static byte[] ReadBytes(string source, long max)
    {
        var bang = source.IndexOf(".zip!", StringComparison.OrdinalIgnoreCase);
        if (bang < 0)
        {
            var length = new FileInfo(source).Length;
            if (length > max) throw new InvalidDataException($"{length} bytes exceeds the limit of {max} bytes");
            return File.ReadAllBytes(source);
        }
        var zipPath = source[..(bang + 4)];
        var entryName = source[(bang + 5)..];
        using var zip = ZipFile.OpenRead(zipPath);
        var entry = zip.GetEntry(entryName) ?? throw new FileNotFoundException($"{entryName} not found in {zipPath}");
        var cap = Math.Min(max, DicomCatalog.MaxZipEntryBytes);
        if (entry.Length > cap) throw new InvalidDataException($"zip entry of {entry.Length} bytes exceeds the limit of {cap} bytes");
        using var s = entry.Open();
        var buffer = new MemoryStream((int)entry.Length);
        s.CopyTo(buffer);
        if (buffer.Length > cap) throw new InvalidDataException("zip entry inflates beyond its limit");
        return buffer.ToArray();
    }

    /// <summary>Header-only read of an instance (stops before Pixel Data).</summary>
    public static DicomFile OpenHeader(string source, long max) =>
        source.Contains(".zip!", StringComparison.OrdinalIgnoreCase)
            ? DicomFile.Open(ReadBytes(source, max), DicomReadOptions.HeaderOnly)
            : DicomFile.Open(source, DicomReadOptions.HeaderOnly);
}

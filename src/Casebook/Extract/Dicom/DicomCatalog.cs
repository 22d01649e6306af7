using System.IO.Compression;

namespace Casebook.Extract.Dicom;

/// <summary>One instance found in a file, folder, zip or DICOMDIR: the header attributes that place it in a study and series.</summary>
public sealed record DicomInstance(
    string Source, string? PatientID, string? StudyInstanceUID, string? SeriesInstanceUID, string? SOPInstanceUID,
    string? SOPClassUID, string? Modality, int? SeriesNumber, int? InstanceNumber, double[]? ImagePositionPatient,
    double[]? ImageOrientationPatient, int NumberOfFrames, string? TransferSyntaxUID)
{
    internal static DicomInstance From(string source, DicomFile f)
    {
        var ds = f.Dataset;
        double[]? Vec(DicomTag t, int n) => ds.GetDoubles(t) is { } v && v.Length == n && v.All(double.IsFinite) ? v : null;
        int? Int(DicomTag t) => ds.GetDouble(t) is { } d && d >= int.MinValue && d <= int.MaxValue ? (int)d : null;
        return new DicomInstance(source, ds.GetString(DicomTag.PatientID), ds.GetString(DicomTag.StudyInstanceUID), ds.GetString(DicomTag.SeriesInstanceUID),
            ds.GetString(DicomTag.SOPInstanceUID) ?? f.Meta.GetString(DicomTag.MediaStorageSOPInstanceUID),
            ds.GetString(DicomTag.SOPClassUID) ?? f.Meta.GetString(DicomTag.MediaStorageSOPClassUID), ds.GetString(DicomTag.Modality),
            Int(DicomTag.SeriesNumber), Int(DicomTag.InstanceNumber), Vec(DicomTag.ImagePositionPatient, 3), Vec(DicomTag.ImageOrientationPatient, 6),
            Math.Max(1, Int(DicomTag.NumberOfFrames) ?? 1), f.TransferSyntax.Uid);
    }
}

public sealed record DicomSeries(string SeriesInstanceUID, string? Modality, int? SeriesNumber, IReadOnlyList<DicomInstance> Instances);
public sealed record DicomStudy(string StudyInstanceUID, string? PatientID, IReadOnlyList<DicomSeries> Series);

/// <summary>
/// Finds DICOM instances in a file, a folder (recursively), a zip archive or a DICOMDIR (PS3.10 §8, PS3.3 F.3),
/// and groups them into studies (StudyInstanceUID) and series (SeriesInstanceUID).
/// </summary>
public static class DicomCatalog
{
    /// <summary>Largest zip entry read (zip bombs: the declared size is checked, and reading stops at the cap).</summary>
    public static long MaxZipEntryBytes { get; set; } = 512L << 20;

    /// <summary>Every readable instance under <paramref name="path"/>; unreadable files are listed in <paramref name="skipped"/>.</summary>
    public static List<DicomInstance> Enumerate(string path, List<string>? skipped = null)
    {
        var result = new List<DicomInstance>();
        if (Directory.Exists(path))
        {
            foreach (var file in Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
                AddFile(file, result, skipped, fromFolder: true);
        }
        else AddFile(path, result, skipped, fromFolder: false);
        return result;
    }

    static void AddFile(string file, List<DicomInstance> result, List<string>? skipped, bool fromFolder)
    {
        var name = Path.GetFileName(file);
        if (name.EndsWith(".zip", StringComparison.OrdinalIgnoreCase)) { AddZip(file, result, skipped); return; }
        // Inside a folder, a DICOMDIR only indexes files the walk already finds.
        if (name.Equals("DICOMDIR", StringComparison.OrdinalIgnoreCase))
        {
            if (!fromFolder) result.AddRange(ReadDicomDir(file, skipped));
            return;
        }
        try
        {
            using var f = DicomFile.Open(file, DicomReadOptions.HeaderOnly);
            if (f.Dataset.Contains(DicomTag.DirectoryRecordSequence)) return;
            if (!f.IsComplete && f.Dataset.Count == 0) { skipped?.Add($"{file}: {f.Problems[0].Message}"); return; }
            result.Add(DicomInstance.From(file, f));
        }
        catch (DicomParseException e) { skipped?.Add($"{file}: {e.Message}"); }
        catch (IOException e) { skipped?.Add($"{file}: {e.Message}"); }
        catch (UnauthorizedAccessException e) { skipped?.Add($"{file}: {e.Message}"); }
    }

    static void AddZip(string zipPath, List<DicomInstance> result, List<string>? skipped)
    {
        using var zip = ZipFile.OpenRead(zipPath);
        foreach (var entry in zip.Entries.OrderBy(e => e.FullName, StringComparer.Ordinal))
        {
            if (entry.FullName.EndsWith('/')) continue;
            var source = zipPath + "!" + entry.FullName;
            if (entry.Length > MaxZipEntryBytes) { skipped?.Add($"{source}: {entry.Length} bytes exceeds the zip entry limit"); continue; }
            try
            {
                using var s = entry.Open();
                var buffer = new MemoryStream();
                var chunk = new byte[81920];
                int n;
                while ((n = s.Read(chunk)) > 0)
                {
                    if (buffer.Length + n > MaxZipEntryBytes) throw new InvalidDataException("entry inflates beyond its declared size limit");
                    buffer.Write(chunk, 0, n);
                }
                using var f = DicomFile.Open(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), DicomReadOptions.HeaderOnly);
                if (f.Dataset.Contains(DicomTag.DirectoryRecordSequence)) continue;
                result.Add(DicomInstance.From(source, f));
            }
            catch (Exception e) when (e is DicomParseException or InvalidDataException or IOException) { skipped?.Add($"{source}: {e.Message}"); }
        }
    }

    /// <summary>
    /// PS3.3 F.3: follows the directory records from (0004,1200) through "next" (0004,1400) and "lower" (0004,1420)
    /// offsets; if the offsets are absent or broken, takes the records in sequence order. Referenced files
    /// (0004,1500, path components relative to the DICOMDIR's folder) are read header-only; a missing file
    /// falls back to the attributes in its records.
    /// </summary>
    public static List<DicomInstance> ReadDicomDir(string dicomdirPath, List<string>? skipped = null)
    {
        using var dir = DicomFile.Open(dicomdirPath);
        var records = dir.Dataset.Find(DicomTag.DirectoryRecordSequence)?.Items ?? [];
        var folder = Path.GetDirectoryName(Path.GetFullPath(dicomdirPath))!;
        var byOffset = records.ToDictionary(r => r.Offset - 8);
        var ordered = new List<(DicomDataset Record, DicomDataset? Patient, DicomDataset? Study, DicomDataset? Series)>();

        var root = (long?)dir.Dataset.GetInteger(new DicomTag(0x00041200));
        var visited = new HashSet<long>();
        void Walk(long offset, DicomDataset? patient, DicomDataset? study, DicomDataset? series)
        {
            while (offset != 0 && byOffset.TryGetValue(offset, out var rec) && visited.Add(offset))
            {
                var type = rec.GetString(DicomTag.DirectoryRecordType);
                var (p, st, se) = type switch { "PATIENT" => (rec, study, series), "STUDY" => (patient, rec, series), "SERIES" => (patient, study, rec), _ => (patient, study, series) };
                ordered.Add((rec, p, st, se));
                if (rec.GetInteger(new DicomTag(0x00041420)) is { } lower and > 0) Walk(lower, p, st, se);
                offset = rec.GetInteger(new DicomTag(0x00041400)) ?? 0;
            }
        }
        if (root is > 0) Walk(root.Value, null, null, null);
        if (ordered.Count == 0)
        {
            DicomDataset? p = null, st = null, se = null;
            foreach (var rec in records)
            {
                switch (rec.GetString(DicomTag.DirectoryRecordType))
                {
                    case "PATIENT": p = rec; st = se = null; break;
                    case "STUDY": st = rec; se = null; break;
                    case "SERIES": se = rec; break;
                }
                ordered.Add((rec, p, st, se));
            }
        }

        var result = new List<DicomInstance>();
        foreach (var (rec, patient, study, series) in ordered)
        {
            var fileId = rec.GetStrings(DicomTag.ReferencedFileID);
            if (fileId.Length == 0) continue;
            var path = Path.Combine([folder, .. fileId]);
            if (!File.Exists(path))
            {
                // ISO 9660 media often have upper-case names; look the file up case-insensitively.
                path = FindCaseInsensitive(folder, fileId) ?? path;
            }
            if (File.Exists(path))
            {
                try
                {
                    using var f = DicomFile.Open(path, DicomReadOptions.HeaderOnly);
                    result.Add(DicomInstance.From(path, f));
                    continue;
                }
                catch (DicomParseException e) { skipped?.Add($"{path}: {e.Message}"); }
            }
            else skipped?.Add($"{path}: referenced by {dicomdirPath} but missing; using the directory record");
            result.Add(new DicomInstance(path, patient?.GetString(DicomTag.PatientID), study?.GetString(DicomTag.StudyInstanceUID),
                series?.GetString(DicomTag.SeriesInstanceUID), rec.GetString(new DicomTag(0x00041511)), rec.GetString(new DicomTag(0x00041510)),
                series?.GetString(DicomTag.Modality), (int?)series?.GetInteger(DicomTag.SeriesNumber), (int?)rec.GetInteger(DicomTag.InstanceNumber),
                null, null, 1, rec.GetString(DicomTag.ReferencedTransferSyntaxUIDInFile)));
        }
        return result;
    }

    static string? FindCaseInsensitive(string folder, string[] components)
    {
        var current = folder;
        foreach (var c in components)
        {
            var next = Directory.Exists(current) ? Directory.EnumerateFileSystemEntries(current).FirstOrDefault(e => string.Equals(Path.GetFileName(e), c, StringComparison.OrdinalIgnoreCase)) : null;
            if (next == null) return null;
            current = next;
        }
        return current;
    }

    /// <summary>
    /// Groups by StudyInstanceUID and SeriesInstanceUID (instances without them are grouped under "").
    /// Within a series, slices are ordered along the slice normal (ImageOrientationPatient row × column, dotted
    /// with ImagePositionPatient; PS3.3 C.7.6.2.1.1) when every instance has both, else by InstanceNumber.
    /// </summary>
    public static List<DicomStudy> Group(IEnumerable<DicomInstance> instances)
    {
        var studies = new List<DicomStudy>();
        foreach (var study in instances.GroupBy(i => i.StudyInstanceUID ?? "").OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var series = study.GroupBy(i => i.SeriesInstanceUID ?? "")
                .Select(g => new DicomSeries(g.Key, g.Select(i => i.Modality).FirstOrDefault(m => m != null), g.Select(i => i.SeriesNumber).FirstOrDefault(n => n != null), OrderSlices(g.ToList())))
                .OrderBy(s => s.SeriesNumber ?? int.MaxValue).ThenBy(s => s.SeriesInstanceUID, StringComparer.Ordinal).ToList();
            studies.Add(new DicomStudy(study.Key, study.Select(i => i.PatientID).FirstOrDefault(p => p != null), series));
        }
        return studies;
    }

    static List<DicomInstance> OrderSlices(List<DicomInstance> instances)
    {
        if (instances.All(i => i.ImagePositionPatient != null && i.ImageOrientationPatient != null))
        {
            var o = instances[0].ImageOrientationPatient!;
            // Slice normal = row direction × column direction.
            double nx = o[1] * o[5] - o[2] * o[4], ny = o[2] * o[3] - o[0] * o[5], nz = o[0] * o[4] - o[1] * o[3];
            return instances.OrderBy(i => i.ImagePositionPatient![0] * nx + i.ImagePositionPatient[1] * ny + i.ImagePositionPatient[2] * nz)
                .ThenBy(i => i.InstanceNumber ?? int.MaxValue).ThenBy(i => i.Source, StringComparer.Ordinal).ToList();
        }
        return instances.OrderBy(i => i.InstanceNumber ?? int.MaxValue).ThenBy(i => i.SOPInstanceUID, StringComparer.Ordinal).ThenBy(i => i.Source, StringComparer.Ordinal).ToList();
    }
}

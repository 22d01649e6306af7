using Casebook.Extract.Dicom;
using Casebook.Extract.Dicom.Pixels;

namespace Casebook.Extract.Volumes;

/// <summary>One DICOM image series read as a volume, with the instance UID of every slice (in volume z order).</summary>
public sealed record DicomImageSeries(
    ImageVolume Volume,
    string SeriesInstanceUid,
    string? StudyInstanceUid,
    string? FrameOfReferenceUid,
    string? Modality,
    IReadOnlyList<string> SopInstanceUids,
    IReadOnlyList<string> Files)
{
    /// <summary>The z index of a slice by its SOP Instance UID, or −1.</summary>
    public int SliceOf(string sopInstanceUid)
    {
        for (var i = 0; i < SopInstanceUids.Count; i++)
            if (SopInstanceUids[i] == sopInstanceUid) return i;
        return -1;
    }
}

/// <summary>
/// Reads the single-frame images of one series (CT, MR, PET…) into an <see cref="ImageVolume"/> in patient LPS
/// coordinates: slices sorted by their position along the slice normal (PS3.3 C.7.6.2.1.1, Image Position/Orientation),
/// spacing and orientation checked to be consistent, stored values turned into modality values (Rescale Slope/Intercept,
/// PS3.3 C.11.1.1.2; Hounsfield units for CT). Uses the engine's own parser and pixel decoders.
/// </summary>
public static class DicomSeriesReader
{
    /// <summary>Tolerance (mm) for slice gaps and in-plane offsets; real scanners round positions to ~1e-3 mm.</summary>
    const double PositionTolerance = 0.05;

    public static ImageVolume ReadVolume(string folderOrFile, string? seriesInstanceUid = null) => Read(folderOrFile, seriesInstanceUid).Volume;

    /// <summary>
    /// A folder (searched recursively) or one file. Non-image objects (SEG, RTSTRUCT, SR, files that are not DICOM) are
    /// skipped; a folder holding several image series needs <paramref name="seriesInstanceUid"/>.
    /// </summary>
    public static DicomImageSeries Read(string folderOrFile, string? seriesInstanceUid = null)
    {
        if (File.Exists(folderOrFile)) return Read([folderOrFile], seriesInstanceUid);
        if (!Directory.Exists(folderOrFile)) throw new VolumeFormatException($"{folderOrFile}: no such file or folder");
        var files = Directory.EnumerateFiles(folderOrFile, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        return Read(files, seriesInstanceUid, skipNonDicom: true);
    }

    public static DicomImageSeries Read(IEnumerable<string> files, string? seriesInstanceUid = null) => Read(files, seriesInstanceUid, skipNonDicom: false);

    /// <summary>
    /// Instances by name through <paramref name="open"/> (e.g. zip entries "archive.zip!entry" at ingest): every name must be
    /// an image of the series.
    /// </summary>
    public static DicomImageSeries Read(IEnumerable<string> sources, Func<string, DicomFile> open, string? seriesInstanceUid = null) =>
        Read(sources, seriesInstanceUid, skipNonDicom: false, open);

    sealed record SliceHeader(string File, string Sop, string Series, double[] Position, double[] Orientation, int Rows, int Columns, double[] PixelSpacing,
        double Slope, double Intercept, double? Thickness, string? Study, string? FrameOfReference, string? Modality);

    static DicomImageSeries Read(IEnumerable<string> files, string? seriesInstanceUid, bool skipNonDicom, Func<string, DicomFile>? open = null)
    {
        var slices = new List<SliceHeader>();
        foreach (var path in files)
        {
            DicomFile file;
            try { file = open?.Invoke(path) ?? DicomFile.Open(path, DicomReadOptions.HeaderOnly); }
            catch (Exception e) when (e is DicomParseException or IOException or InvalidDataException or UnauthorizedAccessException)
            {
                if (skipNonDicom) continue;
                throw new VolumeFormatException($"{path}: not a readable DICOM file ({e.Message})");
            }
            using (file)
            {
                var ds = file.Dataset;
                var modality = ds.GetString(DicomTag.Modality);
                var position = ds.GetDoubles(DicomTag.ImagePositionPatient);
                if (modality is "SEG" or "RTSTRUCT" or "SR" or "RTPLAN" or "RTDOSE" or "PR" || (skipNonDicom && position.Length == 0)) continue;
                slices.Add(Header(path, ds));
            }
        }
        if (slices.Count == 0) throw new VolumeFormatException("no DICOM images with Image Position (Patient) were given");

        var seriesUids = slices.Select(s => s.Series).Distinct().ToList();
        if (seriesInstanceUid != null)
        {
            slices = slices.Where(s => s.Series == seriesInstanceUid).ToList();
            if (slices.Count == 0) throw new VolumeFormatException($"series {seriesInstanceUid} is not among the files (found {string.Join(", ", seriesUids)})");
        }
        else if (seriesUids.Count > 1)
            throw new VolumeFormatException($"the files hold {seriesUids.Count} series ({string.Join(", ", seriesUids)}); name the one to read");

        var first = slices[0];
        foreach (var s in slices)
        {
            if (s.Rows != first.Rows || s.Columns != first.Columns)
                throw new VolumeFormatException($"{s.File}: {s.Rows}×{s.Columns} pixels, {first.File} has {first.Rows}×{first.Columns}");
            for (var i = 0; i < 6; i++)
                if (Math.Abs(s.Orientation[i] - first.Orientation[i]) > 1e-4)
                    throw new VolumeFormatException($"{s.File}: Image Orientation (Patient) differs from {first.File} (a series must share one orientation)");
            for (var i = 0; i < 2; i++)
                if (Math.Abs(s.PixelSpacing[i] - first.PixelSpacing[i]) > 1e-4)
                    throw new VolumeFormatException($"{s.File}: Pixel Spacing {s.PixelSpacing[0]}\\{s.PixelSpacing[1]} differs from {first.File}");
        }

        // PS3.3 C.7.6.2.1.1: the first three values are the row direction (along a row, i.e. increasing column = x),
        // the next three the column direction (y); their cross product is the slice normal.
        var r = first.Orientation[..3];
        var c = first.Orientation[3..];
        double[] n = [r[1] * c[2] - r[2] * c[1], r[2] * c[0] - r[0] * c[2], r[0] * c[1] - r[1] * c[0]];
        var norm = Math.Sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
        if (norm < 0.99 || norm > 1.01) throw new VolumeFormatException($"{first.File}: Image Orientation (Patient) row and column directions are not orthonormal");
        double Along(double[] p) => p[0] * n[0] + p[1] * n[1] + p[2] * n[2];
        slices.Sort((a, b) => Along(a.Position).CompareTo(Along(b.Position)));

        double dz;
        if (slices.Count == 1) dz = slices[0].Thickness is { } thickness and > 0 ? thickness : 1.0;
        else
        {
            var gaps = new double[slices.Count - 1];
            for (var i = 1; i < slices.Count; i++)
            {
                gaps[i - 1] = Along(slices[i].Position) - Along(slices[i - 1].Position);
                if (gaps[i - 1] < 1e-3)
                    throw new VolumeFormatException($"{slices[i].File}: same slice position as {slices[i - 1].File} (duplicate slice, or two acquisitions in one series)");
            }
            dz = gaps.Order().ElementAt(gaps.Length / 2);
            for (var i = 0; i < gaps.Length; i++)
                if (Math.Abs(gaps[i] - dz) > Math.Max(PositionTolerance, 0.01 * dz))
                    throw new VolumeFormatException($"{slices[i + 1].File}: {gaps[i]:0.###} mm from the previous slice where the series spacing is {dz:0.###} mm (missing slice or uneven spacing)");
            // Slices must stack along the normal: an in-plane drift is a tilted gantry, which a regular grid cannot hold.
            for (var i = 1; i < slices.Count; i++)
            {
                var along = Along(slices[i].Position) - Along(slices[0].Position);
                for (var k = 0; k < 3; k++)
                    if (Math.Abs(slices[i].Position[k] - slices[0].Position[k] - along * n[k]) > PositionTolerance + 0.01 * Math.Abs(along))
                        throw new VolumeFormatException($"{slices[i].File}: slice positions do not lie along the slice normal (gantry tilt or sheared series), not a regular grid");
            }
        }

        int nx = first.Columns, ny = first.Rows, nz = slices.Count;
        var voxels = new float[checked((long)nx * ny * nz) is var total and <= NiftiReader.MaxVoxels ? (int)total : throw new VolumeFormatException($"{first.File}: series of {nx}×{ny}×{nz} voxels is too large")];
        var plane = nx * ny;
        for (var z = 0; z < nz; z++)
        {
            var s = slices[z];
            PixelData pixels;
            try
            {
                if (open == null) pixels = PixelDecoder.Decode(s.File);
                else { using var f = open(s.File); pixels = PixelDecoder.Decode(f); }
            }
            catch (Exception e) when (e is PixelDecodeException or DicomParseException or IOException or InvalidDataException)
            {
                throw new VolumeFormatException($"{s.File}: pixel data cannot be decoded ({e.Message})");
            }
            if (pixels.SamplesPerPixel != 1) throw new VolumeFormatException($"{s.File}: {pixels.SamplesPerPixel} samples per pixel; a volume needs grey-scale images");
            if (pixels.Rows != ny || pixels.Columns != nx) throw new VolumeFormatException($"{s.File}: decoded {pixels.Rows}×{pixels.Columns}, header says {ny}×{nx}");
            var values = pixels.FrameValues(0);
            var offset = z * plane;
            for (var i = 0; i < plane; i++) voxels[offset + i] = (float)(values[i] * s.Slope + s.Intercept);
        }

        double[] direction = [r[0], c[0], n[0], r[1], c[1], n[1], r[2], c[2], n[2]];
        // PS3.3 C.7.6.2.1.1: Pixel Spacing is row spacing (between rows, y) then column spacing (between columns, x).
        var volume = new ImageVolume(nx, ny, nz, [first.PixelSpacing[1], first.PixelSpacing[0], dz], (double[])slices[0].Position.Clone(), direction, voxels);
        return new DicomImageSeries(volume, slices[0].Series, slices[0].Study, slices[0].FrameOfReference, slices[0].Modality, slices.Select(s => s.Sop).ToList(), slices.Select(s => s.File).ToList());
    }

    static SliceHeader Header(string path, DicomDataset ds)
    {
        var position = ds.GetDoubles(DicomTag.ImagePositionPatient);
        if (position.Length != 3 || position.Any(double.IsNaN)) throw new VolumeFormatException($"{path}: Image Position (Patient) (0020,0032) is missing or not three numbers");
        var orientation = ds.GetDoubles(DicomTag.ImageOrientationPatient);
        if (orientation.Length != 6 || orientation.Any(double.IsNaN)) throw new VolumeFormatException($"{path}: Image Orientation (Patient) (0020,0037) is missing or not six numbers");
        var spacing = ds.GetDoubles(new DicomTag(0x00280030)); // Pixel Spacing
        if (spacing.Length != 2 || spacing.Any(v => double.IsNaN(v) || v <= 0)) throw new VolumeFormatException($"{path}: Pixel Spacing (0028,0030) is missing or not two positive numbers");
        var rows = ds.GetInteger(DicomTag.Rows) ?? throw new VolumeFormatException($"{path}: Rows (0028,0010) is missing");
        var columns = ds.GetInteger(DicomTag.Columns) ?? throw new VolumeFormatException($"{path}: Columns (0028,0011) is missing");
        if (ds.GetInteger(DicomTag.NumberOfFrames) is > 1)
            throw new VolumeFormatException($"{path}: a multi-frame image; the series reader takes single-frame slices");
        var sop = ds.GetString(DicomTag.SOPInstanceUID) ?? throw new VolumeFormatException($"{path}: SOP Instance UID (0008,0018) is missing");
        var series = ds.GetString(DicomTag.SeriesInstanceUID) ?? throw new VolumeFormatException($"{path}: Series Instance UID (0020,000E) is missing");
        var slope = ds.GetDouble(new DicomTag(0x00281053)) ?? 1.0;     // Rescale Slope
        var intercept = ds.GetDouble(new DicomTag(0x00281052)) ?? 0.0; // Rescale Intercept
        if (slope == 0) slope = 1.0;
        return new SliceHeader(path, sop, series, position, orientation, (int)rows, (int)columns, spacing, slope, intercept,
            ds.GetDouble(new DicomTag(0x00180050)), ds.GetString(DicomTag.StudyInstanceUID), ds.GetString(new DicomTag(0x00200052)), ds.GetString(DicomTag.Modality));
    }
}

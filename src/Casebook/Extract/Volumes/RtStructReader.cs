using Casebook.Extract.Dicom;

namespace Casebook.Extract.Volumes;

/// <summary>One closed planar contour of an ROI: points in patient LPS mm, and the image it was drawn on when the file says.</summary>
public sealed record RtContour(double[] Points, string? ReferencedSopInstanceUid)
{
    public int PointCount => Points.Length / 3;
}

/// <summary>
/// One ROI of an RT Structure Set: StructureSetROISequence (number, name, frame of reference), ROIContourSequence
/// (contours), RTROIObservationsSequence (interpreted type such as GTV, ORGAN, EXTERNAL).
/// </summary>
public sealed record RtRoi(int Number, string Name, string? InterpretedType, string? ObservationLabel, string? FrameOfReferenceUid,
    string? GenerationAlgorithm, IReadOnlyList<RtContour> Contours, int SkippedContours);

/// <summary>An RT Structure Set (PS3.3 A.19): its ROIs and the series its contours were drawn on.</summary>
public sealed record RtStructureSet(string SopInstanceUid, string? Label, string? Description, string? StudyInstanceUid,
    IReadOnlyList<string> ReferencedFrameOfReferenceUids, IReadOnlyList<string> ReferencedSeriesInstanceUids,
    IReadOnlyList<string> ReferencedSopInstanceUids, IReadOnlyList<RtRoi> Rois);

/// <summary>
/// Reads RT Structure Sets and turns their CLOSED_PLANAR contours into voxel masks on the referenced series' grid:
/// each contour goes to the slice whose plane it lies in, and a voxel is inside when its centre is inside the
/// contours of that slice by the even-odd rule, so a contour drawn inside another is a hole (PS3.3 C.8.8.6.3).
/// </summary>
public static class RtStructReader
{
    public const string SopClassUid = "1.2.840.10008.5.1.4.1.1.481.3";

    static readonly DicomTag StructureSetLabel = new(0x30060002), StructureSetDescription = new(0x30060006),
        ReferencedFrameOfReferenceSequence = new(0x30060010), RTReferencedStudySequence = new(0x30060012),
        RTReferencedSeriesSequence = new(0x30060014), ContourImageSequence = new(0x30060016),
        StructureSetROISequence = new(0x30060020), ROINumber = new(0x30060022), ReferencedFrameOfReferenceUID = new(0x30060024),
        ROIName = new(0x30060026), ROIDisplayColor = new(0x3006002A), ROIGenerationAlgorithm = new(0x30060036),
        ROIContourSequence = new(0x30060039), ContourSequence = new(0x30060040), ContourGeometricType = new(0x30060042),
        NumberOfContourPoints = new(0x30060046), ContourData = new(0x30060050), ReferencedROINumber = new(0x30060084),
        RTROIObservationsSequence = new(0x30060080), ROIObservationLabel = new(0x30060085), RTROIInterpretedType = new(0x300600A4),
        FrameOfReferenceUID = new(0x00200052), ReferencedSOPInstanceUID = new(0x00081155);

    public static RtStructureSet Read(string path)
    {
        DicomFile file;
        try { file = DicomFile.Open(path, new DicomReadOptions { Strict = true }); }
        catch (Exception e) when (e is DicomParseException or IOException or UnauthorizedAccessException)
        {
            throw new VolumeFormatException($"{path}: not a readable DICOM file ({e.Message})");
        }
        using (file) return Read(file.Dataset, path);
    }

    public static RtStructureSet Read(DicomDataset ds, string name)
    {
        var modality = ds.GetString(DicomTag.Modality);
        var sopClass = ds.GetString(DicomTag.SOPClassUID);
        if (modality != "RTSTRUCT" && sopClass != SopClassUid)
            throw new VolumeFormatException($"{name}: not an RT Structure Set (Modality {modality ?? "absent"}, SOP Class {sopClass ?? "absent"})");
        var sop = ds.GetString(DicomTag.SOPInstanceUID) ?? throw new VolumeFormatException($"{name}: SOP Instance UID (0008,0018) is missing");

        var frames = new List<string>();
        var series = new List<string>();
        var images = new List<string>();
        foreach (var frame in Items(ds, ReferencedFrameOfReferenceSequence))
        {
            if (frame.GetString(FrameOfReferenceUID) is { } f) frames.Add(f);
            foreach (var study in Items(frame, RTReferencedStudySequence))
                foreach (var s in Items(study, RTReferencedSeriesSequence))
                {
                    if (s.GetString(DicomTag.SeriesInstanceUID) is { } uid) series.Add(uid);
                    foreach (var image in Items(s, ContourImageSequence))
                        if (image.GetString(ReferencedSOPInstanceUID) is { } i) images.Add(i);
                }
        }

        var observations = new Dictionary<int, (string? Type, string? Label)>();
        foreach (var o in Items(ds, RTROIObservationsSequence))
            if (o.GetInteger(ReferencedROINumber) is { } n) observations[(int)n] = (o.GetString(RTROIInterpretedType), o.GetString(ROIObservationLabel));

        var contoursByRoi = new Dictionary<int, (List<RtContour> Contours, int Skipped)>();
        var roiContours = Items(ds, ROIContourSequence);
        for (var i = 0; i < roiContours.Count; i++)
        {
            var rc = roiContours[i];
            var number = rc.GetInteger(ReferencedROINumber) ?? throw new VolumeFormatException($"{name}: ROIContourSequence item {i + 1} has no Referenced ROI Number (3006,0084)");
            var list = new List<RtContour>();
            var skipped = 0;
            var contours = Items(rc, ContourSequence);
            for (var j = 0; j < contours.Count; j++)
            {
                var c = contours[j];
                var type = c.GetString(ContourGeometricType);
                var data = c.GetDoubles(ContourData);
                // POINT and OPEN_* contours enclose no area; they are counted, not rasterised.
                if (type != "CLOSED_PLANAR") { skipped++; continue; }
                if (data.Length < 9 || data.Length % 3 != 0 || data.Any(v => !double.IsFinite(v)))
                    throw new VolumeFormatException($"{name}: ROI {number} contour {j + 1}: Contour Data (3006,0050) holds {data.Length} values, not at least three (x,y,z) points of numbers");
                if (c.GetInteger(NumberOfContourPoints) is { } declared && declared * 3 != data.Length)
                    throw new VolumeFormatException($"{name}: ROI {number} contour {j + 1}: Number of Contour Points says {declared}, Contour Data holds {data.Length / 3}");
                var image = Items(c, ContourImageSequence).Select(x => x.GetString(ReferencedSOPInstanceUID)).FirstOrDefault(x => x != null);
                list.Add(new RtContour(data, image));
            }
            contoursByRoi[(int)number] = (list, skipped);
        }

        var rois = new List<RtRoi>();
        var roiItems = Items(ds, StructureSetROISequence);
        if (roiItems.Count == 0) throw new VolumeFormatException($"{name}: Structure Set ROI Sequence (3006,0020) is missing or empty");
        foreach (var r in roiItems)
        {
            var number = (int)(r.GetInteger(ROINumber) ?? throw new VolumeFormatException($"{name}: a Structure Set ROI has no ROI Number (3006,0022)"));
            var (contours, skipped) = contoursByRoi.TryGetValue(number, out var c) ? c : ([], 0);
            observations.TryGetValue(number, out var obs);
            rois.Add(new RtRoi(number, r.GetString(ROIName) ?? $"ROI {number}", obs.Type, obs.Label, r.GetString(ReferencedFrameOfReferenceUID),
                r.GetString(ROIGenerationAlgorithm), contours, skipped));
        }
        return new RtStructureSet(sop, ds.GetString(StructureSetLabel), ds.GetString(StructureSetDescription), ds.GetString(DicomTag.StudyInstanceUID),
            frames.Distinct().ToList(), series.Distinct().ToList(), images.Distinct().ToList(), rois);
    }

    /// <summary>
    /// The ROI as a 0/1 mask on <paramref name="grid"/>'s geometry. A contour must lie in one of the grid's slice planes
    /// (within a quarter slice); contours off the grid are an error naming the ROI, since a silent drop changes the volume.
    /// </summary>
    public static ImageVolume Rasterise(RtRoi roi, ImageVolume grid)
    {
        var mask = grid.EmptyLike();
        var bySlice = new Dictionary<int, List<double[]>>();
        foreach (var contour in roi.Contours)
        {
            var n = contour.PointCount;
            var v = new double[2 * n];
            double zSum = 0, zMin = double.MaxValue, zMax = double.MinValue;
            for (var i = 0; i < n; i++)
            {
                var p = grid.ToVoxel(contour.Points[3 * i], contour.Points[3 * i + 1], contour.Points[3 * i + 2]);
                v[2 * i] = p[0]; v[2 * i + 1] = p[1];
                zSum += p[2]; zMin = Math.Min(zMin, p[2]); zMax = Math.Max(zMax, p[2]);
            }
            if (zMax - zMin > 0.25) throw new VolumeFormatException($"ROI '{roi.Name}': a contour is not parallel to the image slices (spans {zMax - zMin:0.##} slices)");
            var z = (int)Math.Round(zSum / n);
            if (Math.Abs(zSum / n - z) > 0.25 || z < 0 || z >= grid.Nz)
                throw new VolumeFormatException($"ROI '{roi.Name}': a contour at slice position {zSum / n:0.##} does not lie on the image grid (0…{grid.Nz - 1})");
            if (!bySlice.TryGetValue(z, out var list)) bySlice[z] = list = [];
            list.Add(v);
        }

        var crossings = new List<double>();
        foreach (var (z, polygons) in bySlice)
        {
            for (var y = 0; y < grid.Ny; y++)
            {
                // Scanline through the pixel centres of row y: every polygon edge crossing it (half-open rule, so a vertex
                // on the line counts once), sorted; pixels whose centres lie between alternate pairs are inside (even-odd).
                crossings.Clear();
                foreach (var poly in polygons)
                {
                    var n = poly.Length / 2;
                    for (int i = 0, j = n - 1; i < n; j = i++)
                    {
                        double yi = poly[2 * i + 1], yj = poly[2 * j + 1];
                        if ((yi <= y) == (yj <= y)) continue;
                        double xi = poly[2 * i], xj = poly[2 * j];
                        crossings.Add(xi + (y - yi) * (xj - xi) / (yj - yi));
                    }
                }
                if (crossings.Count < 2) continue;
                crossings.Sort();
                var row = grid.Index(0, y, z);
                for (var k = 0; k + 1 < crossings.Count; k += 2)
                {
                    var from = Math.Max(0, (int)Math.Ceiling(crossings[k]));
                    var to = Math.Min(grid.Nx - 1, (int)Math.Floor(crossings[k + 1]));
                    for (var x = from; x <= to; x++) mask.Voxels[row + x] = 1;
                }
            }
        }
        return mask;
    }

    internal static IReadOnlyList<DicomDataset> Items(DicomDataset ds, DicomTag tag) => ds.Find(tag)?.Items ?? (IReadOnlyList<DicomDataset>)[];
}

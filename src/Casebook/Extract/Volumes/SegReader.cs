using Casebook.Extract.Dicom;
using Casebook.Extract.Dicom.Pixels;

namespace Casebook.Extract.Volumes;

/// <summary>A coded concept from a DICOM code sequence (PS3.3 §8.8): e.g. SNOMED CT ("SCT") 272673000 "Bone".</summary>
public sealed record CodedConcept(string Code, string Scheme, string Meaning);

/// <summary>How a segmentation's frames sit in space.</summary>
public enum SegGeometry
{
    /// <summary>Frames carry Image Position (Patient): a volume in LPS mm (CT, MR, PET).</summary>
    Patient,
    /// <summary>Slide microscopy tiles placed in the total pixel matrix; one plane, slide pixel coordinates.</summary>
    Slide,
    /// <summary>No plane position (projection radiographs): frames stack in order, pixel coordinates.</summary>
    Projection,
}

/// <summary>One segment: its description and coded meaning, and its mask on the segmentation's own grid.</summary>
public sealed record SegSegment(
    int Number,
    string Label,
    string? Description,
    string? AlgorithmType,
    string? AlgorithmName,
    CodedConcept? Category,
    CodedConcept? Type,
    IReadOnlyList<CodedConcept> AnatomicRegions,
    ImageVolume Mask,
    IReadOnlyList<int> Frames,
    IReadOnlyDictionary<int, IReadOnlyList<string>> SourceInstancesBySlice)
{
    /// <summary>Source image instances of the slices this segment has voxels on (the frames' Source Image Sequence).</summary>
    public IReadOnlyList<string> ReferencedSopInstanceUids =>
        SourceInstancesBySlice.OrderBy(kv => kv.Key).SelectMany(kv => kv.Value).Distinct().ToList();
}

/// <summary>A DICOM Segmentation (PS3.3 A.51): header, geometry and segments.</summary>
public sealed record Segmentation(
    string SopInstanceUid,
    string SegmentationType,
    string? FractionalType,
    string? StudyInstanceUid,
    string? FrameOfReferenceUid,
    SegGeometry Geometry,
    IReadOnlyList<string> ReferencedSeriesInstanceUids,
    IReadOnlyList<string> ReferencedSopInstanceUids,
    IReadOnlyList<SegSegment> Segments);

/// <summary>
/// Reads DICOM Segmentations — BINARY, FRACTIONAL (PROBABILITY/OCCUPANCY, kept where value/MaximumFractionalValue ≥ 0.5)
/// and LABELMAP — into one 0/1 mask per segment. Frame placement comes from the per-frame functional groups
/// (PS3.3 C.7.6.16: Plane Position, Segment Identification, Derivation Image → Source Image), sorted along the slice
/// normal from the shared Plane Orientation; slide tiles go to their place in the total pixel matrix.
/// </summary>
public static class SegReader
{
    public const string SopClassUid = "1.2.840.10008.5.1.4.1.1.66.4";
    public const string LabelMapSopClassUid = "1.2.840.10008.5.1.4.1.1.66.7";
    /// <summary>Fractional values at or above this share of the maximum count as inside.</summary>
    public const double FractionalThreshold = 0.5;
    const long MaxMaskVoxels = 1L << 28;

    static readonly DicomTag SharedFunctionalGroupsSequence = new(0x52009229), PerFrameFunctionalGroupsSequence = new(0x52009230),
        PlanePositionSequence = new(0x00209113), PlaneOrientationSequence = new(0x00209116), PixelMeasuresSequence = new(0x00289110),
        PixelSpacing = new(0x00280030), SliceThickness = new(0x00180050), SpacingBetweenSlices = new(0x00180088),
        SegmentIdentificationSequence = new(0x0062000A), ReferencedSegmentNumber = new(0x0062000B),
        DerivationImageSequence = new(0x00089124), SourceImageSequence = new(0x00082112), ReferencedSOPInstanceUID = new(0x00081155),
        ReferencedSeriesSequence = new(0x00081115), ReferencedInstanceSequence = new(0x0008114A),
        SegmentationType = new(0x00620001), SegmentSequence = new(0x00620002), SegmentedPropertyCategoryCodeSequence = new(0x00620003),
        SegmentNumber = new(0x00620004), SegmentLabel = new(0x00620005), SegmentDescription = new(0x00620006),
        SegmentAlgorithmType = new(0x00620008), SegmentAlgorithmName = new(0x00620009), MaximumFractionalValue = new(0x0062000E),
        SegmentedPropertyTypeCodeSequence = new(0x0062000F), SegmentationFractionalType = new(0x00620010),
        AnatomicRegionSequence = new(0x00082218), CodeValue = new(0x00080100), CodingSchemeDesignator = new(0x00080102),
        CodeMeaning = new(0x00080104), LongCodeValue = new(0x00080119), FrameOfReferenceUID = new(0x00200052),
        PlanePositionSlideSequence = new(0x0048021A), ColumnPositionInTotalImagePixelMatrix = new(0x0048021E),
        RowPositionInTotalImagePixelMatrix = new(0x0048021F), TotalPixelMatrixColumns = new(0x00480006),
        TotalPixelMatrixRows = new(0x00480007), DimensionOrganizationType = new(0x00209311);

    public static Segmentation Read(string path)
    {
        DicomFile file;
        try { file = DicomFile.Open(path, new DicomReadOptions { Strict = true }); }
        catch (Exception e) when (e is DicomParseException or IOException or UnauthorizedAccessException)
        {
            throw new VolumeFormatException($"{path}: not a readable DICOM file ({e.Message})");
        }
        using (file) return Read(file, path);
    }

    sealed record FrameInfo(int Index, int Segment, double[]? Position, int TileColumn, int TileRow, IReadOnlyList<string> Sources);

    public static Segmentation Read(DicomFile file, string name)
    {
        var ds = file.Dataset;
        var sopClass = ds.GetString(DicomTag.SOPClassUID);
        if (ds.GetString(DicomTag.Modality) != "SEG" && sopClass != SopClassUid && sopClass != LabelMapSopClassUid)
            throw new VolumeFormatException($"{name}: not a DICOM Segmentation (Modality {ds.GetString(DicomTag.Modality) ?? "absent"})");
        var sop = ds.GetString(DicomTag.SOPInstanceUID) ?? throw new VolumeFormatException($"{name}: SOP Instance UID (0008,0018) is missing");
        var type = ds.GetString(SegmentationType) ?? throw new VolumeFormatException($"{name}: Segmentation Type (0062,0001) is missing");
        if (type is not ("BINARY" or "FRACTIONAL" or "LABELMAP")) throw new VolumeFormatException($"{name}: Segmentation Type '{type}' is not BINARY, FRACTIONAL or LABELMAP");
        var fractionalType = ds.GetString(SegmentationFractionalType);
        var maxFraction = ds.GetDouble(MaximumFractionalValue) ?? 255;
        if (type == "FRACTIONAL" && maxFraction <= 0) throw new VolumeFormatException($"{name}: Maximum Fractional Value (0062,000E) must be positive");
        int rows = (int)(ds.GetInteger(DicomTag.Rows) ?? throw new VolumeFormatException($"{name}: Rows (0028,0010) is missing"));
        int columns = (int)(ds.GetInteger(DicomTag.Columns) ?? throw new VolumeFormatException($"{name}: Columns (0028,0011) is missing"));
        var frameCount = (int)(ds.GetInteger(DicomTag.NumberOfFrames) ?? 1);

        // Segment descriptions (PS3.3 C.8.20.4).
        var segmentItems = RtStructReader.Items(ds, SegmentSequence);
        if (segmentItems.Count == 0) throw new VolumeFormatException($"{name}: Segment Sequence (0062,0002) is missing or empty");
        var segments = new List<(int Number, DicomDataset Item)>();
        foreach (var s in segmentItems)
        {
            var n = s.GetInteger(SegmentNumber) ?? throw new VolumeFormatException($"{name}: a Segment Sequence item has no Segment Number (0062,0004)");
            segments.Add(((int)n, s));
        }

        var shared = RtStructReader.Items(ds, SharedFunctionalGroupsSequence).FirstOrDefault();
        var perFrame = RtStructReader.Items(ds, PerFrameFunctionalGroupsSequence);
        if (perFrame.Count != 0 && perFrame.Count != frameCount)
            throw new VolumeFormatException($"{name}: Per-frame Functional Groups Sequence has {perFrame.Count} items for {frameCount} frames");
        DicomDataset? Group(int frame, DicomTag tag) =>
            (frame < perFrame.Count ? RtStructReader.Items(perFrame[frame], tag).FirstOrDefault() : null)
            ?? (shared != null ? RtStructReader.Items(shared, tag).FirstOrDefault() : null);

        var tiledFull = ds.GetString(DimensionOrganizationType) == "TILED_FULL" && perFrame.Count == 0;
        var totalColumns = (int)(ds.GetInteger(TotalPixelMatrixColumns) ?? 0);
        var totalRows = (int)(ds.GetInteger(TotalPixelMatrixRows) ?? 0);
        var tilesAcross = totalColumns > 0 ? (totalColumns + columns - 1) / columns : 1;
        var tilesDown = totalRows > 0 ? (totalRows + rows - 1) / rows : 1;

        var frames = new List<FrameInfo>(frameCount);
        for (var f = 0; f < frameCount; f++)
        {
            int segment;
            if (type == "LABELMAP") segment = 0; // values are segment numbers
            else if (Group(f, SegmentIdentificationSequence)?.GetInteger(ReferencedSegmentNumber) is { } s) segment = (int)s;
            else if (tiledFull) segment = segments[Math.Min(segments.Count - 1, f / (tilesAcross * tilesDown))].Number; // PS3.3 C.7.6.17.3: segments vary slowest
            else if (segments.Count == 1) segment = segments[0].Number;
            else throw new VolumeFormatException($"{name}: frame {f + 1} has no Referenced Segment Number (0062,000B)");

            var position = Group(f, PlanePositionSequence)?.GetDoubles(DicomTag.ImagePositionPatient);
            if (position is { Length: not 3 } || position?.Any(double.IsNaN) == true)
                throw new VolumeFormatException($"{name}: frame {f + 1}: Image Position (Patient) is not three numbers");
            int tileColumn = 0, tileRow = 0;
            if (Group(f, PlanePositionSlideSequence) is { } slide)
            {
                tileColumn = (int)(slide.GetInteger(ColumnPositionInTotalImagePixelMatrix) ?? 1) - 1;
                tileRow = (int)(slide.GetInteger(RowPositionInTotalImagePixelMatrix) ?? 1) - 1;
            }
            else if (tiledFull)
            {
                var tile = f % (tilesAcross * tilesDown);
                tileColumn = tile % tilesAcross * columns;
                tileRow = tile / tilesAcross * rows;
            }
            var sources = new List<string>();
            if (f < perFrame.Count)
                foreach (var derivation in RtStructReader.Items(perFrame[f], DerivationImageSequence))
                    foreach (var source in RtStructReader.Items(derivation, SourceImageSequence))
                        if (source.GetString(ReferencedSOPInstanceUID) is { } uid) sources.Add(uid);
            frames.Add(new FrameInfo(f, segment, position, tileColumn, tileRow, sources));
        }

        var geometry = totalColumns > 0 && (tiledFull || perFrame.Any(p => RtStructReader.Items(p, PlanePositionSlideSequence).Count > 0)) ? SegGeometry.Slide
            : frames.All(f => f.Position != null) ? SegGeometry.Patient : SegGeometry.Projection;

        // The grid: every distinct plane of the SEG, along the normal; segments share it.
        var measures = Group(0, PixelMeasuresSequence);
        var spacing = measures?.GetDoubles(PixelSpacing) is { Length: 2 } ps && ps.All(v => v > 0) ? ps : [1.0, 1.0];
        int nx = columns, ny = rows, nz;
        double[] origin = [0, 0, 0], direction = ImageVolume.Identity;
        double dz = measures?.GetDouble(SpacingBetweenSlices) ?? measures?.GetDouble(SliceThickness) ?? 1.0;
        var sliceOfFrame = new int[frameCount];
        if (geometry == SegGeometry.Patient)
        {
            var iop = Group(0, PlaneOrientationSequence)?.GetDoubles(DicomTag.ImageOrientationPatient);
            if (iop is not { Length: 6 } || iop.Any(double.IsNaN)) throw new VolumeFormatException($"{name}: Plane Orientation (Patient) is missing from the functional groups");
            double[] n = [iop[1] * iop[5] - iop[2] * iop[4], iop[2] * iop[3] - iop[0] * iop[5], iop[0] * iop[4] - iop[1] * iop[3]];
            direction = [iop[0], iop[3], n[0], iop[1], iop[4], n[1], iop[2], iop[5], n[2]];
            double Along(double[] p) => p[0] * n[0] + p[1] * n[1] + p[2] * n[2];
            var planes = frames.Select(f => Along(f.Position!)).Distinct().Order().ToList();
            var merged = new List<double>();
            foreach (var p in planes) if (merged.Count == 0 || p - merged[^1] > 1e-3) merged.Add(p);
            if (merged.Count > 1)
            {
                // Empty planes are often left out of a SEG, so gaps may be whole multiples of the spacing.
                var minGap = merged.Zip(merged.Skip(1), (a, b) => b - a).Min();
                dz = measures?.GetDouble(SpacingBetweenSlices) is { } between and > 0 && between <= minGap + 1e-3 ? between : minGap;
            }
            var lowest = frames.First(f => Math.Abs(Along(f.Position!) - merged[0]) <= 1e-3).Position!;
            origin = (double[])lowest.Clone();
            nz = (int)Math.Round((merged[^1] - merged[0]) / dz) + 1;
            for (var i = 0; i < frameCount; i++)
            {
                var offset = (Along(frames[i].Position!) - merged[0]) / dz;
                var k = (int)Math.Round(offset);
                if (Math.Abs(offset - k) > 0.1) throw new VolumeFormatException($"{name}: frame {i + 1} lies between the planes of a {dz:0.###} mm grid");
                sliceOfFrame[i] = k;
            }
        }
        else if (geometry == SegGeometry.Slide)
        {
            (nx, ny, nz) = (totalColumns, Math.Max(totalRows, rows), 1);
        }
        else
        {
            // Projection: each segment's frames stack in frame order.
            var counts = new Dictionary<int, int>();
            for (var i = 0; i < frameCount; i++)
            {
                counts.TryGetValue(frames[i].Segment, out var c);
                sliceOfFrame[i] = c;
                counts[frames[i].Segment] = c + 1;
            }
            nz = counts.Values.DefaultIfEmpty(1).Max();
        }
        if ((long)nx * ny * nz > MaxMaskVoxels) throw new VolumeFormatException($"{name}: a {nx}×{ny}×{nz} segment grid is too large");

        PixelData pixels;
        try { pixels = PixelDecoder.Decode(file); }
        catch (Exception e) when (e is PixelDecodeException or DicomParseException or IOException)
        {
            throw new VolumeFormatException($"{name}: segmentation pixel data cannot be decoded ({e.Message})");
        }
        if (pixels.Frames < frameCount) throw new VolumeFormatException($"{name}: {pixels.Frames} frames decoded, Number of Frames says {frameCount}");

        var masks = new Dictionary<int, ImageVolume>();
        var framesOf = new Dictionary<int, List<int>>();
        var sourcesOf = new Dictionary<int, Dictionary<int, List<string>>>();
        ImageVolume MaskOf(int segment)
        {
            if (!masks.TryGetValue(segment, out var m))
                masks[segment] = m = new ImageVolume(nx, ny, nz, [spacing[1], spacing[0], dz], (double[])origin.Clone(), (double[])direction.Clone(), new float[nx * ny * nz]);
            return m;
        }
        void Note(int segment, FrameInfo frame, int z)
        {
            if (!framesOf.TryGetValue(segment, out var list)) framesOf[segment] = list = [];
            list.Add(frame.Index + 1);
            if (!sourcesOf.TryGetValue(segment, out var bySlice)) sourcesOf[segment] = bySlice = [];
            if (!bySlice.TryGetValue(z, out var uids)) bySlice[z] = uids = [];
            foreach (var u in frame.Sources) if (!uids.Contains(u)) uids.Add(u);
        }

        var known = segments.Select(s => s.Number).ToHashSet();
        foreach (var frame in frames)
        {
            var values = pixels.FrameValues(frame.Index);
            var z = sliceOfFrame[frame.Index];
            if (type == "LABELMAP")
            {
                var seen = new HashSet<int>();
                for (var i = 0; i < values.Length; i++)
                {
                    var label = values[i];
                    if (label == 0 || !known.Contains(label)) continue;
                    Place(MaskOf(label), frame, z, i, columns);
                    seen.Add(label);
                }
                foreach (var s in seen) Note(s, frame, z);
                continue;
            }
            if (!known.Contains(frame.Segment)) throw new VolumeFormatException($"{name}: frame {frame.Index + 1} refers to segment {frame.Segment}, which the Segment Sequence does not describe");
            var mask = MaskOf(frame.Segment);
            var threshold = type == "FRACTIONAL" ? FractionalThreshold * maxFraction : 0.5;
            var any = false;
            for (var i = 0; i < values.Length; i++)
                if (values[i] >= threshold) { Place(mask, frame, z, i, columns); any = true; }
            if (any) Note(frame.Segment, frame, z);
        }

        var result = new List<SegSegment>();
        foreach (var (number, item) in segments)
        {
            var mask = MaskOf(number);
            var bySlice = sourcesOf.TryGetValue(number, out var b)
                ? b.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<string>)kv.Value) : new Dictionary<int, IReadOnlyList<string>>();
            result.Add(new SegSegment(number, item.GetString(SegmentLabel) ?? $"Segment {number}", item.GetString(SegmentDescription),
                item.GetString(SegmentAlgorithmType), item.GetString(SegmentAlgorithmName),
                Code(RtStructReader.Items(item, SegmentedPropertyCategoryCodeSequence).FirstOrDefault()),
                Code(RtStructReader.Items(item, SegmentedPropertyTypeCodeSequence).FirstOrDefault()),
                RtStructReader.Items(item, AnatomicRegionSequence).Select(Code).OfType<CodedConcept>().ToList(),
                mask, framesOf.TryGetValue(number, out var fl) ? fl : [], bySlice));
        }

        var referencedSeries = new List<string>();
        var referencedInstances = new List<string>();
        foreach (var s in RtStructReader.Items(ds, ReferencedSeriesSequence))
        {
            if (s.GetString(DicomTag.SeriesInstanceUID) is { } uid) referencedSeries.Add(uid);
            foreach (var i in RtStructReader.Items(s, ReferencedInstanceSequence))
                if (i.GetString(ReferencedSOPInstanceUID) is { } r) referencedInstances.Add(r);
        }
        return new Segmentation(sop, type, fractionalType, ds.GetString(DicomTag.StudyInstanceUID), ds.GetString(FrameOfReferenceUID), geometry,
            referencedSeries.Distinct().ToList(), referencedInstances.Distinct().ToList(), result);
    }

    static void Place(ImageVolume mask, FrameInfo frame, int z, int pixel, int columns)
    {
        var x = frame.TileColumn + pixel % columns;
        var y = frame.TileRow + pixel / columns;
        if (x < mask.Nx && y < mask.Ny) mask.Voxels[mask.Index(x, y, z)] = 1; // tiles at the right/bottom edge overhang the matrix
    }

    internal static CodedConcept? Code(DicomDataset? item)
    {
        if (item == null) return null;
        var code = item.GetString(CodeValue) ?? item.GetString(LongCodeValue);
        var scheme = item.GetString(CodingSchemeDesignator);
        if (code == null || scheme == null) return null;
        return new CodedConcept(code, scheme, item.GetString(CodeMeaning) ?? "");
    }
}

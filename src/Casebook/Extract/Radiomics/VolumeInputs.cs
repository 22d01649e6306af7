using Casebook.Extract.Dicom;
using Casebook.Extract.Volumes;

namespace Casebook.Extract.Radiomics;

/// <summary>
/// Loads the image and mask a radiomics run names. Image: a NIfTI file (.nii, .nii.gz) or a DICOM series (folder or
/// file). Mask: a NIfTI file on the image's grid, an RT Structure Set (contours rasterised on the image grid) or a
/// DICOM Segmentation (resampled by nearest voxel onto the image grid), or a folder holding exactly one of those.
/// </summary>
public static class VolumeInputs
{
    public static ImageVolume ReadImage(string path)
    {
        if (IsNifti(path))
        {
            if (!File.Exists(path)) throw new VolumeFormatException($"{path}: no such file");
            return NiftiReader.Read(path);
        }
        if (!File.Exists(path) && !Directory.Exists(path)) throw new VolumeFormatException($"{path}: no such file or folder");
        return DicomSeriesReader.ReadVolume(path);
    }

    /// <summary>
    /// The mask on <paramref name="image"/>'s grid. <paramref name="roiName"/> picks an RTSTRUCT ROI or SEG segment by
    /// name (or number); without it a file with one ROI/segment uses that one, else an ROI whose type or name is GTV.
    /// </summary>
    public static ImageVolume ReadMask(string path, ImageVolume image, string? roiName = null)
    {
        if (IsNifti(path))
        {
            if (!File.Exists(path)) throw new VolumeFormatException($"{path}: no such file");
            return NiftiReader.Read(path);
        }
        var file = path;
        if (Directory.Exists(path))
        {
            var candidates = Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
                .Where(f => KindOf(f) is "RTSTRUCT" or "SEG").ToList();
            if (candidates.Count != 1)
                throw new VolumeFormatException($"{path}: a mask folder must hold exactly one RTSTRUCT or SEG file, found {candidates.Count}");
            file = candidates[0];
        }
        else if (!File.Exists(path)) throw new VolumeFormatException($"{path}: no such file");

        switch (KindOf(file))
        {
            case "RTSTRUCT":
            {
                var set = RtStructReader.Read(file);
                var roi = Pick(set.Rois, r => r.Name, r => r.Number, r => r.InterpretedType, roiName, file);
                return RtStructReader.Rasterise(roi, image);
            }
            case "SEG":
            {
                var seg = SegReader.Read(file);
                var segment = Pick(seg.Segments, s => s.Label, s => s.Number, s => s.Type?.Meaning, roiName, file);
                if (segment.Mask.SameGrid(image)) return segment.Mask;
                if (seg.Geometry != SegGeometry.Patient)
                    throw new VolumeFormatException($"{file}: segment '{segment.Label}' has no patient geometry to place it on the image grid");
                return Casebook.Regions.RegionMeasures.OnGrid(segment.Mask, image)
                       ?? throw new VolumeFormatException($"{file}: segment '{segment.Label}' does not overlap the image");
            }
            default:
                throw new VolumeFormatException($"{file}: not a NIfTI mask, RT Structure Set or DICOM Segmentation");
        }
    }

    static T Pick<T>(IReadOnlyList<T> items, Func<T, string> name, Func<T, int> number, Func<T, string?> type, string? wanted, string file)
    {
        if (wanted != null)
            return items.FirstOrDefault(i => string.Equals(name(i), wanted, StringComparison.OrdinalIgnoreCase) || number(i).ToString() == wanted)
                   ?? throw new VolumeFormatException($"{file}: no ROI '{wanted}' (has {string.Join(", ", items.Select(name))})");
        if (items.Count == 1) return items[0];
        var gtv = items.Where(i => string.Equals(type(i), "GTV", StringComparison.OrdinalIgnoreCase) || name(i).StartsWith("GTV", StringComparison.OrdinalIgnoreCase)).ToList();
        if (gtv.Count == 1) return gtv[0];
        throw new VolumeFormatException($"{file}: {items.Count} ROIs ({string.Join(", ", items.Select(name))}); choose one with --roi NAME");
    }

    /// <summary>Modality of a DICOM file ("RTSTRUCT", "SEG", …), or null when it is not DICOM.</summary>
    static string? KindOf(string path)
    {
        try
        {
            using var f = DicomFile.Open(path);
            var sop = f.Dataset.GetString(DicomTag.SOPClassUID);
            if (sop == RtStructReader.SopClassUid) return "RTSTRUCT";
            if (sop == SegReader.SopClassUid || sop == SegReader.LabelMapSopClassUid) return "SEG";
            return f.Dataset.GetString(DicomTag.Modality);
        }
        catch (Exception e) when (e is DicomParseException or IOException or UnauthorizedAccessException or InvalidDataException) { return null; }
    }

    static bool IsNifti(string path) => path.EndsWith(".nii", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".nii.gz", StringComparison.OrdinalIgnoreCase);
}

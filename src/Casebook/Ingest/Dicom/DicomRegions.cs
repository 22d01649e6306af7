using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using Casebook.Extract.Dicom;
using Casebook.Extract.Dicom.Deid;
using Casebook.Extract.Volumes;
using Casebook.Model;
using Casebook.Regions;
using Casebook.Storage;
using Casebook.Validation;

namespace Casebook.Ingest.Dicom;

/// <summary>
/// Regions of interest from DICOM Segmentations and RT Structure Sets found in a study (issue 8): every segment or ROI becomes
/// an entry of <c>image_regions</c> (source SEG or RTSTRUCT) and an <c>image_region</c> segment (its label as text; a crop of
/// its middle slice as image, embedded at ingest) like a clinician's region. References to images are stored as the stored
/// (remapped) UIDs: <see cref="DicomUidMap"/> is the same keyed map the de-identifier applies to the stored slices. The object
/// itself is stored de-identified (fail closed: not at all without a de-identifier). A bad object is reported and skipped;
/// the study and the batch go on.
/// </summary>
public sealed class DicomRegions(BlobStore blobs, PatientPseudonym key, DicomIngestOptions options, IDicomDeidentifier? deid, List<IngestError> errors, string issuer)
{
    public const string SegSource = "SEG", RtStructSource = "RTSTRUCT";

    public static bool IsRegionObject(DicomInstance i) =>
        i.SOPClassUID?.Trim() is SegReader.SopClassUid or SegReader.LabelMapSopClassUid or RtStructReader.SopClassUid
        || i.Modality?.Trim() is "SEG" or "RTSTRUCT";

    readonly Dictionary<string, DicomImageSeries?> _volumes = new(StringComparer.Ordinal);
    IReadOnlyList<Casebook.Extract.Dicom.DicomSeries> _series = [];

    /// <summary>Adds the regions of every SEG and RTSTRUCT among <paramref name="seriesList"/>; returns how many.</summary>
    public int AddTo(StudyRecord study, IReadOnlyList<Casebook.Extract.Dicom.DicomSeries> seriesList)
    {
        _series = seriesList;
        var added = 0;
        foreach (var obj in seriesList.SelectMany(s => s.Instances).Where(IsRegionObject))
        {
            try { added += Add(study, seriesList, obj); }
            catch (Exception e) when (e is VolumeFormatException or DicomParseException or IOException or InvalidDataException or UnauthorizedAccessException)
            {
                errors.Add(new IngestError(obj.Source, $"regions not imported: {e.Message}"));
            }
        }
        return added;
    }

    int Add(StudyRecord study, IReadOnlyList<Casebook.Extract.Dicom.DicomSeries> seriesList, DicomInstance obj)
    {
        var bytes = DicomDiscovery.ReadBytes(obj.Source, options.MaxInstanceBytes);
        using var file = DicomFile.Open(bytes, new DicomReadOptions { Strict = true });
        var scrubber = DescriptorScrubber.From(file.Dataset);
        var isSeg = file.Dataset.GetString(DicomTag.Modality)?.Trim() == "SEG" || obj.SOPClassUID?.Trim() is SegReader.SopClassUid or SegReader.LabelMapSopClassUid;
        // Read before storing anything: a damaged object adds nothing.
        var seg = isSeg ? SegReader.Read(file, obj.Source) : null;
        var rt = isSeg ? null : RtStructReader.Read(file.Dataset, obj.Source);
        var stored = deid == null ? null : blobs.Put(deid.Deidentify(bytes, issuer).Bytes);
        var objectInfo = new JsonObject
        {
            ["sop_instance_uid"] = obj.SOPInstanceUID is { Length: > 0 } u ? DicomUidMap.Remap(key, u) : null,
            ["sop_class_uid"] = obj.SOPClassUID?.Trim(),
            ["blob"] = stored?.Sha256,
        };

        var entries = new List<(JsonObject Region, string Label, ImageVolume Mask, DicomImageSeries? Image, IReadOnlyList<string> Sources)>();
        if (seg != null)
        {
            DicomImageSeries? image = null;
            try { image = ImageSeries(seriesList, seg.ReferencedSeriesInstanceUids, seg.ReferencedSopInstanceUids); }
            catch (VolumeFormatException e)
            {
                // A SEG stands on its own grid: without a readable image series it loses intensity features, not its regions.
                errors.Add(new IngestError(obj.Source, $"regions imported without image features: the referenced series is not a readable volume ({e.Message})"));
            }
            foreach (var s in seg.Segments)
            {
                var label = scrubber.Scrub(s.Label);
                var region = new JsonObject
                {
                    ["source"] = SegSource, ["segment_number"] = s.Number,
                    ["segmentation_type"] = seg.SegmentationType, ["fractional_type"] = seg.FractionalType, ["geometry"] = seg.Geometry.ToString(),
                    ["algorithm_type"] = s.AlgorithmType,
                    ["category"] = Code(s.Category), ["type"] = Code(s.Type),
                    ["anatomic_regions"] = new JsonArray(s.AnatomicRegions.Select(c => (JsonNode?)Code(c)).ToArray()),
                    ["description"] = s.Description == null ? null : scrubber.Scrub(s.Description),
                };
                entries.Add((region, label, s.Mask, seg.Geometry == SegGeometry.Patient ? image : null, s.ReferencedSopInstanceUids));
            }
        }
        else
        {
            var image = ImageSeries(seriesList, rt!.ReferencedSeriesInstanceUids, rt.ReferencedSopInstanceUids)
                ?? throw new VolumeFormatException($"{obj.Source}: the RT Structure Set's image series ({string.Join(", ", rt.ReferencedSeriesInstanceUids)}) is not in the study, so its contours cannot be placed");
            foreach (var roi in rt.Rois)
            {
                var region = new JsonObject
                {
                    ["source"] = RtStructSource, ["roi_number"] = roi.Number,
                    ["interpreted_type"] = roi.InterpretedType, ["generation_algorithm"] = roi.GenerationAlgorithm,
                    ["contours"] = roi.Contours.Count,
                };
                entries.Add((region, scrubber.Scrub(roi.Name), RtStructReader.Rasterise(roi, image.Volume), image, []));
            }
        }

        return AddEntries(study, entries, objectInfo, obj.Source);
    }

    /// <summary>
    /// Regions from NIfTI masks (manifest column <c>regions</c>): each file's mask (one region, or one per value of a
    /// multi-label mask) measured on the study's DICOM series it overlaps (same grid preferred), else on its own grid.
    /// </summary>
    public int AddNifti(StudyRecord study, IReadOnlyList<RegionMaskInput> masks)
    {
        var added = 0;
        foreach (var input in masks)
        {
            try
            {
                var volume = NiftiReader.Read(input.Path);
                var stem = Path.GetFileName(input.Path);
                foreach (var ext in new[] { ".nii.gz", ".nii" })
                    if (stem.EndsWith(ext, StringComparison.OrdinalIgnoreCase)) { stem = stem[..^ext.Length]; break; }
                var values = volume.Voxels.Where(v => v != 0).Distinct().Order().ToList();
                if (values.Count == 0) throw new VolumeFormatException($"{input.Path}: the mask is empty (all zeros)");
                var multi = values.Count > 1 && values.Count <= 255 && values.All(v => v == MathF.Round(v) && v > 0);
                var entries = new List<(JsonObject, string, ImageVolume, DicomImageSeries?, IReadOnlyList<string>)>();
                foreach (var value in multi ? values : [float.NaN])
                {
                    // A label map: one region per value; otherwise any non-zero voxel is inside.
                    var mask = volume.EmptyLike();
                    for (var i = 0; i < mask.Count; i++)
                        if (multi ? volume.Voxels[i] == value : volume.Voxels[i] != 0 && !float.IsNaN(volume.Voxels[i])) mask.Voxels[i] = 1;
                    var label = (input.Label ?? stem) + (multi ? $" {value}" : "");
                    var region = new JsonObject { ["source"] = NiftiSource, ["file"] = Path.GetFileName(input.Path) };
                    if (multi) region["label_value"] = value;
                    entries.Add((region, label, mask, OverlappingSeries(mask), []));
                }
                added += AddEntries(study, entries, null, input.Path);
            }
            catch (Exception e) when (e is VolumeFormatException or IOException or UnauthorizedAccessException)
            {
                errors.Add(new IngestError(input.Path, $"regions not imported: {e.Message}"));
            }
        }
        return added;
    }

    public const string NiftiSource = "NIFTI";

    /// <summary>The study's image series a mask lies on: the one with the mask's grid, else the first it overlaps.</summary>
    DicomImageSeries? OverlappingSeries(ImageVolume mask)
    {
        DicomImageSeries? overlapping = null;
        foreach (var s in _series.Where(s => s.Instances.Any(i => !IsRegionObject(i)) && s.Instances.Count > 1))
        {
            DicomImageSeries? image;
            try { image = ImageSeries(_series, [s.SeriesInstanceUID], []); }
            catch (VolumeFormatException) { continue; } // not a regular volume (e.g. a cine or a slide): not a mask's image
            if (image == null) continue;
            if (mask.SameGrid(image.Volume)) return image;
            overlapping ??= RegionMeasures.OnGrid(mask, image.Volume) != null ? image : null;
        }
        return overlapping;
    }

    int AddEntries(StudyRecord study, List<(JsonObject Region, string Label, ImageVolume Mask, DicomImageSeries? Image, IReadOnlyList<string> Sources)> entries,
        JsonObject? objectInfo, string origin)
    {
        var added = 0;
        foreach (var (region, label, mask, image, sources) in entries)
        {
            // Measured on the image grid where the image is here (features need its voxels), else on the object's own grid.
            var onImage = image == null ? null : RegionMeasures.OnGrid(mask, image.Volume);
            var grid = onImage ?? mask;
            var regionJson = new JsonObject { ["region_id"] = null, ["slice"] = null, ["label"] = label, ["shape"] = "mask" };
            foreach (var kv in region.ToList()) { region.Remove(kv.Key); if (kv.Value != null) regionJson[kv.Key] = kv.Value; }
            if (!RegionMeasures.Describe(regionJson, grid, patientCoordinates: image != null || regionJson["geometry"]?.GetValue<string>() is null or nameof(SegGeometry.Patient)))
            {
                errors.Add(new IngestError(origin, $"region '{label}' is empty (no voxels): not imported"));
                continue;
            }
            regionJson["features"] = RegionMeasures.Features(grid, onImage == null ? null : image!.Volume);

            // Slices the region lies on: the image slices under its voxels, else the SEG frames' source instances.
            var originals = onImage != null ? MaskExtent.Slices(onImage).Select(z => image!.SopInstanceUids[z]).ToList() : sources.ToList();
            var instances = originals.Select(u => DicomUidMap.Remap(key, u)).Distinct().ToList();
            var slices = instances.Select(u => SliceOf(study, u)).OfType<SegmentRecord>().ToList();
            regionJson["instances"] = new JsonArray(instances.Select(u => (JsonNode)u).ToArray());
            regionJson["slices"] = new JsonArray(slices.Select(g => (JsonNode)g.SegmentId).ToArray());
            if (image != null) regionJson["series_instance_uid"] = DicomUidMap.Remap(key, image.SeriesInstanceUid);
            if (objectInfo != null) regionJson["object"] = objectInfo.DeepClone();
            regionJson["status"] = "imported";

            var middle = slices.Count > 0 ? slices[slices.Count / 2] : null;
            var segmentId = NextRegionId(study);
            var segment = new SegmentRecord
            {
                SegmentId = segmentId, Kind = SegmentKind.ImageRegion, Text = label,
                Source = middle == null ? new SourceLocation { File = objectInfo?["sop_instance_uid"]?.GetValue<string>() }
                    : new SourceLocation { File = middle.Source.File, Frame = middle.Source.Frame, Position = middle.Source.Position },
                Blob = middle?.Blob, BlobMime = middle?.BlobMime,
            };
            if (middle?.Blob != null && onImage != null && regionJson["pixel"] is JsonObject px)
            {
                // The crop that is embedded: the region's bounding box on its middle slice (as a clinician box would be).
                RegionPending.Crop(segment, new RegionBox(px["x"]!.GetValue<int>(), px["y"]!.GetValue<int>(), px["w"]!.GetValue<int>(), px["h"]!.GetValue<int>()));
            }
            regionJson["region_id"] = segmentId;
            regionJson["slice"] = middle?.SegmentId;
            study.Segments.Add(segment);
            study.ImageRegions.Add(regionJson);
            added++;
        }
        return added;
    }

    static string NextRegionId(StudyRecord study)
    {
        var n = study.Segments.Count(g => g.Kind == SegmentKind.ImageRegion) + 1;
        var id = $"{study.StudyId}/{SegmentKind.ImageRegion}/{n}";
        while (study.Segments.Any(g => g.SegmentId == id)) id = $"{study.StudyId}/{SegmentKind.ImageRegion}/{++n}";
        return id;
    }

    static SegmentRecord? SliceOf(StudyRecord study, string remappedSop) =>
        study.Segments.FirstOrDefault(g => g.Kind == SegmentKind.ImageSlice && g.Source.File == remappedSop && g.Source.Section == null && (g.Source.Frame ?? 0) == 0);

    /// <summary>The referenced image series read as a volume (cached per series), or null when it is not in the study.</summary>
    DicomImageSeries? ImageSeries(IReadOnlyList<Casebook.Extract.Dicom.DicomSeries> seriesList, IReadOnlyList<string> seriesUids, IReadOnlyList<string> sopUids)
    {
        var sops = sopUids.ToHashSet(StringComparer.Ordinal);
        var series = seriesList.FirstOrDefault(s => seriesUids.Contains(s.SeriesInstanceUID) && s.Instances.Any(i => !IsRegionObject(i)))
            ?? seriesList.FirstOrDefault(s => s.Instances.Any(i => i.SOPInstanceUID != null && sops.Contains(i.SOPInstanceUID)));
        return series == null ? null : Volume(series);
    }

    /// <summary>An image series of this study read as a volume, once per series (regions and CT anatomy share it).</summary>
    public DicomImageSeries? Volume(Casebook.Extract.Dicom.DicomSeries series)
    {
        if (_volumes.TryGetValue(series.SeriesInstanceUID, out var cached)) return cached;
        var images = series.Instances.Where(i => !IsRegionObject(i)).Select(i => i.Source).ToList();
        if (images.Count == 0) return null;
        var volume = DicomSeriesReader.Read(images, s => DicomFile.Open(DicomDiscovery.ReadBytes(s, options.MaxInstanceBytes)));
        _volumes[series.SeriesInstanceUID] = volume;
        return volume;
    }

    static JsonObject? Code(CodedConcept? c) => c == null ? null : new JsonObject { ["code"] = c.Code, ["scheme"] = c.Scheme, ["meaning"] = c.Meaning };
}

/// <summary>Region segments whose crop still needs embedding (after the content-hash check, like <see cref="DicomPending"/>).</summary>
internal static class RegionPending
{
    static readonly ConditionalWeakTable<SegmentRecord, RegionBox> Boxes = new();
    public static void Crop(SegmentRecord segment, RegionBox box) => Boxes.AddOrUpdate(segment, box);
    public static bool TryGetCrop(SegmentRecord segment, out RegionBox box) => Boxes.TryGetValue(segment, out box!);
}

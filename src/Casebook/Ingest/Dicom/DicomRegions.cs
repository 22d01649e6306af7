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

    /// <summary>Adds the regions of every SEG and RTSTRUCT among <paramref name="seriesList"/>; returns how many.</summary>
    public int AddTo(StudyRecord study, IReadOnlyList<Casebook.Extract.Dicom.DicomSeries> seriesList)
    {
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
            var image = ImageSeries(seriesList, seg.ReferencedSeriesInstanceUids, seg.ReferencedSopInstanceUids);
            foreach (var s in seg.Segments)
            {
                var label = scrubber.Scrub(s.Label);
                var region = new JsonObject
                {
                    ["source"] = SegSource, ["segment_number"] = s.Number,
                    ["segmentation_type"] = seg.SegmentationType, ["fractional_type"] = seg.FractionalType,
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

        var added = 0;
        foreach (var (region, label, mask, image, sources) in entries)
        {
            // Measured on the image grid where the image is here (features need its voxels), else on the object's own grid.
            var onImage = image == null ? null : RegionMeasures.OnGrid(mask, image.Volume);
            var grid = onImage ?? mask;
            var regionJson = new JsonObject { ["region_id"] = null, ["slice"] = null, ["label"] = label, ["shape"] = "mask" };
            foreach (var kv in region.ToList()) { region.Remove(kv.Key); if (kv.Value != null) regionJson[kv.Key] = kv.Value; }
            if (!RegionMeasures.Describe(regionJson, grid, patientCoordinates: image != null || (seg?.Geometry ?? SegGeometry.Patient) == SegGeometry.Patient))
            {
                errors.Add(new IngestError(obj.Source, $"region '{label}' is empty (no voxels): not imported"));
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
            regionJson["object"] = objectInfo.DeepClone();
            regionJson["status"] = "imported";

            var middle = slices.Count > 0 ? slices[slices.Count / 2] : null;
            var segmentId = NextRegionId(study);
            var segment = new SegmentRecord
            {
                SegmentId = segmentId, Kind = SegmentKind.ImageRegion, Text = label,
                Source = middle == null ? new SourceLocation { File = objectInfo["sop_instance_uid"]?.GetValue<string>() }
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
        if (series == null) return null;
        if (_volumes.TryGetValue(series.SeriesInstanceUID, out var cached)) return cached;
        var images = series.Instances.Where(i => !IsRegionObject(i)).Select(i => i.Source).ToList();
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

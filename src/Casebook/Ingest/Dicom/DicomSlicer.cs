using System.Text.Json.Nodes;
using Casebook.Extract.Dicom;
using Casebook.Extract.Dicom.Deid;
using Casebook.Model;
using Casebook.Storage;

namespace Casebook.Ingest.Dicom;

/// <summary>
/// Turns a study's DICOM series into image_slice segments (issue 3, "Segmentation into image slices"):
/// <list type="bullet">
/// <item>one segment per frame of every image instance, in series order (<see cref="DicomCatalog.Group"/>: along the slice
///   normal, else Instance Number), with Source.Frame (frame within its instance), Source.Position (ImagePositionPatient, or
///   the plane position of enhanced frames; slide coordinates in mm for SM) and a blob reference to the de-identified instance;</item>
/// <item>an embedding budget per series: evenly spaced slices/frames (volumes CT/MR/PT/NM, US cine, other modalities;
///   see <see cref="DicomIngestOptions"/>); a series with two or more embedded slices also gets a pooled segment
///   (Section "series", Frame null) whose vector is the normalised mean of its slice vectors;</item>
/// <item>whole-slide (SM): LABEL and OVERVIEW images are left out (they carry the slide label), the budget's tiles come from
///   the largest pyramid level that fits the budget (else the smallest level, sampled evenly), and a thumbnail segment
///   (Section "thumbnail") embeds the THUMBNAIL image or a mosaic of the smallest level;</item>
/// <item>key instance (dicom_image): the middle slice (index ⌊n/2⌋) of the first series that has pixels.</item>
/// </list>
/// Rendering and embedding happen later, only when the study changed (<see cref="DicomPending"/>).
/// </summary>
public sealed class DicomSlicer(BlobStore blobs, PatientPseudonym key, DicomIngestOptions options, IDicomDeidentifier? deid, List<IngestError> errors, string issuer)
{
    public const string Mime = "application/dicom";
    static readonly DicomTag PerFrameFunctionalGroups = new(0x52009230), PlanePositionSequence = new(0x00209113), PlanePositionSlide = new(0x0048021A);
    static readonly DicomTag XOffset = new(0x0040072A), YOffset = new(0x0040073A), ZOffset = new(0x0040074A), ImageType = new(0x00080008);
    static readonly DicomTag TotalPixelMatrixColumns = new(0x00480006), TotalPixelMatrixRows = new(0x00480007), BodyPartExamined = new(0x00180015);
    static readonly HashSet<string> Volumes = new(StringComparer.OrdinalIgnoreCase) { "CT", "MR", "PT", "NM" };
    static readonly HashSet<string> Cine = new(StringComparer.OrdinalIgnoreCase) { "US", "IVUS", "XA", "RF", "ES" };

    sealed record Slice(SegmentRecord Segment, DicomFrameRef Frame, BlobRef? Blob);
    sealed record Instance(DicomInstance Info, DicomDataset Header, BlobRef? Blob, string[] ImageType, bool HasPixels, DeidMetadata? Deid);

    /// <summary>Adds the series' slices to <paramref name="study"/>, sets the key instance and metadata; returns the number of slices.</summary>
    public int AddTo(StudyRecord study, IReadOnlyList<DicomSeries> seriesList)
    {
        var meta = new JsonObject();
        var seriesMeta = new JsonArray();
        DeidMetadata? firstDeid = null;
        var studyBurned = new BurnedInSummary();
        DicomDataset? keyHeader = null;
        string? keyModality = null;
        int seriesIndex = 0, sliceTotal = 0, nonImage = 0, withheldLabels = 0, instances = 0;
        foreach (var series in seriesList)
        {
            var loaded = new List<Instance>();
            foreach (var info in series.Instances)
            {
                var inst = Load(info);
                if (inst == null) continue;
                if (!inst.HasPixels) { nonImage++; continue; } // SR, RTSTRUCT, RTPLAN, waveforms: no slices
                if (inst.ImageType.Any(t => t is "LABEL" or "OVERVIEW")) { withheldLabels++; continue; } // slide labels carry names
                loaded.Add(inst);
            }
            if (loaded.Count == 0) continue;
            instances += loaded.Count;
            var modality = series.Modality?.Trim().ToUpperInvariant();
            var bodyPart = DicomMetadata.Find(loaded[0].Header, BodyPartExamined)?.GetString()?.Trim();
            var prefix = $"{study.StudyId}/{SegmentKind.ImageSlice}/{seriesIndex}.";
            var slices = new List<Slice>();
            foreach (var inst in loaded)
            {
                var frames = inst.Info.NumberOfFrames;
                var file = inst.Info.SOPInstanceUID is { Length: > 0 } sop ? DicomUidMap.Remap(key, sop) : null; // never the original file name
                for (var f = 0; f < frames; f++)
                {
                    var segment = new SegmentRecord
                    {
                        SegmentId = prefix + slices.Count,
                        Kind = SegmentKind.ImageSlice,
                        Blob = inst.Blob,
                        BlobMime = inst.Blob == null ? null : Mime,
                        Source = new SourceLocation { File = file, Frame = f, Position = Position(inst, f) },
                    };
                    slices.Add(new Slice(segment, new DicomFrameRef(inst.Info.Source, f, modality, bodyPart), inst.Blob));
                }
            }
            var embedded = modality == "SM" ? ChooseSlideTiles(loaded, slices) : Evenly(slices.Count, Budget(modality)).Select(i => slices[i]).ToList();
            foreach (var s in embedded) DicomPending.Render(s.Segment, s.Frame);
            foreach (var s in slices) study.Segments.Add(s.Segment);
            if (modality == "SM" && Thumbnail(loaded) is { } thumb)
            {
                var segment = new SegmentRecord
                {
                    SegmentId = prefix + "thumbnail", Kind = SegmentKind.ImageSlice, Blob = thumb.Blob, BlobMime = thumb.Blob == null ? null : Mime,
                    Source = new SourceLocation { File = thumb.Info.SOPInstanceUID is { Length: > 0 } u ? DicomUidMap.Remap(key, u) : null, Section = "thumbnail" },
                };
                DicomPending.Render(segment, new DicomFrameRef(thumb.Info.Source, -1, modality, bodyPart));
                study.Segments.Add(segment);
            }
            if (embedded.Count >= 2)
            {
                var pooled = new SegmentRecord { SegmentId = prefix + "series", Kind = SegmentKind.ImageSlice, Source = new SourceLocation { Section = "series" } };
                DicomPending.Pool(pooled, embedded.Select(s => s.Segment).ToList());
                study.Segments.Add(pooled);
            }
            if (keyHeader == null)
            {
                var middle = slices[slices.Count / 2];
                keyHeader = loaded.First(i => i.Info.Source == middle.Frame.Source).Header;
                keyModality = modality;
                if (middle.Blob != null) { study.DicomImage = middle.Blob; study.DicomMime = Mime; }
                meta["key_slice"] = middle.Segment.SegmentId;
            }
            var seriesObject = DicomMetadata.Series(loaded[0].Header, series.SeriesInstanceUID.Length > 0 ? DicomUidMap.Remap(key, series.SeriesInstanceUID) : "",
                series.SeriesNumber, modality, slices.Count, embedded.Count);
            var seriesBurned = new BurnedInSummary();
            foreach (var inst in loaded) { seriesBurned.Add(inst.Deid?.BurnedInAnnotation, inst.Header); studyBurned.Add(inst.Deid?.BurnedInAnnotation, inst.Header); firstDeid ??= inst.Deid; }
            if (seriesBurned.ToJson() is { } sb) seriesObject["burned_in_annotation"] = sb;
            seriesMeta.Add(seriesObject);
            sliceTotal += slices.Count;
            seriesIndex++;
        }
        if (keyHeader == null) return 0;
        study.Modality ??= keyModality;
        DicomMetadata.AddStudy(study.Metadata, keyHeader, keyModality, key, options);
        meta["series_count"] = seriesIndex;
        meta["instance_count"] = instances;
        meta["slice_count"] = sliceTotal;
        if (nonImage > 0) meta["non_image_instances"] = nonImage;
        if (withheldLabels > 0) meta["withheld_label_images"] = withheldLabels;
        meta["blobs"] = deid != null ? "de-identified" : "withheld: no de-identifier available (fail closed)";
        if (firstDeid != null)
            // Which profile and options made the stored instances (the same as their (0012,0062/0063/0064)).
            meta["deidentification"] = new JsonObject
            {
                ["profile"] = firstDeid.ProfileSource,
                ["method"] = new JsonArray(firstDeid.Method.Select(m => (JsonNode)m).ToArray()),
                ["codes"] = new JsonArray(firstDeid.MethodCodes.Where(c => c.Value != "113101").Select(c => (JsonNode)new JsonObject { ["value"] = c.Value, ["scheme"] = c.Scheme, ["meaning"] = c.Meaning }).ToArray()),
            };
        if (studyBurned.ToJson() is { } burned) meta["burned_in_annotation"] = burned;
        meta["series"] = seriesMeta;
        study.Metadata["dicom"] = meta;
        return sliceTotal;
    }

    /// <summary>The exam date from the key series' header, shifted by the patient's date shift; null when no shift is known.</summary>
    public string? ShiftedExamDate(DicomSeries first, string patientId)
    {
        if (deid?.DateShiftDays(issuer, patientId) is not { } days) return null; // never store an unshifted DICOM date
        var inst = Load(first.Instances[0]);
        return inst != null && DicomMetadata.ExamDate(inst.Header) is { } d ? d.AddDays(days).ToString("yyyy-MM-dd") : null;
    }

    int Budget(string? modality) =>
        modality != null && Volumes.Contains(modality) ? options.VolumeSliceBudget
        : modality != null && Cine.Contains(modality) ? options.CineFrameBudget
        : options.OtherSeriesBudget;

    /// <summary>Indices of <paramref name="budget"/> evenly spaced items of <paramref name="n"/> (first and last included); all when n ≤ budget.</summary>
    public static List<int> Evenly(int n, int budget)
    {
        if (n <= budget) return Enumerable.Range(0, n).ToList();
        if (budget <= 0) return [];
        if (budget == 1) return [n / 2];
        return Enumerable.Range(0, budget).Select(i => (int)Math.Round(i * (n - 1) / (double)(budget - 1))).Distinct().ToList();
    }

    Instance? Load(DicomInstance info)
    {
        try
        {
            using var header = DicomDiscovery.OpenHeader(info.Source, options.MaxInstanceBytes);
            if (header.Dataset.Count == 0) throw new InvalidDataException(header.Problems.Count > 0 ? header.Problems[0].Message : "empty dataset");
            BlobRef? blob = null;
            var hasPixels = header.StoppedBeforePixels || header.PixelData != null;
            DeidMetadata? deidMeta = null;
            if (deid != null && hasPixels)
            {
                var output = deid.Deidentify(DicomDiscovery.ReadBytes(info.Source, options.MaxInstanceBytes), issuer); // fail closed: a refusal skips the instance
                blob = blobs.Put(output.Bytes);
                deidMeta = output.Metadata;
            }
            var imageType = DicomMetadata.Find(header.Dataset, ImageType)?.GetStrings().Select(s => s.Trim().ToUpperInvariant()).ToArray() ?? [];
            return new Instance(info, header.Dataset, blob, imageType, hasPixels, deidMeta);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or DicomParseException or UnauthorizedAccessException or ArgumentException or InvalidOperationException or NotSupportedException)
        {
            errors.Add(new IngestError(info.Source, $"DICOM instance skipped: {e.Message}"));
            return null;
        }
    }

    static double[]? Position(Instance inst, int frame)
    {
        var ds = inst.Header;
        if (ds.Find(PerFrameFunctionalGroups)?.Items is { } perFrame && frame < perFrame.Count)
        {
            var item = perFrame[frame];
            if (item.Find(PlanePositionSequence)?.Items is { Count: > 0 } pp && pp[0].GetDoubles(DicomTag.ImagePositionPatient) is { Length: 3 } ipp && ipp.All(double.IsFinite)) return ipp;
            if (item.Find(PlanePositionSlide)?.Items is { Count: > 0 } ps && ps[0].GetDouble(XOffset) is { } x && ps[0].GetDouble(YOffset) is { } y)
                return [x, y, ps[0].GetDouble(ZOffset) ?? 0];
        }
        if (inst.Info.NumberOfFrames == 1 && inst.Info.ImagePositionPatient is { } p) return p;
        return null;
    }

    /// <summary>SM: tiles from the largest VOLUME level whose frame count fits the budget, else from the smallest level, evenly spaced.</summary>
    List<Slice> ChooseSlideTiles(List<Instance> levels, List<Slice> slices)
    {
        var volume = levels.Where(l => !l.ImageType.Contains("THUMBNAIL")).ToList();
        if (volume.Count == 0) volume = levels;
        static long Area(Instance i) => (i.Header.GetInteger(TotalPixelMatrixColumns) ?? i.Header.GetInteger(DicomTag.Columns) ?? 0) * (i.Header.GetInteger(TotalPixelMatrixRows) ?? i.Header.GetInteger(DicomTag.Rows) ?? 0);
        var budget = options.WholeSlideTileBudget;
        var level = volume.Where(l => l.Info.NumberOfFrames <= budget).OrderByDescending(Area).FirstOrDefault()
            ?? volume.OrderBy(Area).ThenBy(l => l.Info.NumberOfFrames).First();
        var tiles = slices.Where(s => s.Frame.Source == level.Info.Source).ToList();
        return Evenly(tiles.Count, budget).Select(i => tiles[i]).ToList();
    }

    static Instance? Thumbnail(List<Instance> levels) =>
        levels.FirstOrDefault(l => l.ImageType.Contains("THUMBNAIL"))
        ?? levels.OrderBy(l => (l.Header.GetInteger(TotalPixelMatrixColumns) ?? 0) * (l.Header.GetInteger(TotalPixelMatrixRows) ?? 0)).FirstOrDefault();

    /// <summary>
    /// Burned-in annotation over a series or study, for metadata: the header flag, whether OCR found text (null when no instance
    /// was OCR'd), words found, instances checked and masked. Never the words themselves.
    /// </summary>
    sealed class BurnedInSummary
    {
        bool _header, _masked, _any;
        bool? _found;
        int _words, _checked;

        public void Add(BurnedInAnnotation? b, DicomDataset header)
        {
            if (b == null)
            {
                // no de-identifier: the header flag is all there is
                if (string.Equals(header.GetString(new DicomTag(0x00280301))?.Trim(), "YES", StringComparison.OrdinalIgnoreCase)) { _header = true; _any = true; }
                return;
            }
            _any |= b.Header || b.OcrTextFound != null || b.Masked;
            _header |= b.Header;
            _masked |= b.Masked;
            if (b.OcrTextFound is { } f) { _found = (_found ?? false) | f; _checked++; _words += b.OcrWords ?? 0; }
        }

        public JsonObject? ToJson() => !_any ? null : new JsonObject
        {
            ["header"] = _header,
            ["ocr_text_found"] = _found,
            ["ocr_words"] = _found == null ? null : _words,
            ["ocr_instances"] = _found == null ? null : _checked,
            ["masked"] = _masked,
        };
    }
}

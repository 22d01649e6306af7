using System.Collections.Concurrent;
using Casebook.Embed;
using Casebook.Extract.Dicom;
using Casebook.Extract.Dicom.Pixels;
using Casebook.Ingest.Dicom;
using Casebook.Model;

namespace Casebook.Server.Endpoints;

/// <summary>
/// Renders a study's image slices to PNG: DICOM through the engine's renderer (modality LUT, VOI window or a named preset
/// such as "lung"), stored PNG/JPEG images as they are. Rendered PNGs are kept in a small bounded cache, keyed by content
/// hash, frame, preset and size, so scrolling back and forth does not re-decode. Binaries come from the database's blob
/// store, or, serving a cluster, from the log's object store (where every shard's binaries live by content hash).
/// </summary>
public sealed class SliceRenderer(Func<BlobRef, byte[]> readBlob)
{
    public SliceRenderer(CasebookDb db) : this(db.ReadBlob) { }

    public const int ThumbnailSide = 160;
    const int CacheEntries = 512;
    readonly ConcurrentDictionary<(string Sha, int Frame, string? Preset, int Side), byte[]> _cache = new();

    public byte[] RenderPng(StudyRecord study, SegmentRecord slice, string? preset, int maxSide = 0)
    {
        var blob = slice.Blob ?? throw new ProblemException(404, "Not found", $"slice {slice.SegmentId} has no stored image");
        var frame = slice.Source.Frame ?? 0;
        var key = (blob.Sha256, frame, preset?.ToLowerInvariant(), maxSide);
        if (_cache.TryGetValue(key, out var cached)) return cached;
        var bytes = readBlob(blob);
        DecodedImage image;
        if (DicomSliceRendering.LooksLikeDicom(bytes))
        {
            using var file = DicomFile.Open(bytes);
            if (file.PixelData == null) throw new InvalidDataException($"slice {slice.SegmentId}: the DICOM instance has no Pixel Data (7FE0,0010)");
            var modality = file.Dataset.GetString(DicomTag.Modality);
            if (preset != null) WindowPresets.Get(preset, modality); // unknown preset: ArgumentException listing the known ones
            var options = preset != null ? new RenderOptions { Preset = preset }
                : DicomSliceRendering.OptionsFor(modality, study.Metadata["body_part"]?.ToString());
            try { image = DicomSliceRendering.Render(file, frame, options); }
            catch (PixelDecodeException e) { throw new InvalidDataException($"slice {slice.SegmentId}: {e.Message}", e); }
        }
        else
        {
            if (preset != null) throw new ProblemException(400, "Bad request", $"window presets apply to DICOM slices; slice {slice.SegmentId} is a stored {slice.BlobMime ?? "image"}");
            image = ImageDecoder.Decode(bytes);
        }
        if (maxSide > 0) image = image.Thumbnail(maxSide);
        var png = image.ToPng();
        if (_cache.Count >= CacheEntries) _cache.Clear(); // simple bound: the working set of a viewer is one series
        _cache[key] = png;
        return png;
    }
}

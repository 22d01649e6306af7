using Casebook.Embed;
using Casebook.Extract.Dicom;
using Casebook.Extract.Dicom.Pixels;

namespace Casebook.Ingest.Dicom;

/// <summary>
/// Renders DICOM frames to the 8-bit images that are embedded, the same way at ingest and for search by scan:
/// Modality LUT, then the VOI (CT: a fixed preset by body part — brain for head, lung for chest, soft tissue otherwise —
/// so that vectors from scanners with different stored windows stay comparable; other modalities: the dataset's
/// VOI LUT or window, else the frame's range), MONOCHROME1 inverted, colour to RGB (<see cref="ImageRenderer"/>).
/// </summary>
public static class DicomSliceRendering
{
    static readonly DicomTag PerFrameFunctionalGroups = new(0x52009230), BodyPartExamined = new(0x00180015);
    static readonly DicomTag TotalPixelMatrixColumns = new(0x00480006), TotalPixelMatrixRows = new(0x00480007);
    static readonly DicomTag PlanePositionSlide = new(0x0048021A), ColumnPosition = new(0x0048021E), RowPosition = new(0x0048021F);
    static readonly DicomTag DimensionOrganizationType = new(0x00209311);
    /// <summary>Longest side of a slide thumbnail mosaic (the whole-slide level it is built from must fit in 8192²).</summary>
    public const int ThumbnailSize = 512;

    public static RenderOptions OptionsFor(string? modality, string? bodyPart)
    {
        if (!string.Equals(modality, "CT", StringComparison.OrdinalIgnoreCase)) return new RenderOptions();
        var part = (bodyPart ?? "").ToUpperInvariant();
        var preset = part is "HEAD" or "BRAIN" or "SKULL" or "HEADNECK" ? "brain"
            : part is "CHEST" or "LUNG" or "THORAX" ? "lung" : "soft-tissue";
        return new RenderOptions { Preset = preset };
    }

    /// <summary>Renders each requested frame; a frame that fails gets null and an entry in <paramref name="failures"/>.</summary>
    public static DecodedImage?[] RenderAll(IReadOnlyList<DicomFrameRef> frames, long maxBytes, List<(DicomFrameRef Frame, string Reason)> failures)
    {
        var result = new DecodedImage?[frames.Count];
        foreach (var group in frames.Select((f, i) => (f, i)).GroupBy(x => x.f.Source))
        {
            try
            {
                var bytes = DicomDiscovery.ReadBytes(group.Key, maxBytes);
                using var file = DicomFile.Open(bytes);
                if (file.PixelData == null) throw new PixelDecodeException(file.Problems.Count > 0 ? file.Problems[0].Message : "no Pixel Data (7FE0,0010)");
                foreach (var (f, i) in group)
                {
                    try { result[i] = f.Frame < 0 ? Thumbnail(file, f) : Render(file, f.Frame, OptionsFor(f.Modality, f.BodyPart)); }
                    catch (Exception e) when (e is PixelDecodeException or DicomParseException or ArgumentException or InvalidDataException or IndexOutOfRangeException)
                    { failures.Add((f, $"frame {f.Frame}: {e.Message}")); }
                }
            }
            catch (Exception e) when (e is PixelDecodeException or DicomParseException or IOException or InvalidDataException or ArgumentException or UnauthorizedAccessException)
            {
                foreach (var (f, _) in group) failures.Add((f, e.Message));
            }
        }
        return result;
    }

    /// <summary>
    /// One frame. Enhanced multi-frame objects keep per-frame VOI/rescale in functional groups that ImageRenderer looks up by
    /// frame index, so frames 0..frame are decoded; other objects decode just the one frame.
    /// </summary>
    public static DecodedImage Render(DicomFile file, int frame, RenderOptions options)
    {
        if (file.Dataset.Contains(PerFrameFunctionalGroups) && frame > 0)
        {
            var upTo = PixelDecoder.Decode(file, new PixelDecodeOptions { FirstFrame = 0, FrameCount = frame + 1 });
            return ImageRenderer.Render(file.Dataset, upTo, frame, options);
        }
        var one = PixelDecoder.Decode(file, new PixelDecodeOptions { FirstFrame = frame, FrameCount = 1 });
        return ImageRenderer.Render(file.Dataset, one, 0, options);
    }

    /// <summary>Search by scan: the middle frame of a DICOM file, rendered as at ingest.</summary>
    public static DecodedImage RenderQuery(byte[] dicom)
    {
        using var file = DicomFile.Open(dicom);
        if (file.PixelData == null)
            throw new InvalidDataException("the DICOM file has no Pixel Data (7FE0,0010) to search with" + (file.Problems.Count > 0 ? $": {file.Problems[0].Message}" : ""));
        var frames = (int)Math.Max(1, file.Dataset.GetInteger(DicomTag.NumberOfFrames) ?? 1);
        var modality = file.Dataset.GetString(DicomTag.Modality);
        var bodyPart = DicomMetadata.Find(file.Dataset, BodyPartExamined)?.GetString();
        try { return Render(file, frames / 2, OptionsFor(modality, bodyPart)); }
        catch (PixelDecodeException e) { throw new InvalidDataException($"DICOM pixels could not be decoded: {e.Message}", e); }
    }

    /// <summary>True when the bytes are DICOM (Part 10 magic, or a raw dataset the reader accepts).</summary>
    public static bool LooksLikeDicom(byte[] bytes)
    {
        if (DicomDiscovery.HasDicmMagic(bytes)) return true;
        if (bytes.Length < 8 || bytes[0] == 0x89 || bytes[0] == 0xFF) return false; // PNG, JPEG
        try { using var f = DicomFile.Open(bytes, DicomReadOptions.HeaderOnly); return f.IsComplete && f.Dataset.Count > 0; }
        catch (DicomParseException) { return false; }
    }

    /// <summary>
    /// Whole-slide thumbnail: the level's tiles placed by their Row/Column Position in the Total Pixel Matrix (PS3.3 C.8.12.6.1,
    /// or TILED_FULL order), then shrunk so the longer side is at most <see cref="ThumbnailSize"/> by box averaging.
    /// </summary>
    static DecodedImage Thumbnail(DicomFile file, DicomFrameRef f)
    {
        var ds = file.Dataset;
        var options = OptionsFor(f.Modality, f.BodyPart);
        int totalCols = (int)(ds.GetInteger(TotalPixelMatrixColumns) ?? 0), totalRows = (int)(ds.GetInteger(TotalPixelMatrixRows) ?? 0);
        int tileCols = (int)(ds.GetInteger(DicomTag.Columns) ?? 0), tileRows = (int)(ds.GetInteger(DicomTag.Rows) ?? 0);
        var frames = (int)Math.Max(1, ds.GetInteger(DicomTag.NumberOfFrames) ?? 1);
        if (totalCols <= 0 || totalRows <= 0 || tileCols <= 0 || tileRows <= 0 || (long)totalCols * totalRows > 8192L * 8192 || frames == 1)
            return Shrink(Render(file, 0, options));
        var perFrame = ds.Find(PerFrameFunctionalGroups)?.Items;
        var tiledFull = ds.GetString(DimensionOrganizationType)?.Trim() == "TILED_FULL" || perFrame == null;
        var across = (totalCols + tileCols - 1) / tileCols;
        var down = (totalRows + tileRows - 1) / tileRows;
        var count = Math.Min(frames, tiledFull ? across * down : frames); // TILED_FULL: first focal plane / optical path only
        var pixels = PixelDecoder.Decode(file, new PixelDecodeOptions { FirstFrame = 0, FrameCount = count });
        DecodedImage? canvas = null;
        for (var t = 0; t < count; t++)
        {
            int col0, row0;
            if (tiledFull) { col0 = t % across * tileCols; row0 = t / across * tileRows; }
            else
            {
                var pos = perFrame![t].Find(PlanePositionSlide)?.Items is { Count: > 0 } p ? p[0] : null;
                col0 = (int)(pos?.GetInteger(ColumnPosition) ?? 1) - 1; row0 = (int)(pos?.GetInteger(RowPosition) ?? 1) - 1;
            }
            var tile = ImageRenderer.Render(ds, pixels, t, options);
            canvas ??= new DecodedImage(totalCols, totalRows, tile.Channels, new byte[(long)totalCols * totalRows * tile.Channels]);
            if (tile.Channels != canvas.Channels) continue;
            var ch = tile.Channels;
            for (var y = 0; y < tile.Height; y++)
            {
                var cy = row0 + y;
                if (cy < 0 || cy >= totalRows) continue;
                var x0 = Math.Max(0, col0);
                var width = Math.Min(tile.Width, totalCols - col0) - (x0 - col0);
                if (width <= 0) continue;
                tile.Pixels.AsSpan((y * tile.Width + (x0 - col0)) * ch, width * ch).CopyTo(canvas.Pixels.AsSpan((int)(((long)cy * totalCols + x0) * ch), width * ch));
            }
        }
        return Shrink(canvas!);
    }

    static DecodedImage Shrink(DecodedImage image)
    {
        var scale = (int)Math.Ceiling(Math.Max(image.Width, image.Height) / (double)ThumbnailSize);
        if (scale <= 1) return image;
        int w = image.Width / scale, h = image.Height / scale, ch = image.Channels;
        if (w == 0 || h == 0) return image;
        var dst = new byte[w * h * ch];
        for (var y = 0; y < h; y++)
        for (var x = 0; x < w; x++)
        for (var c = 0; c < ch; c++)
        {
            var sum = 0;
            for (var dy = 0; dy < scale; dy++)
            for (var dx = 0; dx < scale; dx++) sum += image.Pixels[((y * scale + dy) * image.Width + x * scale + dx) * ch + c];
            dst[(y * w + x) * ch + c] = (byte)(sum / (scale * scale));
        }
        return new DecodedImage(w, h, ch, dst);
    }
}

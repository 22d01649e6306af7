using System.Globalization;
using System.Text.Json.Nodes;
using Casebook.Embed;
using Casebook.Extract.Dicom;
using Casebook.Ingest.Dicom;
using SkiaSharp;

namespace Casebook.Validation;

/// <summary>A box on a slice in pixel coordinates: x, y of the top-left corner, width and height.</summary>
public sealed record RegionBox(int X, int Y, int W, int H)
{
    /// <summary>Parses "x,y,w,h" (non-negative integers, w and h at least 1).</summary>
    public static RegionBox Parse(string text)
    {
        var parts = text.Split(',');
        if (parts.Length != 4 || !parts.All(p => int.TryParse(p.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out _)))
            throw new ArgumentException($"--box '{text}': expected x,y,w,h as four non-negative integers (pixels)");
        var v = parts.Select(p => int.Parse(p.Trim(), CultureInfo.InvariantCulture)).ToArray();
        if (v[2] < 1 || v[3] < 1) throw new ArgumentException($"--box '{text}': width and height must be at least 1 pixel");
        return new RegionBox(v[0], v[1], v[2], v[3]);
    }

    /// <summary>
    /// Parses a polygon "x1,y1,x2,y2,x3,y3[,…]" (at least 3 vertices, non-negative integer pixels): the vertices, and their
    /// bounding box (what is cropped and embedded).
    /// </summary>
    public static (RegionBox Box, IReadOnlyList<(int X, int Y)> Points) ParsePolygon(string text)
    {
        var parts = text.Split(',');
        if (parts.Length < 6 || parts.Length % 2 != 0 || !parts.All(p => int.TryParse(p.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out _)))
            throw new ArgumentException($"--polygon '{text}': expected x1,y1,x2,y2,x3,y3[,…] — at least three vertices as non-negative integer pixels");
        var v = parts.Select(p => int.Parse(p.Trim(), CultureInfo.InvariantCulture)).ToArray();
        var points = Enumerable.Range(0, v.Length / 2).Select(i => (v[2 * i], v[2 * i + 1])).ToList();
        int x0 = points.Min(p => p.Item1), y0 = points.Min(p => p.Item2), x1 = points.Max(p => p.Item1), y1 = points.Max(p => p.Item2);
        if (x1 == x0 || y1 == y0) throw new ArgumentException($"--polygon '{text}': the vertices lie on one line (no area)");
        return (new RegionBox(x0, y0, x1 - x0 + 1, y1 - y0 + 1), points);
    }

    public void CheckWithin(int width, int height, string slice)
    {
        if (X + W > width || Y + H > height)
            throw new ArgumentException($"box {X},{Y},{W},{H} does not fit slice '{slice}' of {width}x{height} pixels");
    }
}

/// <summary>
/// Where a slice lies in the patient: ImagePositionPatient (mm, first pixel's centre), ImageOrientationPatient (row and column
/// direction cosines) and PixelSpacing (row spacing, column spacing). Pixel (c, r) is at P + X·Δcol·c + Y·Δrow·r (PS3.3 C.7.6.2.1.1).
/// </summary>
public sealed record SliceGeometry(double[] Position, double[] Orientation, double[] Spacing)
{
    public double[] ToPatient(double col, double row) =>
        Enumerable.Range(0, 3).Select(i => Math.Round(Position[i] + Orientation[i] * Spacing[1] * col + Orientation[3 + i] * Spacing[0] * row, 3)).ToArray();

    /// <summary>The box's corners in patient coordinates (top-left, top-right, bottom-right, bottom-left).</summary>
    public JsonArray Corners(RegionBox b)
    {
        double x0 = b.X, y0 = b.Y, x1 = b.X + b.W - 1, y1 = b.Y + b.H - 1;
        return Points([(x0, y0), (x1, y0), (x1, y1), (x0, y1)]);
    }

    /// <summary>Pixel points (column, row) in patient coordinates, in order (a polygon's vertices).</summary>
    public JsonArray Points(IEnumerable<(double Col, double Row)> points) =>
        new(points.Select(p => (JsonNode)new JsonArray(ToPatient(p.Col, p.Row).Select(v => (JsonNode)JsonValue.Create(v)).ToArray())).ToArray());

    static readonly DicomTag PixelSpacing = new(0x00280030);

    public static SliceGeometry? FromDicom(DicomFile f)
    {
        var ds = f.Dataset;
        var pos = ds.GetDoubles(DicomTag.ImagePositionPatient);
        var ori = ds.GetDoubles(DicomTag.ImageOrientationPatient);
        var sp = ds.GetDoubles(PixelSpacing);
        return Valid(pos, 3) && Valid(ori, 6) && Valid(sp, 2) ? new SliceGeometry(pos!, ori!, sp!) : null;
    }

    /// <summary>From study metadata keys <c>image_position_patient</c>, <c>image_orientation_patient</c>, <c>pixel_spacing</c> (arrays).</summary>
    public static SliceGeometry? FromMetadata(JsonObject metadata)
    {
        double[]? Get(string k) => metadata[k] is JsonArray a && a.All(n => n is JsonValue v && v.TryGetValue<double>(out _)) ? a.Select(n => n!.GetValue<double>()).ToArray() : null;
        var pos = Get("image_position_patient");
        var ori = Get("image_orientation_patient");
        var sp = Get("pixel_spacing");
        return Valid(pos, 3) && Valid(ori, 6) && Valid(sp, 2) ? new SliceGeometry(pos!, ori!, sp!) : null;
    }

    static bool Valid(double[]? v, int n) => v != null && v.Length == n && v.All(double.IsFinite);
}

/// <summary>Decoding a slice, cropping a box and embedding the crop with the image embedder.</summary>
public static class RegionCrops
{
    /// <summary>Pixels of a slice blob (PNG/JPEG, or DICOM rendered as at ingest) and its geometry when known.</summary>
    public static (DecodedImage Pixels, SliceGeometry? Geometry) Load(byte[] bytes, JsonObject? metadata)
    {
        if (DicomSliceRendering.LooksLikeDicom(bytes))
        {
            SliceGeometry? g;
            using (var f = DicomFile.Open(bytes)) g = SliceGeometry.FromDicom(f);
            return (DicomSliceRendering.RenderQuery(bytes), g ?? (metadata == null ? null : SliceGeometry.FromMetadata(metadata)));
        }
        return (ImageDecoder.Decode(bytes), metadata == null ? null : SliceGeometry.FromMetadata(metadata));
    }

    public static DecodedImage Crop(DecodedImage image, RegionBox b)
    {
        var ch = image.Channels;
        var pixels = new byte[b.W * b.H * ch];
        for (var y = 0; y < b.H; y++)
            Array.Copy(image.Pixels, ((b.Y + y) * image.Width + b.X) * ch, pixels, y * b.W * ch, b.W * ch);
        return new DecodedImage(b.W, b.H, ch, pixels);
    }

    public static float[] Embed(IImageEmbedder embedder, DecodedImage crop)
    {
        if (embedder is IPixelImageEmbedder pixels) return pixels.EmbedPixels([crop])[0];
        return embedder.Embed([EncodePng(crop)])[0];
    }

    public static byte[] EncodePng(DecodedImage image)
    {
        var info = new SKImageInfo(image.Width, image.Height, image.IsGrey ? SKColorType.Gray8 : SKColorType.Rgba8888, image.IsGrey ? SKAlphaType.Opaque : SKAlphaType.Unpremul);
        using var bitmap = new SKBitmap(info);
        if (image.IsGrey)
            for (var y = 0; y < image.Height; y++) image.Pixels.AsSpan(y * image.Width, image.Width).CopyTo(bitmap.GetPixelSpan().Slice(y * bitmap.RowBytes));
        else
        {
            var rgba = new byte[image.Width * image.Height * 4];
            for (int i = 0, j = 0; i < image.Pixels.Length; i += 3, j += 4) { rgba[j] = image.Pixels[i]; rgba[j + 1] = image.Pixels[i + 1]; rgba[j + 2] = image.Pixels[i + 2]; rgba[j + 3] = 255; }
            System.Runtime.InteropServices.Marshal.Copy(rgba, 0, bitmap.GetPixels(), rgba.Length);
        }
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }
}

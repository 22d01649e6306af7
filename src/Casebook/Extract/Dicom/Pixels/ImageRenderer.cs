using System.Buffers.Binary;
using Casebook.Embed;
using SkiaSharp;

namespace Casebook.Extract.Dicom.Pixels;

/// <summary>How to turn stored values into display pixels. Precedence for the VOI: explicit window, preset, the dataset's VOI LUT Sequence, its Window Center/Width, the frame's min–max.</summary>
public sealed record RenderOptions
{
    public double? WindowCenter { get; init; }
    public double? WindowWidth { get; init; }
    /// <summary>A <see cref="WindowPresets"/> name (e.g. "lung").</summary>
    public string? Preset { get; init; }
    /// <summary>Which of several Window Center/Width values (or VOI LUTs) the dataset offers.</summary>
    public int VoiIndex { get; init; }
    /// <summary>Ignore the dataset's windows and stretch the frame's range.</summary>
    public bool AutoWindow { get; init; }
}

/// <summary>
/// Stored values → 8-bit grey or RGB for embedding and thumbnails: Modality LUT (PS3.3 C.11.1: Modality LUT Sequence or
/// Rescale Slope/Intercept), VOI LUT (C.11.2: VOI LUT Sequence, or Window Center/Width with the LINEAR, LINEAR_EXACT
/// and SIGMOID functions of C.11.2.1.2–3), MONOCHROME1 inversion, Palette Color (C.7.6.3.1.5–6) and YBR → RGB (C.7.6.3.1.2).
/// </summary>
public static class ImageRenderer
{
    static readonly DicomTag WindowCenter = new(0x00281050), WindowWidth = new(0x00281051), VoiLutFunction = new(0x00281056);
    static readonly DicomTag RescaleIntercept = new(0x00281052), RescaleSlope = new(0x00281053);
    static readonly DicomTag ModalityLutSequence = new(0x00283000), VoiLutSequence = new(0x00283010), LutData = new(0x00283006);
    static readonly DicomTag SharedFunctionalGroups = new(0x52009229), PerFrameFunctionalGroups = new(0x52009230);
    static readonly DicomTag PixelValueTransformationSequence = new(0x00289145), FrameVoiLutSequence = new(0x00289132);
    static readonly DicomTag[] PaletteDescriptors = [new(0x00281101), new(0x00281102), new(0x00281103)];
    static readonly DicomTag[] PaletteData = [new(0x00281201), new(0x00281202), new(0x00281203)];
    static readonly DicomTag[] SegmentedPaletteData = [new(0x00281221), new(0x00281222), new(0x00281223)];

    /// <summary>Renders one frame of <paramref name="pixels"/> (decoded from <paramref name="dataset"/>).</summary>
    public static DecodedImage Render(DicomDataset dataset, PixelData pixels, int frame = 0, RenderOptions? options = null)
    {
        options ??= new RenderOptions();
        var values = pixels.FrameValues(frame);
        int w = pixels.Columns, h = pixels.Rows, n = w * h;
        var pi = pixels.PhotometricInterpretation.Trim();
        if (pixels.SamplesPerPixel == 3)
        {
            var rgb = new byte[n * 3];
            var shift = Math.Max(0, pixels.BitsStored - 8);
            for (var i = 0; i < n * 3; i++) rgb[i] = (byte)Math.Clamp(values[i] >> shift, 0, 255);
            if (pi.StartsWith("YBR", StringComparison.Ordinal)) YbrFullToRgb(rgb);
            return DecodedImage.Rgb(w, h, rgb);
        }
        if (pixels.SamplesPerPixel != 1) throw new PixelDecodeException($"cannot render {pixels.SamplesPerPixel} samples per pixel");
        if (pi == "PALETTE COLOR") return DecodedImage.Rgb(w, h, ApplyPalette(dataset, values));

        var frameGroup = FrameGroup(dataset, frame);
        var modality = ModalityLut(dataset, frameGroup, pixels.IsSigned);
        var mapped = new double[n];
        for (var i = 0; i < n; i++) mapped[i] = modality(values[i]);

        var grey = new byte[n];
        ApplyVoi(dataset, frameGroup, mapped, grey, options);
        if (pi == "MONOCHROME1") for (var i = 0; i < n; i++) grey[i] = (byte)(255 - grey[i]); // C.7.6.3.1.2: minimum is white
        return DecodedImage.Grey(w, h, grey);
    }

    /// <summary>The functional group items that apply to a frame of an enhanced multi-frame image (PS3.3 C.7.6.16): per-frame first, then shared.</summary>
    static DicomDataset?[] FrameGroup(DicomDataset ds, int frame)
    {
        var perFrame = ds.Find(PerFrameFunctionalGroups)?.Items;
        var shared = ds.Find(SharedFunctionalGroups)?.Items;
        return [perFrame != null && frame < perFrame.Count ? perFrame[frame] : null, shared is { Count: > 0 } ? shared[0] : null];
    }

    static DicomElement? FindIn(DicomDataset ds, DicomDataset?[] groups, DicomTag macro, DicomTag tag)
    {
        foreach (var g in groups)
            if (g?.Find(macro)?.Items is { Count: > 0 } items && items[0].Find(tag) is { } e) return e;
        return ds.Find(tag);
    }

    static Func<int, double> ModalityLut(DicomDataset ds, DicomDataset?[] groups, bool signed)
    {
        if (ds.Find(ModalityLutSequence)?.Items is { Count: > 0 } seq && Lut.Read(seq[0], signed) is { } lut)
            return v => lut.Map(v);
        var slope = FindIn(ds, groups, PixelValueTransformationSequence, RescaleSlope)?.GetDoubles() is [var s, ..] && !double.IsNaN(s) && s != 0 ? s : 1.0;
        var intercept = FindIn(ds, groups, PixelValueTransformationSequence, RescaleIntercept)?.GetDoubles() is [var b, ..] && !double.IsNaN(b) ? b : 0.0;
        return v => v * slope + intercept;
    }

    static void ApplyVoi(DicomDataset ds, DicomDataset?[] groups, double[] x, byte[] y, RenderOptions o)
    {
        double? c = o.WindowCenter, w = o.WindowWidth;
        var function = "LINEAR";
        if ((c == null || w == null) && o.Preset != null)
        {
            var p = WindowPresets.Get(o.Preset, ds.GetString(DicomTag.Modality));
            c = p.Center; w = p.Width;
        }
        if ((c == null || w == null) && !o.AutoWindow)
        {
            if (ds.Find(VoiLutSequence)?.Items is { Count: > 0 } seq && Lut.Read(seq[Math.Min(o.VoiIndex, seq.Count - 1)], false) is { } lut)
            {
                var max = (1 << lut.Bits) - 1;
                for (var i = 0; i < x.Length; i++) y[i] = (byte)Math.Clamp(Math.Round(lut.Map((int)Math.Round(x[i])) * 255.0 / max), 0, 255);
                return;
            }
            var centers = FindIn(ds, groups, FrameVoiLutSequence, WindowCenter)?.GetDoubles() ?? [];
            var widths = FindIn(ds, groups, FrameVoiLutSequence, WindowWidth)?.GetDoubles() ?? [];
            if (centers.Length > 0 && widths.Length > 0)
            {
                var k = Math.Min(o.VoiIndex, Math.Min(centers.Length, widths.Length) - 1);
                if (!double.IsNaN(centers[k]) && !double.IsNaN(widths[k]) && widths[k] > 0) { c = centers[k]; w = widths[k]; }
                function = FindIn(ds, groups, FrameVoiLutSequence, VoiLutFunction)?.GetString()?.Trim().ToUpperInvariant() ?? "LINEAR";
            }
        }
        if (c == null || w == null)
        {
            double lo = double.MaxValue, hi = double.MinValue;
            foreach (var v in x) { if (v < lo) lo = v; if (v > hi) hi = v; }
            if (hi <= lo) { Array.Fill(y, (byte)(hi > 0 ? 255 : 0)); return; }
            c = (lo + hi) / 2; w = hi - lo; function = "LINEAR_EXACT";
        }
        Window(x, y, c.Value, w.Value, function);
    }

    /// <summary>Window Center/Width to 0–255 by the VOI LUT Function (PS3.3 C.11.2.1.2.1 LINEAR, C.11.2.1.3.2 LINEAR_EXACT, C.11.2.1.3.1 SIGMOID).</summary>
    public static void Window(ReadOnlySpan<double> x, Span<byte> y, double center, double width, string function = "LINEAR")
    {
        const double yMin = 0, yMax = 255;
        switch (function)
        {
            case "SIGMOID":
                for (var i = 0; i < x.Length; i++) y[i] = (byte)Math.Round((yMax - yMin) / (1 + Math.Exp(-4 * (x[i] - center) / width)) + yMin);
                break;
            case "LINEAR_EXACT":
                for (var i = 0; i < x.Length; i++)
                {
                    var v = x[i];
                    y[i] = v <= center - width / 2 ? (byte)yMin : v > center + width / 2 ? (byte)yMax
                        : (byte)Math.Round(((v - center) / width + 0.5) * (yMax - yMin) + yMin);
                }
                break;
            default:
                width = Math.Max(width, 1); // LINEAR requires width ≥ 1
                var lo = center - 0.5 - (width - 1) / 2; var hi = center - 0.5 + (width - 1) / 2;
                for (var i = 0; i < x.Length; i++)
                {
                    var v = x[i];
                    y[i] = v <= lo ? (byte)yMin : v > hi ? (byte)yMax
                        : (byte)Math.Clamp(Math.Round(((v - (center - 0.5)) / (width - 1 == 0 ? 1 : width - 1) + 0.5) * (yMax - yMin) + yMin), yMin, yMax);
                }
                break;
        }
    }

    /// <summary>YBR_FULL (8-bit) → RGB in place (PS3.3 C.7.6.3.1.2).</summary>
    public static void YbrFullToRgb(Span<byte> p)
    {
        for (var i = 0; i + 2 < p.Length; i += 3)
        {
            double y = p[i], cb = p[i + 1] - 128.0, cr = p[i + 2] - 128.0;
            p[i] = (byte)Math.Clamp(Math.Round(y + 1.402 * cr), 0, 255);
            p[i + 1] = (byte)Math.Clamp(Math.Round(y - 0.344136 * cb - 0.714136 * cr), 0, 255);
            p[i + 2] = (byte)Math.Clamp(Math.Round(y + 1.772 * cb), 0, 255);
        }
    }

    static byte[] ApplyPalette(DicomDataset ds, int[] values)
    {
        var luts = new Lut[3];
        for (var c = 0; c < 3; c++)
        {
            var desc = ds.Find(PaletteDescriptors[c]) ?? throw new PixelDecodeException($"PALETTE COLOR image without {PaletteDescriptors[c]} Palette Color LUT Descriptor");
            var data = ds.Find(PaletteData[c]);
            if (data == null)
                throw new PixelDecodeException(ds.Find(SegmentedPaletteData[c]) != null
                    ? "segmented palette colour LUTs (0028,1221–1223) are not supported"
                    : $"PALETTE COLOR image without {PaletteData[c]} Palette Color LUT Data");
            luts[c] = Lut.From(desc, data, false) ?? throw new PixelDecodeException($"palette LUT {PaletteDescriptors[c]} is malformed");
        }
        var rgb = new byte[values.Length * 3];
        for (var i = 0; i < values.Length; i++)
            for (var c = 0; c < 3; c++)
            {
                var v = luts[c].Map(values[i]);
                rgb[3 * i + c] = (byte)(luts[c].Bits > 8 ? v >> (luts[c].Bits - 8) : v);
            }
        return rgb;
    }

    /// <summary>Encodes a rendered image as PNG (SkiaSharp).</summary>
    public static byte[] ToPng(this DecodedImage image)
    {
        var grey = image.IsGrey;
        var info = new SKImageInfo(image.Width, image.Height, grey ? SKColorType.Gray8 : SKColorType.Rgba8888, SKAlphaType.Opaque);
        using var bitmap = new SKBitmap(info);
        var dst = bitmap.GetPixelSpan();
        if (grey) for (var y = 0; y < image.Height; y++) image.Pixels.AsSpan(y * image.Width, image.Width).CopyTo(dst.Slice(y * bitmap.RowBytes));
        else
            for (var y = 0; y < image.Height; y++)
                for (var x = 0; x < image.Width; x++)
                {
                    var s = (y * image.Width + x) * 3; var d = y * bitmap.RowBytes + 4 * x;
                    dst[d] = image.Pixels[s]; dst[d + 1] = image.Pixels[s + 1]; dst[d + 2] = image.Pixels[s + 2]; dst[d + 3] = 255;
                }
        using var img = SKImage.FromBitmap(bitmap);
        using var data = img.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    /// <summary>A thumbnail no larger than <paramref name="maxSide"/> on its longer side (aspect kept, area-averaged).</summary>
    public static DecodedImage Thumbnail(this DecodedImage image, int maxSide)
    {
        var scale = Math.Min(1.0, (double)maxSide / Math.Max(image.Width, image.Height));
        int tw = Math.Max(1, (int)Math.Round(image.Width * scale)), th = Math.Max(1, (int)Math.Round(image.Height * scale));
        if (tw == image.Width && th == image.Height) return image;
        var ch = image.Channels;
        var output = new byte[tw * th * ch];
        for (var ty = 0; ty < th; ty++)
        {
            int y0 = ty * image.Height / th, y1 = Math.Max(y0 + 1, (ty + 1) * image.Height / th);
            for (var tx = 0; tx < tw; tx++)
            {
                int x0 = tx * image.Width / tw, x1 = Math.Max(x0 + 1, (tx + 1) * image.Width / tw);
                for (var c = 0; c < ch; c++)
                {
                    long sum = 0;
                    for (var y = y0; y < y1; y++) for (var x = x0; x < x1; x++) sum += image.Pixels[(y * image.Width + x) * ch + c];
                    output[(ty * tw + tx) * ch + c] = (byte)(sum / ((y1 - y0) * (x1 - x0)));
                }
            }
        }
        return new DecodedImage(tw, th, ch, output);
    }

    /// <summary>A LUT (PS3.3 C.11.1.1): descriptor [entries (0 = 65536), first mapped value, bits per entry] and data.</summary>
    sealed class Lut
    {
        public int First, Bits;
        public int[] Entries = [];

        public int Map(int v) => Entries[Math.Clamp(v - First, 0, Entries.Length - 1)];

        public static Lut? Read(DicomDataset item, bool signedFirst)
        {
            var desc = item.Find(DicomTag.LUTDescriptor);
            var data = item.Find(LutData);
            return desc == null || data == null ? null : From(desc, data, signedFirst);
        }

        public static Lut? From(DicomElement descriptor, DicomElement data, bool signedFirst)
        {
            var raw = descriptor.RawValue.Span;
            if (raw.Length < 6) return null;
            var be = descriptor.BigEndian;
            int U16(ReadOnlySpan<byte> b) => be ? BinaryPrimitives.ReadUInt16BigEndian(b) : BinaryPrimitives.ReadUInt16LittleEndian(b);
            var count = U16(raw); if (count == 0) count = 65536;
            var first = U16(raw[2..]);
            if (signedFirst && first > 32767) first -= 65536; // the second value is SS when pixel values are signed
            var bits = U16(raw[4..]);
            if (bits is < 1 or > 16) return null;
            var bytes = data.RawValue.Span;
            var entries = new int[count];
            // 8-bit entries may be packed two per 16-bit word (data length == count bytes); else one 16-bit word each.
            var packed8 = bits <= 8 && bytes.Length < 2 * count && bytes.Length >= count;
            if (!packed8 && bytes.Length < 2 * count) return null;
            for (var i = 0; i < count; i++) entries[i] = packed8 ? bytes[i] : U16(bytes[(2 * i)..]);
            return new Lut { First = first, Bits = bits, Entries = entries };
        }
    }
}

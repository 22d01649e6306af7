using Casebook.Extract.Dicom.Pixels;
using Casebook.Extract.Documents;

namespace Casebook.Extract.Dicom.Deid;

/// <summary>
/// Burned-in text detection (PS3.15 E.3.1 Clean Pixel Data needs to know where it is): the key frame is rendered to 8-bit grey
/// and read by Tesseract (sparse text, --psm 11); words in the border band of the image (where modalities print names, ids,
/// dates and institution) are findings. Only modalities that burn text in are checked, and only a budget of instances per series.
/// </summary>
public sealed record BurnedInTextOptions
{
    /// <summary>Modalities whose images commonly carry burned-in text (ultrasound, secondary capture, angiography, radiography, other).</summary>
    public IReadOnlySet<string> Modalities { get; init; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "US", "IVUS", "SC", "XA", "RF", "CR", "DX", "OT", "ES" };
    /// <summary>Black out (stored value 0) the regions of the words found, in every frame. Compressed pixels are decoded to native to do so.</summary>
    public bool Mask { get; init; }
    /// <summary>Instances OCR'd per series; later instances of the series reuse the regions found so far (fixed overlay positions), unchecked.</summary>
    public int InstancesPerSeries { get; init; } = 3;
    /// <summary>Width of the border band, as a fraction of each side: words whose centre lies in it count (the central rest is anatomy).</summary>
    public double BorderFraction { get; init; } = 0.25;
    /// <summary>Tesseract word confidence (0–100) below which a word is ignored (noise in anatomy reads as low-confidence fragments).</summary>
    public double MinConfidence { get; init; } = 50;
    /// <summary>Extra pixels around each word box when masking.</summary>
    public int MaskMargin { get; init; } = 3;
    public DocumentExtractionOptions Ocr { get; init; } = new() { ToolTimeout = TimeSpan.FromSeconds(60) };
}

/// <summary>What OCR of one instance found. Words themselves are never kept (they are the identifiers being looked for).</summary>
public sealed record BurnedInTextFinding(int Words, IReadOnlyList<PixelRegion> Regions, int Frame);

public static class BurnedInTextDetector
{
    /// <summary>Reads frame <paramref name="frame"/> (default: the middle one) of a fully read file; throws <see cref="DocumentExtractionException"/> when Tesseract is missing or fails.</summary>
    public static BurnedInTextFinding Detect(DicomFile file, BurnedInTextOptions options, int? frame = null)
    {
        var frames = (int)(file.Dataset.GetInteger(DicomTag.NumberOfFrames) ?? 1);
        var f = Math.Clamp(frame ?? frames / 2, 0, Math.Max(0, frames - 1));
        var pixels = PixelDecoder.Decode(file, new PixelDecodeOptions { FirstFrame = f, FrameCount = 1 });
        var image = ImageRenderer.Render(file.Dataset, pixels, 0, new RenderOptions());
        var (grey, w, h) = Grey(image);
        // Burned-in annotations are drawn at full intensity (white, sometimes black) over the image. The first read sees only
        // saturated pixels (dark text on white), which hides anatomy and low-contrast backgrounds; when it finds nothing, the
        // whole rendered frame is read too (dark images inverted: Tesseract reads dark text on light best).
        var saturated = new byte[grey.Length];
        var blackInk = Bright(grey);
        for (var i = 0; i < grey.Length; i++) saturated[i] = grey[i] >= 250 || (blackInk && grey[i] <= 4) ? (byte)0 : (byte)255;
        var regions = Read(saturated, w, h, options);
        if (regions.Count == 0)
        {
            long sum = 0;
            foreach (var b in grey) sum += b;
            if (sum / Math.Max(1, grey.Length) < 128) for (var i = 0; i < grey.Length; i++) grey[i] = (byte)(255 - grey[i]);
            regions = Read(grey, w, h, options);
        }
        return new BurnedInTextFinding(regions.Count, regions, f);
    }

    /// <summary>Mostly light images (e.g. MONOCHROME1 rendered, documents) can carry black text: count near-black pixels as ink too.</summary>
    static bool Bright(byte[] grey)
    {
        long sum = 0;
        for (var i = 0; i < grey.Length; i += 7) sum += grey[i];
        return sum / Math.Max(1, (grey.Length + 6) / 7) > 160;
    }

    /// <summary>Tesseract (sparse text, --psm 11) on an 8-bit grey image; words in the border band, as regions in image pixels.</summary>
    static List<PixelRegion> Read(byte[] grey, int w, int h, BurnedInTextOptions options)
    {
        // Tesseract wants glyphs of about 20 px or more: enlarge small images.
        var scale = Math.Max(w, h) < 1200 ? 2 : 1;
        var png = new Casebook.Embed.DecodedImage(w * scale, h * scale, 1, scale == 1 ? grey : Enlarge(grey, w, h, scale)).ToPng();
        var dir = options.Ocr.TempDirectory ?? Path.GetTempPath();
        var path = Path.Combine(dir, $"casebook-burned-{Guid.NewGuid():N}.png");
        try
        {
            File.WriteAllBytes(path, png);
            var result = new TesseractOcr(options.Ocr).Recognize(path, 300, pageSegmentation: 11);
            var regions = new List<PixelRegion>();
            double bandX = w * options.BorderFraction, bandY = h * options.BorderFraction;
            foreach (var word in result.Words)
            {
                if (word.Confidence < options.MinConfidence || word.Text.Count(char.IsLetterOrDigit) < 2) continue;
                double x = word.Left / (double)scale, y = word.Top / (double)scale, ww = word.Width / (double)scale, wh = word.Height / (double)scale;
                double cx = x + ww / 2, cy = y + wh / 2;
                if (cx > bandX && cx < w - bandX && cy > bandY && cy < h - bandY) continue; // the centre of the image: anatomy, not annotation
                var m = options.MaskMargin;
                regions.Add(new PixelRegion((int)Math.Floor(x) - m, (int)Math.Floor(y) - m, (int)Math.Ceiling(ww) + 2 * m, (int)Math.Ceiling(wh) + 2 * m));
            }
            return regions;
        }
        finally { File.Delete(path); }
    }

    static (byte[] Grey, int W, int H) Grey(Casebook.Embed.DecodedImage image)
    {
        if (image.IsGrey) return ((byte[])image.Pixels.Clone(), image.Width, image.Height);
        var n = image.Width * image.Height;
        var grey = new byte[n];
        for (var i = 0; i < n; i++)
            grey[i] = (byte)((image.Pixels[3 * i] * 299 + image.Pixels[3 * i + 1] * 587 + image.Pixels[3 * i + 2] * 114) / 1000);
        return (grey, image.Width, image.Height);
    }

    static byte[] Enlarge(byte[] grey, int w, int h, int scale)
    {
        var big = new byte[w * scale * h * scale];
        for (var y = 0; y < h * scale; y++)
            for (var x = 0; x < w * scale; x++)
                big[y * w * scale + x] = grey[y / scale * w + x / scale];
        return big;
    }
}

using SkiaSharp;
using UglyToad.PdfPig.Content;
using UglyToad.PdfPig.Core;
using UglyToad.PdfPig.Fonts.Standard14Fonts;
using UglyToad.PdfPig.Writer;

namespace Casebook.Extract.Documents;

/// <summary>
/// Makes report pages that look scanned (for tests, benchmarks and the demo corpus): text wrapped and drawn on an
/// A4 page at a given resolution, then tilted, blurred and speckled like a flatbed scan; and text PDFs. Pages are
/// drawn with SkiaSharp and DejaVu Sans (Debian fonts-dejavu-core).
/// </summary>
public static class SyntheticScan
{
    public const double A4WidthPt = 595.28, A4HeightPt = 841.89;
    public const string DefaultFont = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

    /// <summary>How the scan is spoiled: skew (degrees, small), a quarter turn (0/90/180/270), blur sigma (pixels at 300 dpi) and noise (0–1).</summary>
    public sealed record Degradation(double SkewDegrees = 0, int TurnDegrees = 0, double Blur = 0, double Noise = 0, int Seed = 1);

    /// <summary>Lines of at most <paramref name="maxChars"/> characters, broken at spaces; paragraphs ("\n\n") become an empty line.</summary>
    public static List<string> Wrap(string text, int maxChars)
    {
        var lines = new List<string>();
        foreach (var para in text.Replace("\r", "").Split('\n'))
        {
            var words = para.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words.Length == 0) { if (lines.Count > 0 && lines[^1].Length > 0) lines.Add(""); continue; }
            var line = "";
            foreach (var w in words)
            {
                if (line.Length > 0 && line.Length + 1 + w.Length > maxChars) { lines.Add(line); line = ""; }
                line = line.Length == 0 ? w : line + " " + w;
            }
            if (line.Length > 0) lines.Add(line);
        }
        while (lines.Count > 0 && lines[^1].Length == 0) lines.RemoveAt(lines.Count - 1);
        return lines;
    }

    /// <summary>Lines that fit on one A4 page at <paramref name="pointSize"/> with 2 cm margins.</summary>
    public static int LinesPerPage(double pointSize = 11) => (int)((A4HeightPt - 2 * 56.7) / (pointSize * 1.45));

    /// <summary>Renders <paramref name="lines"/> as a grey A4 scan at <paramref name="dpi"/>, PNG-encoded.</summary>
    public static byte[] RenderPng(IReadOnlyList<string> lines, int dpi = 300, Degradation? degradation = null, double pointSize = 11, string? fontPath = null)
    {
        var d = degradation ?? new Degradation();
        double scale = dpi / 72.0;
        int w = (int)Math.Round(A4WidthPt * scale), h = (int)Math.Round(A4HeightPt * scale);
        using var typeface = SKTypeface.FromFile(fontPath ?? DefaultFont)
            ?? throw new FileNotFoundException($"font not found: {fontPath ?? DefaultFont} (install fonts-dejavu-core)");
        using var font = new SKFont(typeface, (float)(pointSize * scale));
        using var ink = new SKPaint { Color = new SKColor(25, 25, 25), IsAntialias = true };
        var info = new SKImageInfo(w, h, SKColorType.Gray8, SKAlphaType.Opaque);
        using var page = SKSurface.Create(info);
        var c = page.Canvas;
        c.Clear(SKColors.White);
        c.Save();
        c.RotateDegrees((float)d.SkewDegrees, w / 2f, h / 2f);
        float x = (float)(56.7 * scale), y = (float)(56.7 * scale + pointSize * scale);
        foreach (var line in lines)
        {
            if (line.Length > 0) c.DrawText(line, x, y, SKTextAlign.Left, font, ink);
            y += (float)(pointSize * 1.45 * scale);
        }
        c.Restore();
        using var image = page.Snapshot();
        using var bitmap = new SKBitmap(info);
        using (var blurCanvas = new SKCanvas(bitmap))
        {
            using var blur = d.Blur > 0 ? new SKPaint { ImageFilter = SKImageFilter.CreateBlur((float)(d.Blur * dpi / 300), (float)(d.Blur * dpi / 300)) } : new SKPaint();
            blurCanvas.Clear(SKColors.White);
            blurCanvas.DrawImage(image, 0, 0, blur);
        }
        if (d.Noise > 0) AddNoise(bitmap, d.Noise, d.Seed);
        using var turned = d.TurnDegrees % 360 == 0 ? bitmap.Copy() : Turn(bitmap, d.TurnDegrees);
        using var data = turned.Encode(SKEncodedImageFormat.Png, 90);
        return data.ToArray();
    }

    // Gaussian grain plus sparse salt-and-pepper specks, as from dust and paper texture.
    static void AddNoise(SKBitmap bitmap, double amount, int seed)
    {
        var rng = new Random(seed);
        var px = bitmap.GetPixelSpan();
        var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(px).ToArray();
        double sigma = 40 * amount;
        for (int i = 0; i < bytes.Length; i++)
        {
            double u1 = 1 - rng.NextDouble(), u2 = rng.NextDouble();
            double g = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2) * sigma;
            int v = bytes[i] + (int)g;
            if (rng.NextDouble() < 0.002 * amount) v = rng.Next(2) == 0 ? 0 : 255;
            bytes[i] = (byte)Math.Clamp(v, 0, 255);
        }
        System.Runtime.InteropServices.Marshal.Copy(bytes, 0, bitmap.GetPixels(), bytes.Length);
    }

    static SKBitmap Turn(SKBitmap src, int degrees)
    {
        degrees = ((degrees % 360) + 360) % 360;
        bool swap = degrees is 90 or 270;
        var dst = new SKBitmap(new SKImageInfo(swap ? src.Height : src.Width, swap ? src.Width : src.Height, SKColorType.Gray8, SKAlphaType.Opaque));
        using var c = new SKCanvas(dst);
        c.Clear(SKColors.White);
        c.Translate(dst.Width / 2f, dst.Height / 2f);
        c.RotateDegrees(degrees);
        c.Translate(-src.Width / 2f, -src.Height / 2f);
        c.DrawBitmap(src, 0, 0);
        return dst;
    }

    /// <summary>A PDF whose pages are the given PNG scans (no text layer), each filling an A4 page.</summary>
    public static byte[] ScannedPdf(IEnumerable<byte[]> pngPages)
    {
        var builder = new PdfDocumentBuilder();
        foreach (var png in pngPages)
        {
            var page = builder.AddPage(PageSize.A4);
            page.AddPng(png, new PdfRectangle(0, 0, A4WidthPt, A4HeightPt));
        }
        return builder.Build();
    }

    /// <summary>A PDF with a real text layer (Helvetica), one list of lines per page.</summary>
    public static byte[] TextPdf(IEnumerable<IReadOnlyList<string>> pages, double pointSize = 11)
    {
        var builder = new PdfDocumentBuilder();
        var font = builder.AddStandard14Font(Standard14Font.Helvetica);
        foreach (var lines in pages)
        {
            var page = builder.AddPage(PageSize.A4);
            double y = A4HeightPt - 56.7 - pointSize;
            foreach (var line in lines)
            {
                if (line.Length > 0) page.AddText(line, pointSize, new PdfPoint(56.7, y), font);
                y -= pointSize * 1.45;
            }
        }
        return builder.Build();
    }

    /// <summary>Writes a multi-page TIFF (8-bit grey, PackBits, resolution tags) of the PNG pages.</summary>
    public static void MultiPageTiff(IReadOnlyList<string> pngPaths, string tiffPath, int dpi = 300) =>
        MultiPageTiff(pngPaths.Select(File.ReadAllBytes), tiffPath, dpi);

    /// <summary>
    /// Writes a multi-page TIFF (TIFF 6.0: 8-bit BlackIsZero grey, PackBits rows, one strip per page, resolution in
    /// dots per inch). Written here rather than with ImageMagick, whose memory policy refuses a few dozen 300 dpi pages.
    /// </summary>
    public static void MultiPageTiff(IEnumerable<byte[]> pngPages, string tiffPath, int dpi = 300)
    {
        using var f = new BinaryWriter(File.Create(tiffPath));
        f.Write("II"u8); f.Write((short)42);
        long nextIfdPointer = f.BaseStream.Position;
        f.Write(0); // offset of the first IFD, patched below
        foreach (var png in pngPages)
        {
            using var decoded = SKBitmap.Decode(png) ?? throw new InvalidDataException("not a decodable PNG page");
            using var grey = decoded.ColorType == SKColorType.Gray8 ? decoded.Copy() : decoded.Copy(SKColorType.Gray8);
            int w = grey.Width, h = grey.Height;
            var pixels = grey.GetPixelSpan().ToArray();
            int stride = grey.RowBytes;
            long stripOffset = f.BaseStream.Position;
            var row = new byte[w];
            for (int y = 0; y < h; y++) { Array.Copy(pixels, y * stride, row, 0, w); PackBits(row, f); }
            long stripBytes = f.BaseStream.Position - stripOffset;
            if ((f.BaseStream.Position & 1) != 0) f.Write((byte)0); // IFDs start on a word boundary
            long resolution = f.BaseStream.Position;
            f.Write(dpi); f.Write(1); // RATIONAL dpi/1
            long ifd = f.BaseStream.Position;
            f.BaseStream.Position = nextIfdPointer; f.Write((int)ifd); f.BaseStream.Position = ifd;
            var entries = new (ushort Tag, ushort Type, int Value)[]
            {
                (256, 4, w), (257, 4, h), (258, 3, 8), (259, 3, 32773), (262, 3, 1), (273, 4, (int)stripOffset), (277, 3, 1),
                (278, 4, h), (279, 4, (int)stripBytes), (282, 5, (int)resolution), (283, 5, (int)resolution), (296, 3, 2),
            };
            f.Write((short)entries.Length);
            foreach (var (tag, type, value) in entries)
            {
                f.Write(tag); f.Write(type); f.Write(1);
                if (type == 3) { f.Write((ushort)value); f.Write((ushort)0); } else f.Write(value);
            }
            nextIfdPointer = f.BaseStream.Position;
            f.Write(0);
        }
    }

    // TIFF 6.0 §9 PackBits: runs of 2–128 equal bytes as (1 - n, byte), literals as (n - 1, bytes…).
    static void PackBits(byte[] row, BinaryWriter f)
    {
        int i = 0;
        while (i < row.Length)
        {
            int run = 1;
            while (i + run < row.Length && run < 128 && row[i + run] == row[i]) run++;
            if (run >= 2) { f.Write((sbyte)(1 - run)); f.Write(row[i]); i += run; continue; }
            int start = i, len = 0;
            while (i < row.Length && len < 128 && !(i + 1 < row.Length && row[i + 1] == row[i])) { i++; len++; }
            if (len == 0) { i++; len = 1; }
            f.Write((sbyte)(len - 1)); f.Write(row, start, len);
        }
    }
}

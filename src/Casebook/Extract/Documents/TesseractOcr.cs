using System.Globalization;
using System.Text;

namespace Casebook.Extract.Documents;

/// <summary>
/// Tesseract 5 through its CLI with TSV output (one process per page: isolated, killable on timeout, and no native
/// state shared with the engine). Also runs orientation detection (<c>--psm 0</c>) and ImageMagick preprocessing.
/// </summary>
public sealed class TesseractOcr(DocumentExtractionOptions options)
{
    /// <summary>Words in pixels of the recognised image, text with lines and blank-line separated paragraphs.</summary>
    public sealed record Result(string Text, IReadOnlyList<OcrWord> Words, double MeanConfidence);
    public readonly record struct OcrWord(string Text, double Confidence, int Left, int Top, int Width, int Height);

    /// <param name="pageSegmentation">Tesseract --psm: 3 (pages, the default) or 11 (sparse text anywhere, e.g. burned into a medical image).</param>
    public Result Recognize(string imagePath, int dpi, CancellationToken ct = default, int pageSegmentation = 3)
    {
        var r = Run("tesseract", [imagePath, "stdout", "-l", options.OcrLanguage, "--psm", pageSegmentation.ToString(CultureInfo.InvariantCulture), "--dpi", dpi.ToString(CultureInfo.InvariantCulture), "tsv"], imagePath, ct);
        if (r.ExitCode != 0)
            throw new DocumentExtractionException(imagePath, DocumentFailure.OcrFailed, $"tesseract exited with {r.ExitCode}: {FirstLine(r.Stderr)}");
        return ParseTsv(r.StdoutText);
    }

    /// <summary>Clockwise degrees to rotate the image by to make it upright, and Tesseract's confidence; null when OSD cannot tell.</summary>
    public (int Rotate, double Confidence)? DetectOrientation(string imagePath, int dpi, CancellationToken ct = default)
    {
        var r = Run("tesseract", [imagePath, "stdout", "--psm", "0", "--dpi", dpi.ToString(CultureInfo.InvariantCulture)], imagePath, ct);
        if (r.ExitCode != 0) return null; // "Too few characters": not enough text to tell, keep as is
        int? rotate = null; double conf = 0;
        foreach (var line in r.StdoutText.Split('\n'))
        {
            var parts = line.Split(':', 2);
            if (parts.Length != 2) continue;
            if (parts[0].Trim() == "Rotate" && int.TryParse(parts[1].Trim(), out var deg)) rotate = deg;
            if (parts[0].Trim() == "Orientation confidence") double.TryParse(parts[1].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out conf);
        }
        return rotate is { } d ? (d, conf) : null;
    }

    /// <summary>Grey, optionally rotated and deskewed copy of frame <paramref name="frame"/> of <paramref name="input"/> as PNG.</summary>
    /// <param name="size">Pixel size of the input; deskewing crops back to it (turned by <paramref name="rotate"/>).</param>
    public void Preprocess(string input, int? frame, int rotate, bool deskew, string output, (long W, long H) size, CancellationToken ct = default)
    {
        var args = new List<string> { frame is { } f ? $"{input}[{f}]" : input,
            "-background", "white", "-alpha", "remove", "-alpha", "off", "-colorspace", "Gray" };
        if (rotate != 0) args.AddRange(["-rotate", rotate.ToString(CultureInfo.InvariantCulture)]);
        // -deskew grows the canvas to hold the rotated image; crop back so page size and word boxes stay those of the page.
        if (deskew)
        {
            var (w, h) = rotate is 90 or 270 ? (size.H, size.W) : size;
            args.AddRange(["-deskew", "40%", "-gravity", "center", "-extent", $"{w}x{h}"]);
        }
        args.AddRange(["+repage", "-depth", "8", "png:" + output]);
        var r = Run("convert", args, input, ct);
        if (r.ExitCode != 0 || !File.Exists(output))
            throw new DocumentExtractionException(input, DocumentFailure.Corrupt, $"image could not be decoded (ImageMagick: {FirstLine(r.Stderr)})");
    }

    ExternalTool.Result Run(string tool, IEnumerable<string> args, string subject, CancellationToken ct)
    {
        try { return ExternalTool.Run(tool, args, options.ToolTimeout, ct); }
        catch (ExternalToolException e) when (e.Missing)
        { throw new DocumentExtractionException(subject, DocumentFailure.ToolMissing, e.Message, e); }
        catch (ExternalToolException e) when (e.TimedOut)
        { throw new DocumentExtractionException(subject, DocumentFailure.Timeout, e.Message, e); }
    }

    internal static string FirstLine(string s)
    {
        var line = s.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault(l => !l.StartsWith("Warning")) ?? "";
        return line.Length > 200 ? line[..200] : line;
    }

    /// <summary>TSV columns: level page block par line word left top width height conf text (level 5 = word).</summary>
    public static Result ParseTsv(string tsv)
    {
        var words = new List<OcrWord>();
        var text = new StringBuilder();
        (int Block, int Par, int Line) last = (-1, -1, -1);
        double confSum = 0;
        foreach (var raw in tsv.Split('\n'))
        {
            var c = raw.TrimEnd('\r').Split('\t');
            if (c.Length < 12 || c[0] != "5") continue;
            var word = c[11].Trim();
            if (word.Length == 0) continue;
            int block = Int(c[2]), par = Int(c[3]), line = Int(c[4]);
            var conf = double.TryParse(c[10], NumberStyles.Float, CultureInfo.InvariantCulture, out var cf) ? Math.Clamp(cf, 0, 100) : 0;
            if (text.Length > 0)
            {
                if (block != last.Block || par != last.Par) text.Append("\n\n");
                else if (line != last.Line) text.Append('\n');
                else text.Append(' ');
            }
            text.Append(word);
            last = (block, par, line);
            words.Add(new OcrWord(word, conf, Int(c[6]), Int(c[7]), Int(c[8]), Int(c[9])));
            confSum += conf;
        }
        return new Result(text.ToString(), words, words.Count == 0 ? 0 : confSum / words.Count);
    }

    static int Int(string s) => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : 0;
}

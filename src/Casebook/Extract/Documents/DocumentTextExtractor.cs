using System.Globalization;
using UglyToad.PdfPig;
using UglyToad.PdfPig.Exceptions;

namespace Casebook.Extract.Documents;

/// <summary>
/// Turns a report PDF or a scanned image (TIFF incl. multi-page, PNG, JPEG) into page-by-page text.
/// <para>PDF pages with a usable text layer are read with PdfPig; pages without one (scans) are rasterised with
/// poppler's <c>pdftoppm</c>, straightened (ImageMagick deskew; Tesseract OSD for 90/180/270° turns) and
/// recognised with Tesseract, keeping each word's confidence and box. Bad input fails with a
/// <see cref="DocumentExtractionException"/> naming the file and the reason; tools run with timeouts.</para>
/// </summary>
public sealed class DocumentTextExtractor
{
    readonly DocumentExtractionOptions _options;
    readonly TesseractOcr _ocr;

    public DocumentTextExtractor(DocumentExtractionOptions? options = null)
    {
        _options = options ?? new DocumentExtractionOptions();
        _ocr = new TesseractOcr(_options);
    }

    public DocumentExtractionOptions Options => _options;

    /// <summary>File extensions this extractor accepts (lower case, with the dot).</summary>
    public static IReadOnlySet<string> SupportedExtensions { get; } =
        new HashSet<string> { ".pdf", ".tif", ".tiff", ".png", ".jpg", ".jpeg" };

    /// <summary>Extracts the text of <paramref name="path"/>; the format is taken from the file's first bytes, not its name.</summary>
    public ExtractedDocument Extract(string path, CancellationToken ct = default)
    {
        if (_options.Extractor is { } remote) return remote(path, ct);
        var info = new FileInfo(path);
        if (!info.Exists) throw new DocumentExtractionException(path, DocumentFailure.NotFound, "no such file");
        if (info.Length == 0) throw new DocumentExtractionException(path, DocumentFailure.Empty, "the file has 0 bytes");
        if (info.Length > _options.MaxFileBytes)
            throw new DocumentExtractionException(path, DocumentFailure.TooLarge, $"{info.Length:N0} bytes exceeds the limit of {_options.MaxFileBytes:N0} (DocumentExtractionOptions.MaxFileBytes)");
        var format = DetectFormat(path);
        var doc = format switch
        {
            "pdf" => ExtractPdf(path, ct),
            "tiff" or "png" or "jpeg" => ExtractImage(path, format, ct),
            _ => throw new DocumentExtractionException(path, DocumentFailure.Unsupported, "not a PDF, TIFF, PNG or JPEG file (checked by content)"),
        };
        if (doc.Pages.All(p => string.IsNullOrWhiteSpace(p.Text)))
            throw new DocumentExtractionException(path, DocumentFailure.Empty, $"no text found on any of {doc.Pages.Count} page(s)");
        return doc;
    }

    /// <summary>"pdf", "tiff", "png", "jpeg" or "unknown", from the magic bytes.</summary>
    public static string DetectFormat(string path)
    {
        Span<byte> head = stackalloc byte[1024];
        int n;
        using (var f = File.OpenRead(path)) n = f.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        var h = head[..n];
        if (h.Length >= 4 && h[0] == 0x89 && h[1] == (byte)'P' && h[2] == (byte)'N' && h[3] == (byte)'G') return "png";
        if (h.Length >= 3 && h[0] == 0xFF && h[1] == 0xD8 && h[2] == 0xFF) return "jpeg";
        if (h.Length >= 4 && ((h[0] == 'I' && h[1] == 'I' && h[2] == 42 && h[3] == 0) || (h[0] == 'M' && h[1] == 'M' && h[2] == 0 && h[3] == 42))) return "tiff";
        // PDF 1.7 §7.5.2: the header may follow some junk within the first 1024 bytes.
        if (h.IndexOf("%PDF-"u8) >= 0) return "pdf";
        return "unknown";
    }

    // ---- PDF ----

    sealed record PdfPageInfo(int Number, double Width, double Height, ExtractedPage? TextPage);

    ExtractedDocument ExtractPdf(string path, CancellationToken ct)
    {
        var infos = new List<PdfPageInfo>();
        try
        {
            var parsing = new ParsingOptions { UseLenientParsing = true, SkipMissingFonts = true };
            if (_options.Password != null) parsing.Password = _options.Password;
            using var pdf = PdfDocument.Open(path, parsing);
            if (pdf.NumberOfPages == 0) throw new DocumentExtractionException(path, DocumentFailure.Empty, "the PDF has no pages");
            if (pdf.NumberOfPages > _options.MaxPages)
                throw new DocumentExtractionException(path, DocumentFailure.TooLarge, $"{pdf.NumberOfPages} pages exceeds the limit of {_options.MaxPages} (DocumentExtractionOptions.MaxPages)");
            for (int i = 1; i <= pdf.NumberOfPages; i++)
            {
                ct.ThrowIfCancellationRequested();
                var page = pdf.GetPage(i);
                var textPage = PdfTextLayer.Read(page, _options.MinTextLayerLetters);
                infos.Add(new PdfPageInfo(i, page.Width, page.Height, textPage));
            }
        }
        catch (DocumentExtractionException) { throw; }
        catch (OperationCanceledException) { throw; }
        catch (PdfDocumentEncryptedException e) { throw new DocumentExtractionException(path, DocumentFailure.Encrypted, e.Message, e); }
        catch (Exception e) when (e.GetType().Name.Contains("Encrypt", StringComparison.OrdinalIgnoreCase) || e.Message.Contains("encrypt", StringComparison.OrdinalIgnoreCase))
        { throw new DocumentExtractionException(path, DocumentFailure.Encrypted, e.Message, e); }
        catch (Exception e) // PdfPig reports damage with many exception types (format, index, cast, key…)
        { throw new DocumentExtractionException(path, DocumentFailure.Corrupt, e.Message, e); }

        foreach (var info in infos.Where(p => p.TextPage == null))
        {
            double px = info.Width * _options.RasterDpi / 72.0 * (info.Height * _options.RasterDpi / 72.0);
            if (px > _options.MaxPixelsPerPage)
                throw new DocumentExtractionException(path, DocumentFailure.TooLarge,
                    $"page {info.Number} ({info.Width:0}×{info.Height:0} pt) would be {px / 1e6:0} M pixels at {_options.RasterDpi} dpi, over the limit of {_options.MaxPixelsPerPage / 1e6:0} M (DocumentExtractionOptions.MaxPixelsPerPage)");
        }
        var pages = new ExtractedPage[infos.Count];
        var scans = new List<PdfPageInfo>();
        foreach (var info in infos)
            if (info.TextPage != null) pages[info.Number - 1] = info.TextPage; else scans.Add(info);
        using var scratch = new Scratch(_options.TempDirectory);
        ForEachPage(scans, ct, info =>
        {
            var raster = Path.Combine(scratch.Path, $"p{info.Number}");
            var r = RunTool("pdftoppm", ["-r", _options.RasterDpi.ToString(CultureInfo.InvariantCulture), "-gray", "-png", "-singlefile",
                "-f", info.Number.ToString(CultureInfo.InvariantCulture), "-l", info.Number.ToString(CultureInfo.InvariantCulture), path, raster], path, ct);
            if (r.ExitCode != 0 || !File.Exists(raster + ".png"))
                throw new DocumentExtractionException(path, DocumentFailure.Corrupt, $"page {info.Number} could not be rendered (pdftoppm: {TesseractOcr.FirstLine(r.Stderr)})");
            pages[info.Number - 1] = OcrPage(raster + ".png", null, info.Number, _options.RasterDpi, PngSize(raster + ".png"), scratch.Path, ct);
        });
        return new ExtractedDocument(path, "pdf", pages);
    }

    // ---- images ----

    ExtractedDocument ExtractImage(string path, string format, CancellationToken ct)
    {
        var r = RunTool("identify", ["-ping", "-format", "%w %h %x %y %U\\n", path], path, ct);
        var frames = r.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (r.ExitCode != 0 || frames.Length == 0)
            throw new DocumentExtractionException(path, DocumentFailure.Corrupt, $"image could not be read (ImageMagick: {TesseractOcr.FirstLine(r.Stderr)})");
        if (frames.Length > _options.MaxPages)
            throw new DocumentExtractionException(path, DocumentFailure.TooLarge, $"{frames.Length} frames exceeds the limit of {_options.MaxPages} (DocumentExtractionOptions.MaxPages)");
        var dpis = new int[frames.Length];
        var sizes = new (long W, long H)[frames.Length];
        for (int i = 0; i < frames.Length; i++)
        {
            var f = frames[i].Split(' ');
            long w = long.Parse(f[0], CultureInfo.InvariantCulture), h = long.Parse(f[1], CultureInfo.InvariantCulture);
            if (w * h > _options.MaxPixelsPerPage)
                throw new DocumentExtractionException(path, DocumentFailure.TooLarge, $"frame {i + 1} is {w}×{h} = {w * h / 1e6:0} M pixels, over the limit of {_options.MaxPixelsPerPage / 1e6:0} M (DocumentExtractionOptions.MaxPixelsPerPage)");
            sizes[i] = (w, h);
            dpis[i] = ParseDpi(f.Length > 2 ? f[2] : "", f.Length > 4 ? f[4] : "");
        }
        var pages = new ExtractedPage[frames.Length];
        using var scratch = new Scratch(_options.TempDirectory);
        ForEachPage(Enumerable.Range(0, frames.Length).ToList(), ct, i =>
            pages[i] = OcrPage(path, frames.Length > 1 || format == "tiff" ? i : null, i + 1, dpis[i], sizes[i], scratch.Path, ct));
        return new ExtractedDocument(path, format, pages);
    }

    int ParseDpi(string x, string units)
    {
        if (!double.TryParse(x, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) || d <= 0) return _options.DefaultImageDpi;
        if (units.Contains("Centimeter", StringComparison.OrdinalIgnoreCase)) d *= 2.54;
        else if (!units.Contains("Inch", StringComparison.OrdinalIgnoreCase)) return _options.DefaultImageDpi; // undefined units: 72 is a default, not a measurement
        return d is >= 50 and <= 2400 ? (int)Math.Round(d) : _options.DefaultImageDpi;
    }

    // ---- OCR of one raster page ----

    ExtractedPage OcrPage(string image, int? frame, int pageNumber, int dpi, (long W, long H) size, string scratch, CancellationToken ct)
    {
        // pdftoppm already wrote a grey PNG: read it as is. Image files go through ImageMagick once (frame, grey, alpha).
        var upright = image;
        if (frame != null || !image.StartsWith(scratch, StringComparison.Ordinal))
        {
            upright = Path.Combine(scratch, $"ocr{pageNumber}.png");
            _ocr.Preprocess(image, frame, 0, deskew: false, upright, size, ct);
        }
        var result = _ocr.Recognize(upright, dpi, ct);
        var (w0, h0) = PngSize(upright);
        int rotation = 0;
        bool Weak(TesseractOcr.Result r) => r.MeanConfidence < _options.RotationCheckBelowConfidence || r.Words.Count < 5;
        // Tesseract reads a sideways page with fair confidence but boxes in the wrong frame; a weak first pass or a
        // landscape page is worth the orientation check (one more Tesseract call).
        if (_options.DetectRotation && (Weak(result) || w0 > h0)
            && _ocr.DetectOrientation(upright, dpi, ct) is { } osd && osd.Rotate % 360 != 0 && osd.Confidence >= 1.0)
        {
            var turned = Path.Combine(scratch, $"ocr{pageNumber}r.png");
            _ocr.Preprocess(upright, null, osd.Rotate, _options.Deskew, turned, (w0, h0), ct);
            var second = _ocr.Recognize(turned, dpi, ct);
            if (Score(second) >= 0.9 * Score(result)) { result = second; rotation = osd.Rotate; upright = turned; }
        }
        // Tesseract's own layout analysis copes with a few degrees of skew, and ImageMagick's deskew costs about four
        // times the recognition itself (2.2 s vs 0.5 s CPU per 300 dpi page), so only a weak page is straightened.
        else if (_options.Deskew && Weak(result))
        {
            var straight = Path.Combine(scratch, $"ocr{pageNumber}d.png");
            _ocr.Preprocess(upright, null, 0, deskew: true, straight, (w0, h0), ct);
            var second = _ocr.Recognize(straight, dpi, ct);
            if (Score(second) > Score(result)) { result = second; upright = straight; }
        }
        var (wPx, hPx) = PngSize(upright);
        double scale = 72.0 / dpi;
        var words = result.Words.Select(w => new ExtractedWord(w.Text, w.Confidence,
            new PageBox(w.Left * scale, w.Top * scale, (w.Left + w.Width) * scale, (w.Top + w.Height) * scale))).ToList();
        return new ExtractedPage
        {
            PageNumber = pageNumber, Text = result.Text, Source = PageSource.Ocr, MeanConfidence = result.MeanConfidence,
            Words = words, Width = wPx * scale, Height = hPx * scale, RotationApplied = rotation, Dpi = dpi,
        };
    }

    // Recognised words weighted by confidence: more confident text wins, an empty page loses.
    static double Score(TesseractOcr.Result r) => r.Words.Sum(w => w.Confidence * Math.Min(w.Text.Length, 12));

    static (long W, long H) PngSize(string png)
    {
        Span<byte> b = stackalloc byte[24];
        using var f = File.OpenRead(png);
        f.ReadExactly(b);
        return ((b[16] << 24) | (b[17] << 16) | (b[18] << 8) | b[19], (b[20] << 24) | (b[21] << 16) | (b[22] << 8) | b[23]);
    }

    void ForEachPage<T>(IReadOnlyList<T> items, CancellationToken ct, Action<T> body)
    {
        if (items.Count == 0) return;
        try
        {
            Parallel.ForEach(items, new ParallelOptions { MaxDegreeOfParallelism = _options.MaxParallelPages, CancellationToken = ct }, body);
        }
        catch (AggregateException e)
        {
            var first = e.Flatten().InnerExceptions.FirstOrDefault(x => x is DocumentExtractionException) ?? e.InnerExceptions[0];
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(first).Throw();
        }
    }

    ExternalTool.Result RunTool(string tool, IEnumerable<string> args, string file, CancellationToken ct)
    {
        try { return ExternalTool.Run(tool, args, _options.ToolTimeout, ct); }
        catch (ExternalToolException e) when (e.Missing) { throw new DocumentExtractionException(file, DocumentFailure.ToolMissing, e.Message, e); }
        catch (ExternalToolException e) when (e.TimedOut) { throw new DocumentExtractionException(file, DocumentFailure.Timeout, e.Message, e); }
    }

    sealed class Scratch : IDisposable
    {
        public string Path { get; }
        public Scratch(string? root)
        {
            Path = System.IO.Path.Combine(root ?? System.IO.Path.GetTempPath(), "casebook-ocr-" + Guid.NewGuid().ToString("N")[..12]);
            Directory.CreateDirectory(Path);
        }
        public void Dispose() { try { Directory.Delete(Path, recursive: true); } catch (IOException) { } }
    }
}

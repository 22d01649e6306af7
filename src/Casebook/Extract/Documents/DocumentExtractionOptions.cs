namespace Casebook.Extract.Documents;

/// <summary>Limits and OCR settings. Defaults allow a 300 dpi A4 scan with a wide margin.</summary>
public sealed class DocumentExtractionOptions
{
    /// <summary>Largest input file accepted (default 1 GiB).</summary>
    public long MaxFileBytes { get; set; } = 1L << 30;
    /// <summary>Most pages (or TIFF frames) per document (default 2,000).</summary>
    public int MaxPages { get; set; } = 2000;
    /// <summary>Most pixels of one rasterised page (default 300 M: 300 MB of 8-bit grey; a 300 dpi A4 page is 8.7 M).</summary>
    public long MaxPixelsPerPage { get; set; } = 300_000_000;
    /// <summary>Resolution at which PDF pages without a usable text layer are rasterised.</summary>
    public int RasterDpi { get; set; } = 300;
    /// <summary>Assumed resolution of images that carry none (or an implausible one).</summary>
    public int DefaultImageDpi { get; set; } = 300;
    /// <summary>Tesseract language(s), e.g. "eng" or "eng+deu".</summary>
    public string OcrLanguage { get; set; } = "eng";
    /// <summary>Straighten a page that reads poorly (ImageMagick -deskew) and read it again; Tesseract handles small skew itself.</summary>
    public bool Deskew { get; set; } = true;
    /// <summary>Detect pages turned by 90/180/270° (Tesseract OSD) when the first OCR pass is poor.</summary>
    public bool DetectRotation { get; set; } = true;
    /// <summary>Below this mean word confidence (0–100) the first OCR pass triggers orientation detection.</summary>
    public double RotationCheckBelowConfidence { get; set; } = 80;
    /// <summary>A text-layer page with fewer letters than this, and with images, is treated as a scan.</summary>
    public int MinTextLayerLetters { get; set; } = 20;
    /// <summary>Timeout of each external tool call (rasterise, preprocess, OCR one page).</summary>
    public TimeSpan ToolTimeout { get; set; } = TimeSpan.FromMinutes(3);
    /// <summary>Pages OCR'd in parallel (each Tesseract call single-threaded).</summary>
    public int MaxParallelPages { get; set; } = Math.Max(1, Environment.ProcessorCount);
    /// <summary>Optional PDF password.</summary>
    public string? Password { get; set; }
    /// <summary>Scratch folder; default the system temp folder.</summary>
    public string? TempDirectory { get; set; }
    /// <summary>Extracts instead of this process (a cluster sends scanned reports to its workers); null = local.</summary>
    [System.Text.Json.Serialization.JsonIgnore] public Func<string, CancellationToken, ExtractedDocument>? Extractor { get; set; }
}

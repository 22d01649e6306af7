namespace Casebook.Extract.Documents;

/// <summary>Where a page's text came from.</summary>
public static class PageSource
{
    /// <summary>The PDF's own text layer (exact characters, no recognition).</summary>
    public const string TextLayer = "text-layer";
    /// <summary>Rasterised and recognised by Tesseract.</summary>
    public const string Ocr = "ocr";
}

/// <summary>A box on the page in PDF points (1/72 inch), origin at the top-left corner of the page as displayed.</summary>
public readonly record struct PageBox(double Left, double Top, double Right, double Bottom)
{
    public double Width => Right - Left;
    public double Height => Bottom - Top;
}

/// <summary>One word with its position; <see cref="Confidence"/> is 0–100 (100 for text-layer words).</summary>
public sealed record ExtractedWord(string Text, double Confidence, PageBox BBox);

/// <summary>One page of a document: its text, how it was obtained and its words.</summary>
public sealed class ExtractedPage
{
    /// <summary>1-based page (or TIFF frame) number.</summary>
    public required int PageNumber { get; init; }
    /// <summary>Lines separated by '\n', blocks (OCR paragraphs, or text-layer gaps) by a blank line.</summary>
    public required string Text { get; init; }
    /// <summary><see cref="PageSource.TextLayer"/> or <see cref="PageSource.Ocr"/>.</summary>
    public required string Source { get; init; }
    /// <summary>Mean word confidence 0–100 (100 for the text layer; 0 when the page has no words).</summary>
    public double MeanConfidence { get; init; }
    public IReadOnlyList<ExtractedWord> Words { get; init; } = [];
    /// <summary>Page size in points.</summary>
    public double Width { get; init; }
    public double Height { get; init; }
    /// <summary>Clockwise rotation (0, 90, 180, 270) applied before OCR to make the text upright.</summary>
    public int RotationApplied { get; init; }
    /// <summary>Raster resolution used for OCR, 0 for text-layer pages.</summary>
    public int Dpi { get; init; }
}

/// <summary>
/// The text of a PDF or image file, page by page. <see cref="FullText"/> is the pages joined by a blank line,
/// and <see cref="PageOffsets"/>[i] is where page i starts in it, so a segment's character offsets map to a page.
/// </summary>
public sealed class ExtractedDocument
{
    public const string PageSeparator = "\n\n";

    public string File { get; }
    /// <summary>"pdf", "tiff", "png", "jpeg".</summary>
    public string Format { get; }
    public IReadOnlyList<ExtractedPage> Pages { get; }
    public string FullText { get; }
    public IReadOnlyList<int> PageOffsets { get; }

    public ExtractedDocument(string file, string format, IReadOnlyList<ExtractedPage> pages)
    {
        File = file;
        Format = format;
        Pages = pages;
        var offsets = new int[pages.Count];
        var sb = new System.Text.StringBuilder();
        for (int i = 0; i < pages.Count; i++)
        {
            if (i > 0) sb.Append(PageSeparator);
            offsets[i] = sb.Length;
            sb.Append(pages[i].Text);
        }
        FullText = sb.ToString();
        PageOffsets = offsets;
    }

    /// <summary>Mean word confidence over all pages, weighted by words (100 when every page is text layer).</summary>
    public double MeanConfidence
    {
        get
        {
            long n = 0; double sum = 0;
            foreach (var p in Pages) { n += p.Words.Count; sum += p.MeanConfidence * p.Words.Count; }
            return n == 0 ? 0 : sum / n;
        }
    }

    /// <summary>1-based number of the page that holds character <paramref name="charOffset"/> of <see cref="FullText"/>.</summary>
    public int PageAt(int charOffset)
    {
        if (Pages.Count == 0) throw new InvalidOperationException("document has no pages");
        int lo = 0, hi = PageOffsets.Count - 1;
        while (lo < hi)
        {
            int mid = (lo + hi + 1) / 2;
            if (PageOffsets[mid] <= charOffset) lo = mid; else hi = mid - 1;
        }
        return Pages[lo].PageNumber;
    }
}

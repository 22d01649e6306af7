using Casebook.Extract.Documents;

namespace Casebook.Tests.Extract.Documents;

/// <summary>
/// Builds the test documents once per run (text PDF, scanned PDF, multi-page TIFF, rotated PNG, mixed PDF) and
/// extracts each once, lazily: OCR is the slow part, so every test shares the same results.
/// </summary>
public sealed class ScanFixture : IDisposable
{
    public TempDirectory Dir { get; } = new();
    public DocumentTextExtractor Extractor { get; } = new();

    public static readonly string[] ReportA =
    [
        "INDICATION: Cough and fever for three days.",
        "",
        "FINDINGS: The cardiac silhouette is within normal limits. There is a",
        "focal consolidation in the right lower lobe. No pleural effusion.",
        "",
        "IMPRESSION: Right lower lobe pneumonia.",
    ];
    public static readonly string[] ReportB =
    [
        "COMPARISON: Chest radiograph from last year.",
        "",
        "FINDINGS: Stable calcified granuloma in the left upper lobe.",
        "The lungs are otherwise clear. No pneumothorax.",
        "",
        "IMPRESSION: No acute cardiopulmonary abnormality.",
    ];

    readonly Lazy<ExtractedDocument> _textPdf, _scannedPdf, _tiff, _rotated, _mixed;

    public ScanFixture()
    {
        File.WriteAllBytes(Dir["text.pdf"], SyntheticScan.TextPdf([ReportA, ReportB]));
        var skewed = SyntheticScan.RenderPng(ReportA, 300, new SyntheticScan.Degradation(SkewDegrees: 2.0, Blur: 0.6, Noise: 0.4));
        File.WriteAllBytes(Dir["scan.pdf"], SyntheticScan.ScannedPdf([skewed]));
        File.WriteAllBytes(Dir["a.png"], SyntheticScan.RenderPng(ReportA, 200));
        File.WriteAllBytes(Dir["b.png"], SyntheticScan.RenderPng(ReportB, 200, new SyntheticScan.Degradation(SkewDegrees: -1.5)));
        SyntheticScan.MultiPageTiff([Dir["a.png"], Dir["b.png"]], Dir["two.tif"], dpi: 200);
        File.WriteAllBytes(Dir["turned.png"], SyntheticScan.RenderPng(ReportB, 300, new SyntheticScan.Degradation(TurnDegrees: 90)));
        File.WriteAllBytes(Dir["mixed.pdf"], MixedPdf());
        _textPdf = new(() => Extractor.Extract(Dir["text.pdf"]));
        _scannedPdf = new(() => Extractor.Extract(Dir["scan.pdf"]));
        _tiff = new(() => Extractor.Extract(Dir["two.tif"]));
        _rotated = new(() => Extractor.Extract(Dir["turned.png"]));
        _mixed = new(() => Extractor.Extract(Dir["mixed.pdf"]));
    }

    // Page 1 typed (text layer), page 2 a scan: the extractor must choose per page.
    static byte[] MixedPdf()
    {
        var builder = new UglyToad.PdfPig.Writer.PdfDocumentBuilder();
        var font = builder.AddStandard14Font(UglyToad.PdfPig.Fonts.Standard14Fonts.Standard14Font.Helvetica);
        var p1 = builder.AddPage(UglyToad.PdfPig.Content.PageSize.A4);
        double y = 770;
        foreach (var line in ReportA) { if (line.Length > 0) p1.AddText(line, 11, new UglyToad.PdfPig.Core.PdfPoint(56, y), font); y -= 16; }
        var p2 = builder.AddPage(UglyToad.PdfPig.Content.PageSize.A4);
        p2.AddPng(SyntheticScan.RenderPng(ReportB, 300), new UglyToad.PdfPig.Core.PdfRectangle(0, 0, SyntheticScan.A4WidthPt, SyntheticScan.A4HeightPt));
        return builder.Build();
    }

    public ExtractedDocument TextPdf => _textPdf.Value;
    public ExtractedDocument ScannedPdf => _scannedPdf.Value;
    public ExtractedDocument Tiff => _tiff.Value;
    public ExtractedDocument Rotated => _rotated.Value;
    public ExtractedDocument Mixed => _mixed.Value;

    public void Dispose() => Dir.Dispose();
}

[CollectionDefinition("scans")]
public sealed class ScanCollection : ICollectionFixture<ScanFixture>;

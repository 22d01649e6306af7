using Casebook.Eval;
using Casebook.Extract.Documents;
using Casebook.Segment;

namespace Casebook.Tests.Extract.Documents;

[Collection("scans")]
public sealed class DocumentTextExtractorTests(ScanFixture scans)
{
    static string Joined(string[] lines) => string.Join("\n", lines);

    [Fact]
    public void Text_pdf_is_read_from_its_text_layer_page_by_page()
    {
        var doc = scans.TextPdf;
        Assert.Equal("pdf", doc.Format);
        Assert.Equal(2, doc.Pages.Count);
        Assert.All(doc.Pages, p => Assert.Equal(PageSource.TextLayer, p.Source));
        Assert.Contains("Right lower lobe pneumonia.", doc.Pages[0].Text);
        Assert.Contains("Stable calcified granuloma", doc.Pages[1].Text);
        Assert.DoesNotContain("granuloma", doc.Pages[0].Text);
        // Lines keep their order and the blank lines between blocks survive, so the segmenter sees sections.
        Assert.True(RecognitionMetrics.CharacterErrorRate(Joined(ScanFixture.ReportA), doc.Pages[0].Text) < 0.01, doc.Pages[0].Text);
        Assert.Contains("\n\n", doc.Pages[0].Text);
        var word = doc.Pages[0].Words.First(w => w.Text == "INDICATION:");
        Assert.InRange(word.BBox.Left, 50, 62);
        Assert.InRange(word.BBox.Top, 50, 80); // top-left origin, first line near the top margin
        Assert.Equal(100, word.Confidence);
    }

    [Fact]
    public void Page_offsets_map_segments_to_their_page()
    {
        var doc = scans.TextPdf;
        Assert.Equal(0, doc.PageOffsets[0]);
        Assert.StartsWith(doc.Pages[1].Text, doc.FullText[doc.PageOffsets[1]..]);
        var paragraphs = ReportSegmenter.Segment(doc.FullText);
        var granuloma = paragraphs.Single(p => p.Text.Contains("granuloma"));
        Assert.Equal("FINDINGS", granuloma.Section);
        Assert.Equal(2, doc.PageAt(granuloma.CharStart));
        var pneumonia = paragraphs.Single(p => p.Text.Contains("pneumonia"));
        Assert.Equal("IMPRESSION", pneumonia.Section);
        Assert.Equal(1, doc.PageAt(pneumonia.CharStart));
        Assert.Equal(pneumonia.Text, doc.FullText[pneumonia.CharStart..pneumonia.CharEnd]);
    }

    [Fact]
    public void Skewed_noisy_scanned_pdf_is_recognised_with_word_confidences()
    {
        var page = Assert.Single(scans.ScannedPdf.Pages);
        Assert.Equal(PageSource.Ocr, page.Source);
        Assert.Equal(300, page.Dpi);
        var cer = RecognitionMetrics.CharacterErrorRate(Joined(ScanFixture.ReportA), page.Text);
        Assert.True(cer < 0.03, $"CER {cer:P1}: {page.Text}");
        Assert.InRange(page.MeanConfidence, 75, 100);
        Assert.All(page.Words, w => Assert.InRange(w.Confidence, 0, 100));
        var consolidation = page.Words.First(w => w.Text.StartsWith("consolidation"));
        Assert.InRange(consolidation.BBox.Top, 60, 200);
        Assert.InRange(page.Width, 590, 600);
    }

    [Fact]
    public void Multi_page_tiff_gives_one_page_per_frame()
    {
        var doc = scans.Tiff;
        Assert.Equal("tiff", doc.Format);
        Assert.Equal([1, 2], doc.Pages.Select(p => p.PageNumber));
        Assert.All(doc.Pages, p => Assert.Equal(PageSource.Ocr, p.Source));
        Assert.All(doc.Pages, p => Assert.Equal(200, p.Dpi)); // read from the TIFF's resolution tags
        Assert.Contains("pneumonia", doc.Pages[0].Text);
        Assert.Contains("granuloma", doc.Pages[1].Text);
        Assert.Equal(2, doc.PageAt(doc.FullText.IndexOf("granuloma", StringComparison.Ordinal)));
    }

    [Fact]
    public void Page_scanned_sideways_is_turned_upright()
    {
        var page = Assert.Single(scans.Rotated.Pages);
        Assert.Equal(270, page.RotationApplied);
        var cer = RecognitionMetrics.CharacterErrorRate(Joined(ScanFixture.ReportB), page.Text);
        Assert.True(cer < 0.03, $"CER {cer:P1}: {page.Text}");
        Assert.True(page.Height > page.Width, "the upright page is portrait");
    }

    [Fact]
    public void Each_pdf_page_takes_its_own_path()
    {
        var doc = scans.Mixed;
        Assert.Equal([PageSource.TextLayer, PageSource.Ocr], doc.Pages.Select(p => p.Source));
        Assert.Contains("pneumonia", doc.Pages[0].Text);
        Assert.Contains("granuloma", doc.Pages[1].Text);
    }
}

using Casebook.Extract.Documents;

namespace Casebook.Tests.Extract.Documents;

public sealed class TesseractTsvTests
{
    const string Tsv = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n" +
        "1\t1\t0\t0\t0\t0\t0\t0\t2480\t3508\t-1\t\n" +
        "5\t1\t1\t1\t1\t1\t100\t200\t150\t40\t96.5\tFINDINGS:\n" +
        "5\t1\t1\t1\t1\t2\t260\t200\t90\t40\t91.0\tClear\n" +
        "5\t1\t1\t1\t2\t1\t100\t250\t120\t40\t88.25\tlungs.\n" +
        "5\t1\t2\t1\t1\t1\t100\t400\t200\t40\t79\tIMPRESSION:\n" +
        "5\t1\t2\t1\t1\t2\t310\t400\t80\t40\t-1\t \n";

    [Fact]
    public void Tsv_becomes_lines_and_blank_line_separated_blocks()
    {
        var r = TesseractOcr.ParseTsv(Tsv);
        Assert.Equal("FINDINGS: Clear\nlungs.\n\nIMPRESSION:", r.Text);
        Assert.Equal(4, r.Words.Count);
        Assert.Equal((96.5 + 91 + 88.25 + 79) / 4, r.MeanConfidence, 6);
        Assert.Equal(new TesseractOcr.OcrWord("Clear", 91, 260, 200, 90, 40), r.Words[1]);
    }

    [Fact]
    public void Page_lookup_follows_page_offsets()
    {
        var doc = new ExtractedDocument("x.pdf", "pdf",
        [
            new ExtractedPage { PageNumber = 1, Text = "first page", Source = PageSource.TextLayer },
            new ExtractedPage { PageNumber = 2, Text = "", Source = PageSource.Ocr },
            new ExtractedPage { PageNumber = 3, Text = "third", Source = PageSource.Ocr },
        ]);
        Assert.Equal("first page\n\n\n\nthird", doc.FullText);
        Assert.Equal([0, 12, 14], doc.PageOffsets);
        Assert.Equal(1, doc.PageAt(0));
        Assert.Equal(1, doc.PageAt(9));
        Assert.Equal(3, doc.PageAt(14));
        Assert.Equal(3, doc.PageAt(18));
    }
}

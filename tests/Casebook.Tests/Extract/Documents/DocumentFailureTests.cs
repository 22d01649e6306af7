using Casebook.Extract.Documents;

namespace Casebook.Tests.Extract.Documents;

[Collection("scans")]
public sealed class DocumentFailureTests(ScanFixture scans)
{
    DocumentExtractionException Fails(string path, DocumentExtractionOptions? options = null)
    {
        var e = Assert.Throws<DocumentExtractionException>(() => new DocumentTextExtractor(options).Extract(path));
        Assert.Contains(Path.GetFileName(path), e.Message);
        return e;
    }

    [Fact]
    public void Empty_file_is_rejected_as_empty()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir["empty.pdf"], []);
        Assert.Equal(DocumentFailure.Empty, Fails(dir["empty.pdf"]).Reason);
    }

    [Fact]
    public void Pdf_with_only_blank_pages_is_rejected_as_empty()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir["blank.pdf"], SyntheticScan.TextPdf([Array.Empty<string>()]));
        var e = Fails(dir["blank.pdf"]);
        Assert.Equal(DocumentFailure.Empty, e.Reason);
        Assert.Contains("no text", e.Message);
    }

    [Fact]
    public void Corrupt_pdf_is_rejected_as_corrupt()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir["garbage.pdf"], "%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R >>\nthis is not a pdf at all\n%%EOF");
        Assert.Equal(DocumentFailure.Corrupt, Fails(dir["garbage.pdf"]).Reason);
        var whole = File.ReadAllBytes(Path.Combine(scans.Dir.Path, "scan.pdf"));
        File.WriteAllBytes(dir["truncated.pdf"], whole[..(whole.Length / 3)]);
        Assert.Contains(Fails(dir["truncated.pdf"]).Reason, new[] { DocumentFailure.Corrupt, DocumentFailure.Empty });
    }

    [Fact]
    public void Password_protected_pdf_is_rejected_as_encrypted()
    {
        using var dir = new TempDirectory();
        var r = Casebook.Extract.ExternalTool.Run("gs", ["-q", "-dNOPAUSE", "-dBATCH", "-sDEVICE=pdfwrite", "-sOwnerPassword=owner", "-sUserPassword=secret",
            "-dEncryptionR=3", "-dKeyLength=128", "-o", dir["locked.pdf"], Path.Combine(scans.Dir.Path, "text.pdf")], TimeSpan.FromMinutes(1));
        Assert.True(r.ExitCode == 0, r.Stderr);
        var e = Fails(dir["locked.pdf"]);
        Assert.Equal(DocumentFailure.Encrypted, e.Reason);
        // With the password it opens.
        var doc = new DocumentTextExtractor(new DocumentExtractionOptions { Password = "secret" }).Extract(dir["locked.pdf"]);
        Assert.Contains("pneumonia", doc.Pages[0].Text);
    }

    [Fact]
    public void Limits_reject_gigantic_documents_before_any_work()
    {
        var scan = Path.Combine(scans.Dir.Path, "turned.png");
        Assert.Equal(DocumentFailure.TooLarge, Fails(scan, new DocumentExtractionOptions { MaxPixelsPerPage = 1_000_000 }).Reason);
        Assert.Equal(DocumentFailure.TooLarge, Fails(scan, new DocumentExtractionOptions { MaxFileBytes = 1000 }).Reason);
        Assert.Equal(DocumentFailure.TooLarge, Fails(Path.Combine(scans.Dir.Path, "two.tif"), new DocumentExtractionOptions { MaxPages = 1 }).Reason);
        Assert.Equal(DocumentFailure.TooLarge, Fails(Path.Combine(scans.Dir.Path, "scan.pdf"), new DocumentExtractionOptions { MaxPixelsPerPage = 5_000_000 }).Reason);
    }

    [Fact]
    public void Defaults_allow_a_300_dpi_a4_scan_with_room_to_spare()
    {
        var o = new DocumentExtractionOptions();
        Assert.True(o.MaxPixelsPerPage > 100_000_000);
        Assert.True(o.MaxPixelsPerPage > 2481L * 3508);
    }

    [Fact]
    public void Unknown_and_undecodable_files_fail_cleanly()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir["notes.pdf"], "just some text, not a PDF");
        Assert.Equal(DocumentFailure.Unsupported, Fails(dir["notes.pdf"]).Reason);
        File.WriteAllBytes(dir["broken.png"], [0x89, (byte)'P', (byte)'N', (byte)'G', 13, 10, 26, 10, 1, 2, 3, 4, 5]);
        Assert.Equal(DocumentFailure.Corrupt, Fails(dir["broken.png"]).Reason);
        Assert.Equal(DocumentFailure.NotFound, Fails(dir["missing.tif"]).Reason);
    }

    [Fact]
    public void Tool_that_hangs_is_killed_at_the_timeout()
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var e = Assert.Throws<Casebook.Extract.ExternalToolException>(() => Casebook.Extract.ExternalTool.Run("sleep", ["30"], TimeSpan.FromMilliseconds(300)));
        Assert.True(e.TimedOut);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10));
    }
}

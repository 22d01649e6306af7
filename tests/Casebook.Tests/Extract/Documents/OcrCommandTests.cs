using System.Text.Json;
using Casebook.Cli;

namespace Casebook.Tests.Extract.Documents;

[Collection("scans")]
public sealed class OcrCommandTests(ScanFixture scans)
{
    static (int Code, string Out, string Err) Ocr(params string[] args)
    {
        var o = new StringWriter(); var e = new StringWriter();
        var code = ExtractCommands.Ocr(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    [Fact]
    public void Ocr_prints_the_text_alone()
    {
        var (code, stdout, _) = Ocr(Path.Combine(scans.Dir.Path, "text.pdf"));
        Assert.Equal(0, code);
        Assert.StartsWith("INDICATION: Cough and fever", stdout);
        Assert.Contains("Stable calcified granuloma", stdout);
    }

    [Fact]
    public void Ocr_json_lists_pages_with_text_and_mean_confidence()
    {
        var (code, stdout, _) = Ocr(Path.Combine(scans.Dir.Path, "text.pdf"), "--json");
        Assert.Equal(0, code);
        var root = JsonDocument.Parse(stdout).RootElement;
        var pages = root.GetProperty("pages");
        Assert.Equal(2, pages.GetArrayLength());
        Assert.Equal(1, pages[0].GetProperty("page").GetInt32());
        Assert.Equal("text-layer", pages[0].GetProperty("source").GetString());
        Assert.Contains("granuloma", pages[1].GetProperty("text").GetString());
        Assert.Equal(100, pages[1].GetProperty("mean_confidence").GetDouble());
    }

    [Fact]
    public void Ocr_reads_a_jpeg_scan()
    {
        using var dir = new TempDirectory();
        var r = Casebook.Extract.ExternalTool.Run("convert", [Path.Combine(scans.Dir.Path, "a.png"), "-quality", "85", dir["scan.jpg"]], TimeSpan.FromMinutes(1));
        Assert.Equal(0, r.ExitCode);
        var (code, stdout, _) = Ocr(dir["scan.jpg"]);
        Assert.Equal(0, code);
        Assert.Contains("Right lower lobe pneumonia", stdout);
    }

    [Fact]
    public void Ocr_of_a_bad_file_fails_with_the_reason_on_stderr()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir["x.pdf"], "%PDF-1.4 nothing here");
        var (code, stdout, stderr) = Ocr(dir["x.pdf"]);
        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Contains("x.pdf", stderr);
        Assert.Throws<UsageException>(() => Ocr());
    }
}

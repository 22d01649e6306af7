using Casebook.Extract;
using Casebook.Extract.Documents;
using Casebook.Model;
using Casebook.Search;

namespace Casebook.Tests.Ingest;

/// <summary>
/// Scanned reports and dictations through INGEST: a text PDF, a scanned PDF (two pages), a TIFF scan and an espeak-ng
/// dictation listed in a studies.csv (with the optional dictation column), plus a corrupt PDF and a bad recording
/// that must fail cleanly while the rest is ingested.
/// </summary>
public class DocumentIngestTests
{
    static readonly string[] TextPdfLines = ["FINDINGS: Xanthogranulomatous pyelonephritis of the left kidney.", "", "IMPRESSION: Stable."];
    static readonly string[] ScanPage1 = ["INDICATION: Abdominal pain.", "", "FINDINGS: The liver is normal."];
    static readonly string[] ScanPage2 = ["IMPRESSION: Large splenic infarct.", "", "RECOMMENDATION: Vascular surgery consult."];
    static readonly string[] TiffLines = ["FINDINGS: Displaced scaphoid fracture.", "", "IMPRESSION: Fracture of the wrist."];

    static void Check(ExternalTool.Result r) { if (r.ExitCode != 0) throw new InvalidOperationException(r.Stderr); }

    [Fact]
    public void Text_pdf_scans_and_dictations_are_ingested_segmented_and_found_and_bad_files_fail_cleanly()
    {
        using var tmp = new TempDirectory();
        Directory.CreateDirectory(tmp["in"]);
        File.WriteAllBytes(tmp["in/text.pdf"], SyntheticScan.TextPdf([TextPdfLines]));
        File.WriteAllBytes(tmp["in/scan.pdf"], SyntheticScan.ScannedPdf([SyntheticScan.RenderPng(ScanPage1, 300), SyntheticScan.RenderPng(ScanPage2, 300)]));
        SyntheticScan.MultiPageTiff([SyntheticScan.RenderPng(TiffLines, 300)], tmp["in/wrist.tif"]);
        File.WriteAllText(tmp["in/corrupt.pdf"], "%PDF-1.7\nthis is not really a pdf at all\n");
        File.WriteAllText(tmp["in/dict.txt"], "INDICATION: Follow up.\n\nIMPRESSION: See dictation.");
        Check(ExternalTool.Run("espeak-ng", ["-v", "en-us+klatt", "-s", "140", "-w", tmp["in/dictation.wav"], "the patient has a fever and a cough"], TimeSpan.FromMinutes(1)));
        File.WriteAllText(tmp["in/bad.wav"], "RIFF not audio");
        File.WriteAllText(tmp["in/studies.csv"], """
            study_id,patient_id,modality,exam_date,report,images,dictation
            T-1,P1,CT,2024-02-01,text.pdf,,
            S-2,P2,CT,2024-02-02,scan.pdf,,
            W-3,P3,CR,2024-02-03,wrist.tif,,
            D-4,P4,CR,2024-02-04,dict.txt,,dictation.wav
            X-5,P5,CT,2024-02-05,corrupt.pdf,,
            B-6,P6,CR,2024-02-06,dict.txt,,bad.wav
            """);

        using var db = tmp.OpenDb();
        var r = db.Ingest([tmp["in"]]);
        Assert.Equal(4, r.Inserted);
        Assert.Contains(r.Errors, e => e.File.EndsWith("corrupt.pdf") && e.Reason.Contains("corrupt.pdf"));
        Assert.Contains(r.Errors, e => e.File.EndsWith("bad.wav") && e.Reason.Contains("bad.wav"));
        Assert.Equal(4, db.CountStudies());

        string Top(string q) => db.Search(q).Mode(SearchMode.Bm25).Limit(1).ToList().Single().StudyId;
        Assert.Equal("T-1", Top("xanthogranulomatous pyelonephritis"));
        Assert.Equal("S-2", Top("splenic infarct"));
        Assert.Equal("W-3", Top("scaphoid fracture"));
        Assert.Equal("D-4", Top("fever cough"));

        // Text PDF: the original is kept, paragraphs are on page 1.
        var text = db.GetStudy("T-1")!;
        Assert.NotNull(text.ReportPdf);
        Assert.Equal("application/pdf", text.Metadata["report_mime"]!.GetValue<string>());
        Assert.All(text.Segments.Where(g => g.Kind == SegmentKind.ReportParagraph), g => Assert.Equal(1, g.Source.Page));

        // Scanned PDF: offsets point at the text, and each paragraph has the page it came from.
        var scan = db.GetStudy("S-2")!;
        Assert.NotNull(scan.ReportPdf);
        var paragraphs = scan.Segments.Where(g => g.Kind == SegmentKind.ReportParagraph).ToList();
        Assert.All(paragraphs, g => Assert.NotNull(g.Source.Page));
        var infarct = paragraphs.Single(g => g.Text!.Contains("infarct", StringComparison.OrdinalIgnoreCase));
        Assert.Equal(2, infarct.Source.Page);
        Assert.Equal(infarct.Text, scan.ReportText![infarct.Source.CharStart!.Value..infarct.Source.CharEnd!.Value]);
        Assert.Equal(1, paragraphs.Single(g => g.Text!.Contains("liver", StringComparison.OrdinalIgnoreCase)).Source.Page);

        // TIFF scan: stored as report_pdf with its own mime.
        var wrist = db.GetStudy("W-3")!;
        Assert.NotNull(wrist.ReportPdf);
        Assert.Equal("image/tiff", wrist.Metadata["report_mime"]!.GetValue<string>());

        // Dictation: audio kept with its mime; segments have text, time spans and embeddings.
        var dict = db.GetStudy("D-4")!;
        Assert.NotNull(dict.DictationAudio);
        Assert.Equal("audio/wav", dict.DictationAudioMime);
        var spoken = dict.Segments.Where(g => g.Kind == SegmentKind.DictationSegment).ToList();
        Assert.NotEmpty(spoken);
        Assert.All(spoken, g =>
        {
            Assert.False(string.IsNullOrWhiteSpace(g.Text));
            Assert.NotNull(g.Source.TimeStart);
            Assert.True(g.Source.TimeEnd > g.Source.TimeStart);
            Assert.NotNull(g.TextEmbedding);
        });
    }
}

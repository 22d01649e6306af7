using System.Text;
using Casebook.Extract;
using Casebook.Extract.Documents;
using Casebook.Ingest;
using Casebook.Model;
using Casebook.Search;
using Casebook.Tests.Extract.Dicom;

namespace Casebook.Tests.Ingest;

/// <summary>
/// Linking: scans and dictations dropped in folders without a manifest, attachment rows in a manifest, and DICOM
/// Encapsulated PDFs, attached to the study they name by study id, accession number or file/folder name — also when the
/// study was ingested in an earlier run (it gets a new version and keeps its images).
/// </summary>
public class StudyLinkingTests
{
    static void Check(ExternalTool.Result r) { if (r.ExitCode != 0) throw new InvalidOperationException(r.Stderr); }

    static void Speak(string wav, string text) =>
        Check(ExternalTool.Run("espeak-ng", ["-v", "en-us+klatt", "-s", "140", "-w", wav, text], TimeSpan.FromMinutes(1)));

    static byte[] KeyImage(string label) => SyntheticScan.RenderPng([label], 40);

    [Fact]
    public void Folder_drop_makes_studies_of_study_folders_and_tells_png_report_scans_from_key_images()
    {
        using var tmp = new TempDirectory();
        Directory.CreateDirectory(tmp["inbox/S-90"]);
        Directory.CreateDirectory(tmp["inbox/S-91"]);
        Directory.CreateDirectory(tmp["inbox/only-images"]);
        File.WriteAllBytes(tmp["inbox/S-90/report.pdf"], SyntheticScan.TextPdf([["FINDINGS: Bilateral hilar lymphadenopathy suggesting sarcoidosis."]]));
        Speak(tmp["inbox/S-90/dictation.wav"], "the patient has a fever and a cough");
        File.WriteAllBytes(tmp["inbox/S-90/key.png"], KeyImage("chest"));
        // A PNG named *report* is a report scan (OCR'd); the other PNG of the folder is its key image.
        File.WriteAllBytes(tmp["inbox/S-91/report_page1.png"], SyntheticScan.RenderPng(["IMPRESSION: Osteochondroma of the distal femur."], 300));
        File.WriteAllBytes(tmp["inbox/S-91/knee.png"], KeyImage("knee"));
        File.WriteAllBytes(tmp["inbox/only-images/a.png"], KeyImage("a")); // images alone never make a study

        using var db = tmp.OpenDb();
        var r = db.Ingest([tmp["inbox"]]);
        Assert.Empty(r.Errors);
        Assert.Equal(2, r.Inserted);
        Assert.Equal(2, db.CountStudies());

        var s90 = db.GetStudy("S-90")!;
        Assert.NotNull(s90.ReportPdf);
        Assert.NotNull(s90.DictationAudio);
        Assert.NotNull(s90.DicomImage);
        Assert.Single(s90.Segments, g => g.Kind == SegmentKind.ImageSlice);
        Assert.NotEmpty(s90.Segments.Where(g => g.Kind == SegmentKind.DictationSegment));
        var s91 = db.GetStudy("S-91")!;
        Assert.Equal("image/png", s91.Metadata["report_mime"]!.GetValue<string>());
        Assert.Contains("Osteochondroma", s91.ReportText);
        Assert.Single(s91.Segments, g => g.Kind == SegmentKind.ImageSlice && g.Source.File == "knee.png");

        string Top(string q) => db.Search(q).Mode(SearchMode.Bm25).Limit(1).ToList().Single().StudyId;
        Assert.Equal("S-90", Top("hilar lymphadenopathy sarcoidosis"));
        Assert.Equal("S-90", Top("fever cough"));
        Assert.Equal("S-91", Top("osteochondroma femur"));
    }

    [Fact]
    public void Documents_attach_to_a_study_of_an_earlier_run_by_study_id_accession_and_file_name_and_rerunning_changes_nothing()
    {
        using var tmp = new TempDirectory();
        Directory.CreateDirectory(tmp["run1"]);
        File.WriteAllText(tmp["run1/a.txt"], "INDICATION: Cough.\n\nFINDINGS: Small right pleural effusion.");
        File.WriteAllBytes(tmp["run1/a.png"], KeyImage("cxr"));
        File.WriteAllText(tmp["run1/studies.csv"], """
            study_id,patient_id,modality,exam_date,report,images,accession
            A-1,P1,CR,2024-03-01,a.txt,a.png,ACC-77
            B-2,P2,CR,2024-03-02,a.txt,,ACC-88
            """);
        using var db = tmp.OpenDb();
        Assert.Equal(2, db.Ingest([tmp["run1"]]).Inserted);
        var before = db.GetStudy("A-1")!;
        var imageVector = before.Segments.Single(g => g.Kind == SegmentKind.ImageSlice).ImageEmbedding;

        // Run 2, a manifest-less drop folder: "<study_id>_anything.pdf" and "<accession>/…" name existing studies.
        Directory.CreateDirectory(tmp["drop/ACC-88"]);
        File.WriteAllBytes(tmp["drop/A-1_addendum.pdf"], SyntheticScan.TextPdf([["ADDENDUM: Loculated effusion with pleural thickening, consider empyema."]]));
        File.WriteAllBytes(tmp["drop/ACC-88/scan.pdf"], SyntheticScan.TextPdf([["IMPRESSION: Azygos lobe, a normal variant."]]));
        // Run 2, attachment rows of a manifest: no patient_id; by study_id, by accession (with a patient check), or unknown.
        Directory.CreateDirectory(tmp["rows"]);
        File.WriteAllBytes(tmp["rows/late.pdf"], SyntheticScan.TextPdf([["RECOMMENDATION: Thoracentesis under ultrasound guidance."]]));
        File.WriteAllBytes(tmp["rows/wrong.pdf"], SyntheticScan.TextPdf([["IMPRESSION: Should never be attached."]]));
        File.WriteAllText(tmp["rows/studies.csv"], """
            study_id,patient_id,modality,exam_date,report,images,accession
            ,P1,,,late.pdf,,ACC-77
            A-1,,,,late.pdf,,
            ,P9,,,wrong.pdf,,ACC-88
            NOPE-1,,,,wrong.pdf,,
            """);
        var r = db.Ingest([tmp["drop"], tmp["rows"]]);
        Assert.Contains(r.Errors, e => e.File.EndsWith("studies.csv:4") && e.Reason.Contains("another patient"));
        Assert.Contains(r.Errors, e => e.File.EndsWith("studies.csv:5") && e.Reason.Contains("NOPE-1"));
        Assert.Equal(2, r.Updated);
        Assert.Equal(2, db.CountStudies());

        var after = db.GetStudy("A-1")!;
        Assert.Contains("Small right pleural effusion", after.ReportText);
        Assert.Contains("empyema", after.ReportText);
        Assert.Contains("Thoracentesis", after.ReportText);
        Assert.NotNull(after.ReportPdf);
        // Images and their vectors are kept; every paragraph's offsets point at its text in the combined report.
        Assert.Equal(imageVector, after.Segments.Single(g => g.Kind == SegmentKind.ImageSlice).ImageEmbedding);
        foreach (var p in after.Segments.Where(g => g.Kind == SegmentKind.ReportParagraph))
            Assert.Equal(p.Text, after.ReportText![p.Source.CharStart!.Value..p.Source.CharEnd!.Value]);
        Assert.Equal(after.Segments.Count, after.Segments.Select(g => g.SegmentId).Distinct().Count());
        Assert.Contains("Azygos", db.GetStudy("B-2")!.ReportText);
        Assert.DoesNotContain("never be attached", db.GetStudy("B-2")!.ReportText);

        string Top(string q) => db.Search(q).Mode(SearchMode.Bm25).Limit(1).ToList().Single().StudyId;
        Assert.Equal("A-1", Top("empyema pleural thickening"));
        Assert.Equal("A-1", Top("thoracentesis"));
        Assert.Equal("B-2", Top("azygos lobe"));

        // The same files again: already attached, so no new version.
        var versions = db.Versions().Count;
        var again = db.Ingest([tmp["drop"], tmp["rows"]]);
        Assert.Equal(0, again.Updated);
        Assert.Equal(versions, db.Versions().Count);
    }

    [Fact]
    public void A_dicom_encapsulated_pdf_becomes_the_report_and_its_accession_links_a_later_dictation()
    {
        using var tmp = new TempDirectory();
        Directory.CreateDirectory(tmp["dicom"]);
        var pdf = SyntheticScan.TextPdf([["FINDINGS: Comminuted calcaneal fracture with Bohler angle flattening."]]);
        File.WriteAllBytes(tmp["dicom/report.dcm"], EncapsulatedPdf(pdf, accession: "ACC-D1"));
        // A PDF dropped beside one study's DICOM files belongs to that study (same ingest: one version with both reports).
        File.WriteAllBytes(tmp["dicom/addendum.pdf"], SyntheticScan.TextPdf([["ADDENDUM: Subtalar joint involvement confirmed."]]));
        using var db = tmp.OpenDb();
        var r = db.Ingest([tmp["dicom"]]);
        Assert.Empty(r.Errors);
        Assert.Equal(1, r.Inserted);
        Assert.Single(db.Versions());
        var study = db.Studies().Single();
        Assert.Contains("Subtalar joint", study.ReportText);
        Assert.NotNull(study.ReportPdf);
        Assert.Equal("application/pdf", study.Metadata["report_mime"]!.GetValue<string>());
        Assert.Contains("calcaneal fracture", study.ReportText);
        // The accession is kept only as a keyed hash.
        Assert.DoesNotContain("ACC-D1", study.Metadata.ToJsonString());
        Assert.NotNull(study.Metadata[StudyLinker.AccessionKeyField]);

        Directory.CreateDirectory(tmp["later"]);
        Speak(tmp["later/ACC-D1_dictation.wav"], "the patient fell from a ladder");
        var r2 = db.Ingest([tmp["later"]]);
        Assert.Empty(r2.Errors);
        Assert.Equal(1, r2.Updated);
        var linked = db.GetStudy(study.StudyId)!;
        Assert.NotNull(linked.DictationAudio);
        Assert.NotEmpty(linked.Segments.Where(g => g.Kind == SegmentKind.DictationSegment));
        Assert.Contains("calcaneal fracture", linked.ReportText);
    }

    [Fact]
    public void Linker_resolves_names_by_longest_prefix_and_refuses_an_ambiguous_accession()
    {
        using var tmp = new TempDirectory();
        File.WriteAllText(tmp.KeyFile, new string('a', 64));
        var key = PatientPseudonym.Load(tmp.KeyFile);
        var linker = new StudyLinker(key);
        linker.AddStudy("day1_consult", accession: "X1");
        linker.AddStudy("S-1");
        linker.AddStudy("S-2", accession: "DUP");
        linker.AddStudy("S-3", accession: "DUP");
        Assert.Equal("day1_consult", linker.Resolve(new StudyReference(StudyReference.Name, "day1_consult_report_p2")));
        Assert.Equal("day1_consult", linker.Resolve(new StudyReference(StudyReference.Name, "X1_dictation")));
        Assert.Equal("S-1", linker.Resolve(new StudyReference(StudyReference.StudyId, "S-1")));
        Assert.Null(linker.Resolve(new StudyReference(StudyReference.StudyId, "S-1_x")));
        Assert.Null(linker.Resolve(new StudyReference(StudyReference.Name, "report")));
        Assert.Throws<InvalidDataException>(() => linker.Resolve(new StudyReference(StudyReference.Accession, "DUP")));
        // Extension point: a resolver for references of other kinds (FHIR).
        linker.Resolvers.Add(new FixedResolver());
        Assert.Equal("S-1", linker.Resolve(new StudyReference("fhir", "ImagingStudy/1")));
    }

    sealed class FixedResolver : IStudyReferenceResolver
    {
        public string? Resolve(StudyReference reference) => reference.Kind == "fhir" && reference.Value == "ImagingStudy/1" ? "S-1" : null;
    }

    /// <summary>A DICOM Encapsulated PDF instance (PS3.3 A.45), explicit VR little endian.</summary>
    static byte[] EncapsulatedPdf(byte[] pdf, string accession)
    {
        var ds = new DicomBytes();
        ds.Text(0x00080016, "UI", StudyBuilder.EncapsulatedPdfSopClass, 0);
        ds.Text(0x00080018, "UI", "1.2.826.0.1.3680043.2.1125.9.1", 0);
        ds.Text(0x00080050, "SH", accession);
        ds.Text(0x00080060, "CS", "DOC");
        ds.Text(0x00100020, "LO", "PAT-D1");
        ds.Text(0x0020000D, "UI", "1.2.826.0.1.3680043.2.1125.9.2", 0);
        ds.Text(0x0020000E, "UI", "1.2.826.0.1.3680043.2.1125.9.3", 0);
        ds.Text(0x00420010, "ST", "Radiology report");
        var value = pdf.Length % 2 == 1 ? [.. pdf, (byte)0] : pdf;
        ds.Element(0x00420011, "OB", value);
        ds.Text(0x00420012, "LO", "application/pdf");
        return DicomBytes.Part10("1.2.840.10008.1.2.1", ds.ToArray());
    }
}

using Casebook.Search;

namespace Casebook.Tests.Ingest;

public class IngestTests
{
    static void WriteCorpus(TempDirectory tmp, string manifest)
    {
        Directory.CreateDirectory(tmp["in"]);
        File.WriteAllText(tmp["in/studies.csv"], manifest);
        File.WriteAllText(tmp["in/a.txt"], "INDICATION: cough.\n\nFINDINGS: Right lower lobe consolidation, pneumonia.\n\nIMPRESSION: Pneumonia.");
        File.WriteAllText(tmp["in/b.txt"], "FINDINGS: Normal heart size. Lungs are clear.\n\nIMPRESSION: No acute cardiopulmonary process.");
        File.WriteAllBytes(tmp["in/broken.png"], [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3, 4, 5]);
        File.WriteAllText(tmp["in/fake.png"], "this is not an image");
    }

    const string Manifest = """
        study_id,patient_id,modality,exam_date,report,images
        A-1,P1,CR,2024-01-02,a.txt,
        B-2,P2,CR,2024-01-03,b.txt,
        C-3,P3,CR,2024-01-04,missing.txt,
        D-4,P4,CR,not-a-date,a.txt,
        E-5,P5,CR,2024-01-05,,fake.png
        F-6,P6,CR,2024-01-06,b.txt,broken.png
        """;

    [Fact]
    public void Bad_inputs_are_reported_by_file_and_reason_and_the_rest_is_ingested()
    {
        using var tmp = new TempDirectory();
        WriteCorpus(tmp, Manifest);
        using var db = tmp.OpenDb();
        var r = db.Ingest([tmp["in"], tmp["nowhere"]]);
        Assert.Equal(2, r.Inserted);
        Assert.Contains(r.Errors, e => e.File.EndsWith("missing.txt") && e.Reason.Contains("not found"));
        Assert.Contains(r.Errors, e => e.File.EndsWith("studies.csv:5") && e.Reason.Contains("not-a-date"));
        Assert.Contains(r.Errors, e => e.Reason.Contains("fake.png") && e.Reason.Contains("not a PNG or JPEG"));
        Assert.Contains(r.Errors, e => e.File == "F-6" && e.Reason.Contains("image"));
        Assert.Contains(r.Errors, e => e.File.EndsWith("nowhere") && e.Reason.Contains("no such file"));
        Assert.Equal(2, db.CountStudies());
    }

    [Fact]
    public void Reingesting_unchanged_files_changes_nothing_and_a_changed_file_makes_a_version()
    {
        using var tmp = new TempDirectory();
        WriteCorpus(tmp, "study_id,patient_id,modality,exam_date,report,images\nA-1,P1,CR,2024-01-02,a.txt,\nB-2,P2,CR,2024-01-03,b.txt,\n");
        using var db = tmp.OpenDb();
        var first = db.Ingest([tmp["in"]]);
        Assert.Equal(2, first.Inserted);
        var again = db.Ingest([tmp["in"]]);
        Assert.Equal(2, again.Unchanged);
        Assert.Empty(again.Versions);
        Assert.Single(db.Versions());

        File.WriteAllText(tmp["in/b.txt"], "FINDINGS: New small left apical pneumothorax.\n\nIMPRESSION: Pneumothorax.");
        var changed = db.Ingest([tmp["in"]]);
        Assert.Equal(1, changed.Updated);
        Assert.Equal(1, changed.Unchanged);
        Assert.Equal(2, db.Versions().Count);

        // The new text is searchable at once, without reopening or rebuilding anything; the old text only as of version 1.
        Assert.Equal("B-2", db.Search("apical pneumothorax").Mode(SearchMode.Bm25).Limit(1).ToList().Single().StudyId);
        Assert.Equal("B-2", db.Search("apical pneumothorax").Mode(SearchMode.Dense).Limit(1).ToList().Single().StudyId);
        Assert.Empty(db.Search("cardiopulmonary").Mode(SearchMode.Bm25).ToList());
        Assert.Equal("B-2", db.Search("cardiopulmonary").Mode(SearchMode.Bm25).AsOf(1).ToList().Single().StudyId);
        Assert.Equal("B-2", db.Search("no acute cardiopulmonary process").Mode(SearchMode.Dense).AsOf(1).Limit(1).ToList().Single().StudyId);
    }

    [Fact]
    public void Patient_ids_are_stored_only_as_keyed_hashes()
    {
        using var tmp = new TempDirectory();
        WriteCorpus(tmp, "study_id,patient_id,modality,exam_date,report,images,age,sex,patient_name\nA-1,MRN-778899,CR,2024-01-02,a.txt,,93,female,Jane Roe\n");
        using var db = tmp.OpenDb();
        db.Ingest([tmp["in"]]);
        var s = db.GetStudy("A-1")!;
        var expected = Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(
            Convert.FromHexString(File.ReadAllText(tmp.KeyFile).Trim()), "local|MRN-778899"u8.ToArray()));
        Assert.Equal(expected, s.PatientPseudoId);
        Assert.Equal("90+", (string?)s.Metadata["age_band"]);
        Assert.Equal("F", (string?)s.Metadata["sex"]);
        Assert.Null(s.Metadata["patient_name"]);
        db.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var f in Directory.EnumerateFiles(tmp["db"], "*", SearchOption.AllDirectories))
        {
            var bytes = File.ReadAllBytes(f);
            Assert.Equal(-1, bytes.AsSpan().IndexOf("MRN-778899"u8));
            Assert.Equal(-1, bytes.AsSpan().IndexOf("Jane Roe"u8));
        }
        Assert.False(tmp.KeyFile.StartsWith(tmp["db"]), "the key file must live outside the database directory");
    }

    [Fact]
    public void Reports_are_split_into_sections_and_paragraphs_with_offsets_into_the_report()
    {
        using var tmp = new TempDirectory();
        WriteCorpus(tmp, "study_id,patient_id,modality,exam_date,report,images\nA-1,P1,CR,2024-01-02,a.txt,\n");
        using var db = tmp.OpenDb();
        db.Ingest([tmp["in"]]);
        var s = db.GetStudy("A-1")!;
        var paragraphs = s.Segments.Where(g => g.Kind == "report_paragraph").ToList();
        Assert.Contains(paragraphs, p => p.Source.Section == "FINDINGS" && p.Text!.Contains("consolidation"));
        Assert.Contains(paragraphs, p => p.Source.Section == "IMPRESSION");
        foreach (var p in paragraphs)
            Assert.Equal(p.Text, s.ReportText!.Substring(p.Source.CharStart!.Value, p.Source.CharEnd!.Value - p.Source.CharStart.Value));
        Assert.All(paragraphs, p => Assert.Equal(384, p.TextEmbedding!.Length));
        Assert.NotEmpty(s.SparseTerms);
    }
}

using System.Text;
using Casebook.Ingest;
using Casebook.Search;
using Microsoft.Data.Sqlite;

namespace Casebook.Tests.Extract.Phi;

/// <summary>Ingest de-identifies report text before it is stored: PHI reaches neither the rows, the FTS index nor the files.</summary>
public class PhiIngestTests
{
    const string Report = """
        Patient: Maria Okafor    MRN: 4419023    DOB: 03/04/1961
        Referring physician: Tunde Adeyemi, MD

        INDICATION: Ms. Okafor reports cough since 03/01/2024. Call (617) 555-0134.

        FINDINGS: Right lower lobe consolidation. No pneumothorax. Sonographic Murphy sign not applicable.

        IMPRESSION: Right lower lobe pneumonia.
        """;

    static readonly string[] Secrets = ["Okafor", "Maria", "4419023", "03/04/1961", "Adeyemi", "555-0134", "03/01/2024"];

    static void Write(TempDirectory tmp)
    {
        Directory.CreateDirectory(tmp["in"]);
        File.WriteAllText(tmp["in/studies.csv"], "study_id,patient_id,modality,exam_date,report,images\nS-1,P-77,CR,2024-03-05,r.txt,\n");
        File.WriteAllText(tmp["in/r.txt"], Report);
    }

    [Fact]
    public void Report_phi_never_reaches_the_database_or_the_full_text_index()
    {
        using var tmp = new TempDirectory();
        Write(tmp);
        using (var db = tmp.OpenDb())
        {
            var r = db.Ingest([tmp["in"]]);
            Assert.Equal(1, r.Inserted);
            var study = db.GetStudy("S-1")!;
            foreach (var s in Secrets)
            {
                Assert.DoesNotContain(s, study.ReportText);
                Assert.All(study.Segments, g => Assert.DoesNotContain(s, g.Text ?? ""));
                Assert.DoesNotContain(s, study.Metadata.ToJsonString());
                Assert.DoesNotContain(s.ToLowerInvariant(), string.Join(' ', study.SparseTerms.Keys));
            }
            Assert.Contains("Right lower lobe pneumonia", study.ReportText);
            Assert.Contains("Murphy sign", study.ReportText);
            // The shifted dates are the patient's DICOM shift; the counts say what was replaced.
            var shift = Casebook.Extract.Dicom.Deid.DateShift.ForPatient(PatientPseudonym.Load(tmp.KeyFile), "local", "P-77");
            Assert.Contains("DOB: " + new DateOnly(1961, 3, 4).AddDays(shift.Days).ToString("MM/dd/yyyy"), study.ReportText);
            var replaced = study.Metadata["text_deid"]!["replaced"]!;
            Assert.Equal(3, (int)replaced["NAME"]!);
            Assert.Equal(2, (int)replaced["DATE"]!);
            Assert.Equal(1, (int)replaced["MRN"]!);
            Assert.Equal(1, (int)replaced["PHONE"]!);
            Assert.Empty(db.Search("Okafor").Mode(SearchMode.Bm25).Execute().Results);
            Assert.NotEmpty(db.Search("pneumonia").Mode(SearchMode.Bm25).Execute().Results);
            using var c = new SqliteConnection($"Data Source={tmp["db/casebook.db"]};Mode=ReadOnly;Pooling=False");
            c.Open();
            using var q = c.CreateCommand();
            q.CommandText = "SELECT count(*) FROM segments_fts WHERE segments_fts MATCH 'okafor OR adeyemi OR maria'";
            Assert.Equal(0L, (long)q.ExecuteScalar()!);
        }
        SqliteConnection.ClearAllPools();
        // Nothing of it in any file of the database directory (rows, WAL, FTS shadow tables, index).
        foreach (var file in Directory.EnumerateFiles(tmp["db"], "*", SearchOption.AllDirectories))
        {
            var bytes = File.ReadAllBytes(file);
            foreach (var s in Secrets) Assert.True(bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(s)) < 0, $"{s} found in {file}");
        }
    }

    [Fact]
    public void Text_deidentification_can_be_turned_off()
    {
        using var tmp = new TempDirectory();
        Write(tmp);
        using var db = tmp.OpenDb();
        db.Ingest([tmp["in"]], new IngestOptions { TextDeidentification = null });
        var study = db.GetStudy("S-1")!;
        Assert.Contains("Maria Okafor", study.ReportText);
        Assert.Null(study.Metadata["text_deid"]);
    }
}

using Casebook.Model;
using Casebook.Storage;
using Microsoft.Data.Sqlite;

namespace Casebook.Tests.Storage;

public class VersioningTests
{
    static CommitResult Put(CasebookDb db, params StudyRecord[] studies)
    {
        var b = new WriteBatch();
        b.Upserts.AddRange(studies);
        return db.Commit(b, "put " + string.Join(",", studies.Select(s => s.StudyId)));
    }

    [Fact]
    public void Every_field_round_trips_through_storage()
    {
        using var tmp = new TempDirectory();
        using var db = tmp.OpenDb();
        var original = StudyFactory.Full(db, "S1");
        Put(db, original);
        var back = db.GetStudy("S1")!;
        Assert.Equal(original.PatientPseudoId, back.PatientPseudoId);
        Assert.Equal(original.Modality, back.Modality);
        Assert.Equal(original.ExamDate, back.ExamDate);
        Assert.Equal(original.ReportText, back.ReportText);
        Assert.Equal(original.DicomImage, back.DicomImage);
        Assert.Equal(original.DicomMime, back.DicomMime);
        Assert.Equal(original.DictationAudio, back.DictationAudio);
        Assert.Equal(original.DictationAudioMime, back.DictationAudioMime);
        Assert.Equal(original.ReportPdf, back.ReportPdf);
        Assert.Equal(db.ReadBlob(original.DicomImage!), db.ReadBlob(back.DicomImage!));
        Assert.Equal(original.ImageRegions.ToJsonString(), back.ImageRegions.ToJsonString());
        Assert.Equal(original.TimelineEvents.ToJsonString(), back.TimelineEvents.ToJsonString());
        Assert.Equal(original.SparseTerms, back.SparseTerms);
        Assert.Equal(original.ClinicalCodes, back.ClinicalCodes);
        Assert.Equal(original.Metadata.ToJsonString(), back.Metadata.ToJsonString());
        Assert.Equal(original.AnatomicalRegions.ToJsonString(), back.AnatomicalRegions.ToJsonString());
        Assert.Equal(original.PathologyFindings.ToJsonString(), back.PathologyFindings.ToJsonString());
        Assert.Equal(original.RiskFactors.ToJsonString(), back.RiskFactors.ToJsonString());
        Assert.Equal(2, back.Segments.Count);
        for (var i = 0; i < 2; i++)
        {
            var (a, b) = (original.Segments[i], back.Segments[i]);
            Assert.Equal(a.SegmentId, b.SegmentId);
            Assert.Equal(a.Kind, b.Kind);
            Assert.Equal(a.Text, b.Text);
            Assert.Equal(a.Source.Section, b.Source.Section);
            Assert.Equal(a.Source.CharEnd, b.Source.CharEnd);
            Assert.Equal(a.Source.Frame, b.Source.Frame);
            Assert.Equal(a.Blob, b.Blob);
            Assert.Equal(a.TextEmbedding, b.TextEmbedding);
            Assert.Equal(a.ImageEmbedding, b.ImageEmbedding);
            Assert.Equal(a.TextModel, b.TextModel);
            Assert.Equal(a.ImageModel, b.ImageModel);
        }
        Assert.Equal(original.TextEmbeddings.Single(), back.TextEmbeddings.Single());
        Assert.Equal(original.ImageEmbeddings.Single(), back.ImageEmbeddings.Single());
    }

    [Fact]
    public void Commits_make_versions_and_reads_travel_back_in_time()
    {
        using var tmp = new TempDirectory();
        using var db = tmp.OpenDb();
        var v1 = Put(db, StudyFactory.Full(db, "S1", report: "first report"), StudyFactory.Full(db, "S2")).Version;
        var v2 = Put(db, StudyFactory.Full(db, "S1", report: "second report")).Version;
        var del = new WriteBatch(); del.Deletes.Add("S2");
        var v3 = db.Commit(del, "drop S2").Version;

        Assert.Equal([1L, 2L, 3L], db.Versions().Select(v => v.Version));
        Assert.Equal("test", db.Versions()[0].Author);
        Assert.Equal("drop S2", db.Versions()[2].Message);
        Assert.Equal("first report", db.GetStudy("S1", v1)!.ReportText);
        Assert.Equal("second report", db.GetStudy("S1", v2)!.ReportText);
        Assert.Equal("second report", db.GetStudy("S1")!.ReportText);
        Assert.NotNull(db.GetStudy("S2", v2));
        Assert.Null(db.GetStudy("S2", v3));
        Assert.Equal(2, db.CountStudies(v1));
        Assert.Equal(1, db.CountStudies());
        var e = Assert.Throws<ArgumentException>(() => db.GetStudy("S1", 99));
        Assert.Contains("version 99 does not exist", e.Message);
    }

    [Fact]
    public void Unchanged_content_makes_no_new_version()
    {
        using var tmp = new TempDirectory();
        using var db = tmp.OpenDb();
        Put(db, StudyFactory.Full(db, "S1"));
        var again = Put(db, StudyFactory.Full(db, "S1"));
        Assert.Null(again.Version);
        Assert.Equal(1, again.Unchanged);
        Assert.Single(db.Versions());
    }

    [Fact]
    public void Restore_makes_an_old_version_current_as_a_new_commit()
    {
        using var tmp = new TempDirectory();
        using var db = tmp.OpenDb();
        Put(db, StudyFactory.Full(db, "S1", report: "original"));
        Put(db, StudyFactory.Full(db, "S1", report: "edited"), StudyFactory.Full(db, "S3"));
        var r = db.Restore(1);
        Assert.Equal(3, r.Version);
        Assert.Equal("original", db.GetStudy("S1")!.ReportText);
        Assert.Null(db.GetStudy("S3"));
        Assert.Equal("edited", db.GetStudy("S1", 2)!.ReportText); // history kept
        Assert.Equal("restore version 1", db.Versions()[^1].Message);
        Assert.Equal(2, db.GetStudy("S1")!.Segments.Count);
    }

    [Fact]
    public void Identical_blobs_are_stored_once()
    {
        using var tmp = new TempDirectory();
        using var db = tmp.OpenDb();
        var a = db.Blobs.Put(new byte[1000]);
        var b = db.Blobs.Put(new byte[1000]);
        Assert.Equal(a, b);
        Put(db, StudyFactory.Full(db, "S1"), StudyFactory.Full(db, "S2"));
        var files = Directory.EnumerateFiles(tmp["db/blobs"], "*", SearchOption.AllDirectories).Where(f => !Path.GetRelativePath(tmp["db/blobs"], f).StartsWith("tmp")).ToList();
        // zeros + 2 distinct key instances + shared audio + shared pdf
        Assert.Equal(5, files.Count);
        Assert.Equal(a.Sha256, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(db.Blobs.PathOf(a.Sha256)))));
    }

    [Fact]
    public void Purge_removes_a_patient_from_every_version_and_the_blob_store()
    {
        using var tmp = new TempDirectory();
        using var db = tmp.OpenDb();
        var s1 = StudyFactory.Full(db, "S1", patient: "victim", report: "uniquewordzebra findings");
        Put(db, s1);
        Put(db, StudyFactory.Full(db, "S1", patient: "victim", report: "uniquewordzebra edited"), StudyFactory.Full(db, "S2", patient: "other"));
        var keyBlob = db.Blobs.PathOf(s1.DicomImage!.Sha256);
        Assert.True(File.Exists(keyBlob));

        var r = db.PurgePatient("victim");
        Assert.Equal(1, r.StudiesRemoved);
        Assert.Null(db.GetStudy("S1", 1));
        Assert.Null(db.GetStudy("S1", 2));
        Assert.NotNull(db.GetStudy("S2"));
        Assert.False(File.Exists(keyBlob));
        Assert.True(File.Exists(db.Blobs.PathOf(db.GetStudy("S2")!.DictationAudio!.Sha256))); // shared blob of another patient kept
        Assert.StartsWith("purge patient victim", db.Versions()[^1].Message);
        // The erased text is gone from the database file itself, not just hidden.
        db.Dispose();
        SqliteConnection.ClearAllPools();
        var bytes = File.ReadAllBytes(tmp["db/casebook.db"]);
        Assert.Equal(-1, bytes.AsSpan().IndexOf("uniquewordzebra"u8));
    }

    [Fact]
    public void Opening_a_format_1_database_upgrades_it()
    {
        using var tmp = new TempDirectory();
        var dir = tmp["old"];
        Directory.CreateDirectory(dir);
        var script = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "format1.sql"));
        using (var c = new SqliteConnection($"Data Source={Path.Combine(dir, "casebook.db")};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = script;
            cmd.ExecuteNonQuery();
        }
        using var db = CasebookDb.Open(dir, new CasebookOptions { KeyFile = tmp.KeyFile });
        var study = db.GetStudy("OLD-1")!;
        Assert.Equal("FINDINGS: No acute disease.", study.ReportText);
        Assert.Empty(study.RiskFactors);
        Assert.Null(study.ReportPdf);
        Assert.Single(study.Segments);
        Assert.Single(db.Versions());
        // And it is writable in the new format.
        var b = new WriteBatch(); b.Upserts.Add(StudyFactory.Full(db, "NEW-1"));
        Assert.Equal(2, db.Commit(b, "after upgrade").Version);
    }

    [Fact]
    public void A_newer_format_or_foreign_directory_is_refused_clearly()
    {
        using var tmp = new TempDirectory();
        using (var db = tmp.OpenDb()) { }
        SqliteConnection.ClearAllPools();
        using (var c = new SqliteConnection($"Data Source={tmp["db/casebook.db"]};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "UPDATE meta SET value = '99' WHERE key = 'format_version'";
            cmd.ExecuteNonQuery();
        }
        var e = Assert.Throws<DatabaseFormatException>(() => tmp.OpenDb());
        Assert.Contains("format 99", e.Message);
        Directory.CreateDirectory(tmp["junk"]);
        File.WriteAllText(tmp["junk/notes.txt"], "hello");
        Assert.Throws<DatabaseFormatException>(() => tmp.OpenDb("junk"));
    }
}

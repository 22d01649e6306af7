using System.Text.Json.Nodes;

namespace Casebook.Tests.Extract.Anatomy;

public class StudyAnatomyIngestTests
{
    static IEnumerable<JsonObject> Entries(Casebook.Model.StudyRecord s, string source) =>
        s.AnatomicalRegions.OfType<JsonObject>().Where(o => (string?)o["source"] == source);

    [Fact]
    public void Ingested_dicom_carries_its_header_body_part_as_anatomy_once()
    {
        using var tmp = new TempDirectory();
        Directory.CreateDirectory(tmp["in"]);
        File.Copy(SharedData.Require("dicom/pydicom/JPEG2000.dcm"), Path.Combine(tmp["in"], "wb.dcm"));
        File.Copy(SharedData.Require("dicom/pydicom/CT_small.dcm"), Path.Combine(tmp["in"], "ct.dcm")); // no Body Part Examined
        using var db = tmp.OpenDb();
        Assert.Empty(db.Ingest([tmp["in"]]).Errors);

        var wholeBody = db.Studies().Single(s => (string?)s.Metadata["body_part"] == "WHOLE BODY");
        var header = Assert.Single(Entries(wholeBody, "header"));
        Assert.Equal("whole body", (string?)header["term"]);
        Assert.Equal("WHOLE BODY", (string?)header["body_part_examined"]);
        Assert.Equal(wholeBody.Metadata["dicom"]!["series"]![0]!["series_uid"]!.GetValue<string>(), header["series"]![0]!.GetValue<string>());
        Assert.Empty(Entries(db.Studies().Single(s => s.StudyId != wholeBody.StudyId), "header"));

        // Re-ingesting the same files changes nothing: the entry is deterministic, not appended again.
        var versions = db.CurrentVersion;
        db.Ingest([tmp["in"]]);
        Assert.Equal(versions, db.CurrentVersion);
    }
}

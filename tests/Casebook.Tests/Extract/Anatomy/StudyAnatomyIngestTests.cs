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

    [Fact]
    public void An_ingested_ct_series_gets_body_lung_and_bone_from_its_pixels()
    {
        using var tmp = new TempDirectory();
        Directory.CreateDirectory(tmp["in"]);
        foreach (var f in Directory.GetFiles(SharedData.Require("radiomics/ibsi1_ct_phantom/dicom/image"), "*.dcm"))
            File.Copy(f, Path.Combine(tmp["in"], Path.GetFileName(f)));
        using var db = tmp.OpenDb();
        Assert.Empty(db.Ingest([tmp["in"]]).Errors);

        var ct = db.Studies().Single();
        var rule = Entries(ct, "rule").ToDictionary(o => (string)o["term"]!);
        Assert.Equal(["body", "bone", "lung"], rule.Keys.Order()); // cropped at the side: one lung without a side
        var series = ct.Metadata["dicom"]!["series"]![0]!["series_uid"]!.GetValue<string>();
        Assert.All(rule.Values, o => Assert.Equal(series, (string?)o["series"]));
        // The same numbers as the rule masks on the phantom's NIfTI copy (same voxels and grid).
        var nifti = Casebook.Extract.Anatomy.CtRuleMasks.Compute(Casebook.Extract.Volumes.NiftiReader.Read(SharedData.Require("radiomics/ibsi1_ct_phantom/nifti/image/phantom.nii.gz")));
        foreach (var s in nifti)
            Assert.InRange((double)rule[s.Name]["voxels"]!.GetValue<int>(), s.VoxelCount * 0.99, s.VoxelCount * 1.01);
        Assert.InRange(rule["lung"]["mean_hu"]!.GetValue<double>(), -1000, -600);
    }
}

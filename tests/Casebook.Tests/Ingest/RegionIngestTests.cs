using System.Text.Json.Nodes;
using Casebook.Extract.Dicom.Deid;
using Casebook.Ingest;
using Casebook.Model;

namespace Casebook.Tests.Ingest;

/// <summary>SEG and RTSTRUCT objects met at DICOM ingest become image_regions with stored (remapped) UIDs; `regions --json` reads them.</summary>
public class RegionIngestTests
{
    const string PhantomStudyUid = "1.3.6.1.4.1.9590.100.1.2.96328687310426543129572151154132284399";
    const string SegStudyUid = "1.3.6.1.4.1.5962.1.1.0.0.0.1196530851.28319.0.1";
    const string CtUidPrefix = "1.3.6.1.4.1.5962.1.1.0.0.0.1196530851.28319.0.";

    static string PhantomFolder(TempDirectory tmp)
    {
        var dir = Directory.CreateDirectory(tmp["drop"]).FullName;
        foreach (var f in Directory.GetFiles(SharedData.Require("radiomics/ibsi1_ct_phantom/dicom/image")))
            File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
        File.Copy(Directory.GetFiles(SharedData.Require("radiomics/ibsi1_ct_phantom/dicom/mask")).Single(), Path.Combine(dir, "rtstruct.dcm"));
        return dir;
    }

    [Fact]
    public void Ct_with_rtstruct_ingests_to_a_region_on_the_stored_slices_with_volume_and_intensity_features()
    {
        using var tmp = new TempDirectory();
        var dir = PhantomFolder(tmp);
        using var db = tmp.OpenDb();
        var r = db.Ingest([dir]);
        Assert.Empty(r.Errors);
        var key = PatientPseudonym.Load(tmp.KeyFile);
        var remap = new UidRemapper(key);
        var study = db.GetStudy(remap.Remap(PhantomStudyUid))!;

        var region = Assert.IsType<JsonObject>(Assert.Single(study.ImageRegions));
        Assert.Equal("RTSTRUCT", region["source"]!.GetValue<string>());
        Assert.Equal("GTV-1", region["label"]!.GetValue<string>());
        Assert.Equal(125256, region["voxel_count"]!.GetValue<long>()); // = the IBSI NIfTI mask's voxel count
        // Volume by voxel counting: 125256 voxels of 0.977 × 0.977 × 3 mm (Pixel Spacing, slice gap), within the IBSI
        // reference for the CT phantom without resampling (config. A, morph_approx_volume 359000 ± 5000 mm³).
        Assert.Equal(125256 * 0.977 * 0.977 * 3, region["volume_mm3"]!.GetValue<double>(), 1);
        Assert.InRange(region["volume_mm3"]!.GetValue<double>(), 354000, 364000);
        var features = region["features"]!.AsObject();
        Assert.InRange(features["mean"]!.GetValue<double>(), -100, 100); // soft-tissue GTV in HU
        Assert.True(features["min"]!.GetValue<double>() <= features["median"]!.GetValue<double>());

        // References: remapped SOP UIDs of the CT slices the ROI lies on, each a stored slice of this study.
        var instances = region["instances"]!.AsArray().Select(n => n!.GetValue<string>()).ToList();
        Assert.Equal(26, instances.Count); // one contour per slice, 26 contours
        var sliceFiles = study.Segments.Where(g => g.Kind == SegmentKind.ImageSlice && g.Source.Frame == 0).ToDictionary(g => g.SegmentId, g => g.Source.File);
        var slices = region["slices"]!.AsArray().Select(n => n!.GetValue<string>()).ToList();
        Assert.Equal(instances, slices.Select(s => sliceFiles[s]));
        Assert.All(instances, u => Assert.StartsWith("2.25.", u));
        Assert.Equal(remap.Remap("1.3.6.1.4.1.9590.100.1.2.296658988911737913102339329841519593982"), region["series_instance_uid"]!.GetValue<string>());
        Assert.NotNull(region["object"]!["blob"]); // the RTSTRUCT itself, de-identified
        Assert.Equal(3, region["patient"]!.AsArray()[0]!.AsArray().Count);

        // The region segment: its label as text and its middle-slice crop embedded (similar-region search).
        var segment = study.Segments.Single(g => g.SegmentId == region["region_id"]!.GetValue<string>());
        Assert.Equal(SegmentKind.ImageRegion, segment.Kind);
        Assert.Equal("GTV-1", segment.Text);
        Assert.NotNull(segment.ImageEmbedding);
        Assert.Equal(region["slice"]!.GetValue<string>(), slices[slices.Count / 2]);

        // Re-ingesting the same folder changes nothing (the regions are part of the content hash, deterministically).
        var again = db.Ingest([dir]);
        Assert.Equal(0, again.Inserted + again.Updated);
    }

    [Fact]
    public void Seg_regions_carry_codes_and_remapped_source_instances_and_a_corrupt_seg_is_reported()
    {
        using var tmp = new TempDirectory();
        var dir = Directory.CreateDirectory(tmp["drop"]).FullName;
        File.Copy(SharedData.Require("dicom/highdicom/seg_image_ct_binary.dcm"), Path.Combine(dir, "seg.dcm"));
        // A SEG whose pixel data is cut short: its header reads, its regions cannot.
        var overlap = File.ReadAllBytes(SharedData.Require("dicom/highdicom/seg_image_ct_binary_overlap.dcm"));
        File.WriteAllBytes(Path.Combine(dir, "cut_seg.dcm"), overlap[..^40]);
        using var db = tmp.OpenDb();
        var r = db.Ingest([dir]);
        Assert.Contains(r.Errors, e => e.File.EndsWith("cut_seg.dcm"));

        var remap = new UidRemapper(PatientPseudonym.Load(tmp.KeyFile));
        var study = db.GetStudy(remap.Remap(SegStudyUid))!;
        var region = Assert.IsType<JsonObject>(Assert.Single(study.ImageRegions, n => n!["object"]?["sop_instance_uid"]?.GetValue<string>() == remap.Remap("1.2.826.0.1.3680043.10.511.3.13328978933257881317937615676904125")));
        Assert.Equal("SEG", region["source"]!.GetValue<string>());
        Assert.Equal("first segment", region["label"]!.GetValue<string>());
        Assert.Equal("272673000", region["type"]!["code"]!.GetValue<string>());
        Assert.Equal("SCT", region["type"]!["scheme"]!.GetValue<string>());
        Assert.Equal(127 + 256 + 255, region["voxel_count"]!.GetValue<long>());
        Assert.Equal(new[] { "94", "95", "96" }.Select(s => remap.Remap(CtUidPrefix + s)), region["instances"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal(-125.0, region["patient"]![0]![0]!.GetValue<double>(), 3);
    }

    [Fact]
    public void Regions_verb_prints_the_study_regions_as_json()
    {
        using var tmp = new TempDirectory();
        var dir = PhantomFolder(tmp);
        string studyId;
        using (var db = tmp.OpenDb())
        {
            db.Ingest([dir]);
            studyId = new UidRemapper(PatientPseudonym.Load(tmp.KeyFile)).Remap(PhantomStudyUid);
        }
        var (code, stdout, stderr) = CliProcess.Run(tmp.Path, tmp.KeyFile, TimeSpan.FromMinutes(2), "regions", studyId, "--db", tmp["db"], "--json");
        Assert.True(code == 0, stderr);
        var json = JsonNode.Parse(stdout)!.AsObject();
        Assert.Equal(studyId, json["study_id"]!.GetValue<string>());
        var region = json["regions"]!.AsArray().Single()!;
        Assert.Equal("RTSTRUCT", region["source"]!.GetValue<string>());
        Assert.Equal("GTV-1", region["label"]!.GetValue<string>());
        Assert.NotNull(region["pixel"]!["x"]);
        Assert.NotNull(region["features"]!["volume_mm3"]);

        var missing = CliProcess.Run(tmp.Path, tmp.KeyFile, TimeSpan.FromMinutes(2), "regions", "no-such-study", "--db", tmp["db"], "--json");
        Assert.NotEqual(0, missing.Code);
        Assert.Contains("no-such-study", missing.Stderr);
    }
}

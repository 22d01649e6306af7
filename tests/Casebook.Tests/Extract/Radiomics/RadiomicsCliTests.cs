using System.Text.Json;

namespace Casebook.Tests.Extract.Radiomics;

public class RadiomicsCliTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    [Fact]
    public void Radiomics_verb_prints_the_features_object_keyed_by_ibsi_labels()
    {
        using var dir = new TempDirectory();
        var image = SharedData.Require("radiomics/ibsi1_digital_phantom/nifti/image/phantom.nii.gz");
        var mask = SharedData.Require("radiomics/ibsi1_digital_phantom/nifti/mask/mask.nii.gz");
        var (code, stdout, stderr) = CliProcess.Run(dir.Path, Path.Combine(dir.Path, "key"), Timeout, "radiomics", image, mask, "--config", "dig", "--json");
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        Assert.Single(doc.RootElement.EnumerateObject());
        var features = doc.RootElement.GetProperty("features");
        Assert.Equal(2.15, features.GetProperty("stat_mean").GetDouble(), 2);
        Assert.Equal(556, features.GetProperty("morph_volume").GetDouble(), 0);
        Assert.Equal(0.324, features.GetProperty("int_vol_hist_volume_at_intensity_10").GetDouble(), 3);
        Assert.True(features.EnumerateObject().Count() >= 71);
    }

    [Fact]
    public void Radiomics_verb_rejects_unknown_configurations_and_mismatched_or_missing_masks()
    {
        using var dir = new TempDirectory();
        var key = Path.Combine(dir.Path, "key");
        var digital = SharedData.Require("radiomics/ibsi1_digital_phantom/nifti/image/phantom.nii.gz");
        var ctMask = SharedData.Require("radiomics/ibsi1_ct_phantom/nifti/mask/mask.nii.gz");

        var bad = CliProcess.Run(dir.Path, key, Timeout, "radiomics", digital, digital, "--config", "Z", "--json");
        Assert.Equal(2, bad.Code);
        Assert.Contains("--config", bad.Stderr);

        var mismatch = CliProcess.Run(dir.Path, key, Timeout, "radiomics", digital, ctMask, "--json");
        Assert.Equal(1, mismatch.Code);
        Assert.Contains("differs from the image grid", mismatch.Stderr);
        Assert.Equal("", mismatch.Stdout);

        var missing = CliProcess.Run(dir.Path, key, Timeout, "radiomics", digital, Path.Combine(dir.Path, "nope.nii.gz"), "--json");
        Assert.Equal(1, missing.Code);
        Assert.Contains("nope.nii.gz", missing.Stderr);
    }
}

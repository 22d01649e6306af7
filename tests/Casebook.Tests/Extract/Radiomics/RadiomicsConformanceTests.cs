using System.Collections.Concurrent;
using System.Globalization;
using Casebook.Extract.Radiomics;
using Casebook.Extract.Volumes;

namespace Casebook.Tests.Extract.Radiomics;

/// <summary>Reads the IBSI phantoms once per test run and computes each configuration at most once.</summary>
public sealed class IbsiPhantoms
{
    readonly Lazy<(ImageVolume Image, ImageVolume Mask)> _digital = new(() => Load("ibsi1_digital_phantom"));
    readonly Lazy<(ImageVolume Image, ImageVolume Mask)> _ct = new(() => Load("ibsi1_ct_phantom"));
    readonly Lazy<(ImageVolume Image, ImageVolume Mask)> _ctDicom = new(() =>
    {
        var image = VolumeInputs.ReadImage(SharedData.Require("radiomics/ibsi1_ct_phantom/dicom/image"));
        return (image, VolumeInputs.ReadMask(SharedData.Require("radiomics/ibsi1_ct_phantom/dicom/mask"), image));
    });
    readonly ConcurrentDictionary<string, Lazy<IReadOnlyDictionary<string, double>>> _features = new();

    static (ImageVolume, ImageVolume) Load(string name) =>
        (NiftiReader.Read(SharedData.Require($"radiomics/{name}/nifti/image/phantom.nii.gz")),
         NiftiReader.Read(SharedData.Require($"radiomics/{name}/nifti/mask/mask.nii.gz")));

    public (ImageVolume Image, ImageVolume Mask) Digital => _digital.Value;
    public (ImageVolume Image, ImageVolume Mask) Ct => _ct.Value;
    /// <summary>The CT phantom as its DICOM series with the GTV from its RT Structure Set.</summary>
    public (ImageVolume Image, ImageVolume Mask) CtDicom => _ctDicom.Value;

    public IReadOnlyDictionary<string, double> Features(string config) =>
        _features.GetOrAdd(config, c => new Lazy<IReadOnlyDictionary<string, double>>(() =>
        {
            var (image, mask) = c == "dig" ? Digital : c.StartsWith("dicom-") ? CtDicom : Ct;
            return Casebook.Extract.Radiomics.Radiomics.Compute(image, mask, RadiomicsSettings.Preset(c.Replace("dicom-", "")));
        })).Value;

    public static IReadOnlyList<(string Key, double Value, double Tolerance)> References(string config)
    {
        var data = config == "dig" ? "dig. phantom" : $"config. {config}";
        var rows = new List<(string, double, double)>();
        foreach (var line in File.ReadLines(SharedData.Require("radiomics/ibsi1_reference_values.csv")).Skip(1))
        {
            var f = line.Split(',');
            if (f[3] != data) continue;
            rows.Add((f[0], double.Parse(f[4], CultureInfo.InvariantCulture), double.Parse(f[5], CultureInfo.InvariantCulture)));
        }
        return rows;
    }
}

public class RadiomicsConformanceTests(IbsiPhantoms phantoms) : IClassFixture<IbsiPhantoms>
{
    /// <summary>Families this module implements; texture keys (cm_, rlm_, szm_, dzm_, ngt_, ngl_) belong to the texture module.</summary>
    static bool NonTexture(string key) =>
        key.StartsWith("morph_") || key.StartsWith("loc_int_") || key.StartsWith("stat_") || key.StartsWith("int_hist_") ||
        key.StartsWith("int_quartile") || key.StartsWith("int_vol_hist_");

    [Theory]
    [InlineData("dig")]
    [InlineData("A")]
    [InlineData("B")]
    [InlineData("C")]
    [InlineData("D")]
    [InlineData("E")]
    public void Every_reference_feature_is_within_the_ibsi_tolerance(string config)
    {
        var features = phantoms.Features(config);
        var refs = IbsiPhantoms.References(config).Where(r => NonTexture(r.Key)).ToList();
        Assert.True(refs.Count >= 66, $"expected the CSV to list at least 66 non-texture features for {config}, found {refs.Count}");
        var failures = new List<string>();
        foreach (var (key, value, tolerance) in refs)
        {
            if (!features.TryGetValue(key, out var got)) { failures.Add($"{key}: not computed"); continue; }
            // The CSV's tolerance is the published one (or half a unit of the last printed digit).
            if (!(Math.Abs(got - value) <= tolerance * (1 + 1e-9) + 1e-12)) failures.Add($"{key}: {got:G6}, reference {value:G6} ± {tolerance:G3}");
        }
        Assert.True(failures.Count == 0, $"{config}: {failures.Count} of {refs.Count} outside tolerance:\n" + string.Join("\n", failures));
    }

    [Theory]
    [InlineData("A")]
    [InlineData("B")]
    public void Dicom_series_with_rtstruct_mask_meets_the_same_references(string config)
    {
        var features = phantoms.Features("dicom-" + config);
        var failures = IbsiPhantoms.References(config).Where(r => NonTexture(r.Key))
            .Where(r => !features.TryGetValue(r.Key, out var got) || !(Math.Abs(got - r.Value) <= r.Tolerance * (1 + 1e-9) + 1e-12))
            .Select(r => $"{r.Key}: {features.GetValueOrDefault(r.Key, double.NaN):G6}, reference {r.Value:G6} ± {r.Tolerance:G3}").ToList();
        Assert.True(failures.Count == 0, $"DICOM + RTSTRUCT, {config}:\n" + string.Join("\n", failures));
    }

    [Fact]
    public void Discretised_roi_for_texture_holds_the_phantom_grey_levels_and_zero_outside()
    {
        var (image, mask) = phantoms.Digital;
        var roi = Casebook.Extract.Radiomics.Radiomics.Discretise(image, mask, RadiomicsSettings.Preset("dig"));
        Assert.Equal(6, roi.LevelCount);
        Assert.Equal([2.0, 2.0, 2.0], roi.Spacing);
        Assert.Equal(roi.Nx * roi.Ny * roi.Nz, roi.Levels.Length);
        Assert.Equal(74, roi.Levels.Count(l => l > 0));            // 592 mm³ / 8 mm³ per voxel
        Assert.Equal(Enumerable.Range(1, 6).Where(l => l is not (2 or 5)), roi.Levels.Where(l => l > 0).Distinct().Order());

        // The texture hook receives exactly this ROI, and its features join the result.
        DiscretisedRoi? seen = null;
        var f = Casebook.Extract.Radiomics.Radiomics.Compute(image, mask, RadiomicsSettings.Preset("dig"), (r, s) =>
        {
            seen = r;
            return new Dictionary<string, double> { ["test_levels"] = r.Levels.Count(l => l > 0) };
        });
        Assert.NotNull(seen);
        Assert.Equal(74, f["test_levels"]);
    }

    [Fact]
    public void Ct_configuration_b_discretises_into_32_bins_on_a_2mm_in_plane_grid()
    {
        var (image, mask) = phantoms.Ct;
        var roi = Casebook.Extract.Radiomics.Radiomics.Discretise(image, mask, RadiomicsSettings.Preset("B"));
        Assert.Equal(32, roi.LevelCount);
        Assert.Equal(2.0, roi.Spacing[0]); Assert.Equal(2.0, roi.Spacing[1]); Assert.Equal(image.Spacing[2], roi.Spacing[2], 6);
        Assert.Equal(1, roi.Levels.Where(l => l > 0).Min());
        Assert.Equal(32, roi.Levels.Max());
    }
}

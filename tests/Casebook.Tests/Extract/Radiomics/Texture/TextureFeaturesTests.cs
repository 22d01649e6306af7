using Casebook.Extract.Radiomics;
using Casebook.Extract.Radiomics.Texture;
using Casebook.Extract.Volumes;
using Xunit.Abstractions;

namespace Casebook.Tests.Extract.Radiomics.Texture;

public class TextureFeaturesTests(ITestOutputHelper log)
{
    /// <summary>
    /// The IBSI digital phantom as the texture families see it: its intensities are already the grey levels 1..6, so
    /// the level of a voxel inside the mask is its intensity (manual, benchmark data sets: no discretisation).
    /// </summary>
    static DiscretisedRoi DigitalPhantom()
    {
        var image = NiftiReader.Read(SharedData.Require("radiomics/ibsi1_digital_phantom/nifti/image/phantom.nii.gz"));
        var mask = NiftiReader.Read(SharedData.Require("radiomics/ibsi1_digital_phantom/nifti/mask/mask.nii.gz"));
        var levels = new int[image.Count];
        for (var i = 0; i < levels.Length; i++) levels[i] = mask.Voxels[i] > 0.5f ? (int)Math.Round(image.Voxels[i]) : 0;
        return new DiscretisedRoi { Nx = image.Nx, Ny = image.Ny, Nz = image.Nz, Spacing = image.Spacing, Levels = levels, LevelCount = levels.Max() };
    }

    [Fact]
    public void Digital_phantom_matches_every_ibsi_texture_reference_value()
    {
        var features = TextureFeatures.Compute(DigitalPhantom());
        var references = TextureReference.Load("dig. phantom");
        Assert.Equal(408, references.Count);
        var failures = Check(features, references);
        Assert.True(failures.Count == 0, $"{failures.Count} of {references.Count} outside tolerance:\n" + string.Join("\n", failures));
    }

    /// <summary>
    /// The IBSI CT phantom under configuration A (manual, benchmark chapter): 2D, no interpolation, intensities rounded,
    /// intensity mask re-segmented to [−500, 400] HU, fixed bin size 25 HU from −500, so N_g = 900/25 = 36 bins. The
    /// morphological mask stays the delineated one. Done here in a few lines because configuration A needs no
    /// interpolation; the full pipeline (all configurations) is the Radiomics class's.
    /// </summary>
    static DiscretisedRoi CtPhantomConfigurationA(bool withMorphologicalMask)
    {
        var image = NiftiReader.Read(SharedData.Require("radiomics/ibsi1_ct_phantom/nifti/image/phantom.nii.gz"));
        var mask = NiftiReader.Read(SharedData.Require("radiomics/ibsi1_ct_phantom/nifti/mask/mask.nii.gz"));
        int x0 = int.MaxValue, y0 = int.MaxValue, z0 = int.MaxValue, x1 = -1, y1 = -1, z1 = -1;
        for (var z = 0; z < image.Nz; z++)
            for (var y = 0; y < image.Ny; y++)
                for (var x = 0; x < image.Nx; x++)
                    if (mask[x, y, z] > 0.5f)
                    {
                        x0 = Math.Min(x0, x); x1 = Math.Max(x1, x); y0 = Math.Min(y0, y); y1 = Math.Max(y1, y); z0 = Math.Min(z0, z); z1 = Math.Max(z1, z);
                    }
        // Cropped to the morphological mask's bounding box, so the GLDZM edge distances see all of that mask.
        int nx = x1 - x0 + 1, ny = y1 - y0 + 1, nz = z1 - z0 + 1;
        const int levelCount = 36;
        var levels = new int[nx * ny * nz];
        var morphological = new bool[levels.Length];
        for (var z = 0; z < nz; z++)
            for (var y = 0; y < ny; y++)
                for (var x = 0; x < nx; x++)
                {
                    if (mask[x + x0, y + y0, z + z0] <= 0.5f) continue;
                    var o = x + nx * (y + ny * z);
                    morphological[o] = true;
                    var hu = Math.Round(image[x + x0, y + y0, z + z0]);
                    if (hu < -500 || hu > 400) continue;
                    levels[o] = Math.Min(levelCount, (int)Math.Floor((hu + 500) / 25) + 1);
                }
        return new DiscretisedRoi
        {
            Nx = nx, Ny = ny, Nz = nz, Spacing = image.Spacing, Levels = levels, LevelCount = levelCount,
            MorphologicalMask = withMorphologicalMask ? morphological : null,
        };
    }

    [Fact]
    public void Ct_phantom_configuration_a_matches_every_ibsi_texture_reference_value()
    {
        var slicewise = new TextureSettings { Volumetric = false };
        var features = TextureFeatures.Compute(CtPhantomConfigurationA(true), slicewise);
        var references = TextureReference.Load("config. A");
        Assert.Equal(272, references.Count);
        var failures = Check(features, references);
        Assert.True(failures.Count == 0, $"{failures.Count} of {references.Count} outside tolerance:\n" + string.Join("\n", failures));

        // The GLDZM distances come from the morphological mask: measured from the re-segmented intensity mask instead,
        // the zones sit nearer the (now ragged) edge and the manual's values are missed.
        var fromIntensityMask = TextureFeatures.Compute(CtPhantomConfigurationA(false), slicewise with { Families = TextureFamilies.Gldzm });
        var lde = references.Single(r => r.Key == "dzm_lde_2d");
        Assert.True(lde.Matches(features["dzm_lde_2d"]));
        Assert.False(lde.Matches(fromIntensityMask["dzm_lde_2d"]));
    }

    [Theory]
    [InlineData("A")]
    [InlineData("B")]
    [InlineData("C")]
    [InlineData("D")]
    [InlineData("E")]
    public void Ct_phantom_through_the_radiomics_pipeline_matches_every_ibsi_texture_reference_value(string configuration)
    {
        // Interpolation (B: 2×2 mm in-plane; C–E: 2 mm isotropic), rounding, re-segmentation and discretisation are the Radiomics pipeline's;
        // the texture hook it is given is the one the radiomics verb uses.
        var image = NiftiReader.Read(SharedData.Require("radiomics/ibsi1_ct_phantom/nifti/image/phantom.nii.gz"));
        var mask = NiftiReader.Read(SharedData.Require("radiomics/ibsi1_ct_phantom/nifti/mask/mask.nii.gz"));
        var settings = RadiomicsSettings.Preset(configuration);
        var roi = Casebook.Extract.Radiomics.Radiomics.Discretise(image, mask, settings);
        var features = TextureFeatures.ForRadiomics(roi, settings);
        var references = TextureReference.Load("config. " + configuration);
        if (settings.TwoDimensional)
        {
            Assert.NotNull(roi.MorphologicalMask);   // re-segmentation to [−500, 400] HU leaves the two masks different
            Assert.DoesNotContain(features.Keys, k => k.Contains("_3d"));   // 2D configuration: slice-wise aggregations only
        }
        // The manual lists 2D and 2.5D values for A and B (25·4 + 16·4 + (16+16+5+17)·2), 3D ones for C–E (half as many).
        Assert.Equal(settings.TwoDimensional ? 272 : 136, references.Count);
        var failures = Check(features, references);
        Assert.True(failures.Count == 0, $"{failures.Count} of {references.Count} outside tolerance:\n" + string.Join("\n", failures));
    }

    /// <summary>Compares, logs a pass count per family and aggregation, and returns the mismatches.</summary>
    List<string> Check(IReadOnlyDictionary<string, double> features, IReadOnlyList<TextureReferenceValue> references)
    {
        var failures = new List<string>();
        foreach (var group in references.GroupBy(r => (r.Family, r.Aggregation)))
        {
            var passed = 0;
            foreach (var r in group)
            {
                if (!features.TryGetValue(r.Key, out var v)) { failures.Add($"{r.Key}: not computed"); continue; }
                if (r.Matches(v)) passed++;
                else failures.Add($"{r.Key}: {v:G6}, reference {r.Value} ± {r.Tolerance:G3}");
            }
            log.WriteLine($"{group.Key.Family} {group.Key.Aggregation}: {passed}/{group.Count()}");
        }
        return failures;
    }

    [Fact]
    public void Every_family_and_aggregation_yields_the_manuals_keys()
    {
        var features = TextureFeatures.Compute(DigitalPhantom());
        // 25 GLCM × 6 + 16 GLRLM × 6 + 16 GLSZM × 3 + 16 GLDZM × 3 + 5 NGTDM × 3 + 17 NGLDM × 3 aggregations.
        Assert.Equal(25 * 6 + 16 * 6 + 16 * 3 + 16 * 3 + 5 * 3 + 17 * 3, features.Count);
        Assert.Contains("cm_joint_max_d1_2.5d_v_mrg", features.Keys);
        Assert.Contains("ngl_dc_energy_d1_a0.0_3d", features.Keys);
        Assert.Contains("ngt_strength_2.5d", features.Keys);
    }

    [Fact]
    public void Settings_select_families_aggregations_and_neighbourhoods()
    {
        var roi = DigitalPhantom();
        var only3d = TextureFeatures.Compute(roi, new TextureSettings { Families = TextureFamilies.Glcm | TextureFamilies.Ngldm, Slicewise = false, GlcmDistance = 2, NgldmCoarseness = 1 });
        Assert.All(only3d.Keys, k => Assert.True(k.StartsWith("cm_", StringComparison.Ordinal) || k.StartsWith("ngl_", StringComparison.Ordinal)));
        Assert.All(only3d.Keys, k => Assert.Contains("_3d", k));
        Assert.Contains("cm_contrast_d2_3d_avg", only3d.Keys);
        Assert.Contains("ngl_lde_d1_a1.0_3d", only3d.Keys);
        // A coarser dependence criterion makes more neighbours dependent, so low dependence emphasis can only fall.
        Assert.True(only3d["ngl_lde_d1_a1.0_3d"] < TextureFeatures.Compute(roi)["ngl_lde_d1_a0.0_3d"]);
    }

    [Fact]
    public void A_uniform_block_has_the_closed_form_values()
    {
        // 3×3×3 voxels of one level: every co-occurrence is (1,1), every zone is the whole block, no grey tone differs.
        var roi = new DiscretisedRoi { Nx = 3, Ny = 3, Nz = 3, Levels = Enumerable.Repeat(1, 27).ToArray(), LevelCount = 1 };
        var f = TextureFeatures.Compute(roi);
        Assert.Equal(1.0, f["cm_joint_max_d1_3d_v_mrg"]);
        Assert.Equal(0.0, f["cm_joint_entr_d1_3d_v_mrg"]);
        Assert.Equal(1.0, f["szm_z_perc_3d"] * 27);                 // one zone of 27 voxels
        Assert.Equal(27.0 * 27, f["szm_lze_3d"]);
        Assert.Equal(1.0, f["dzm_lde_3d"]);                         // a zone's distance is its nearest voxel's: the edge, 1
        Assert.Equal(1e6, f["ngt_coarseness_3d"]);                  // Σ p s = 0: the manual's cap
        // Dependence counts: 8 corners see 7 neighbours (j=8), 12 edges 11, 6 faces 17, the centre 26: Σj²/27 = 4913/27.
        Assert.Equal(4913.0 / 27, f["ngl_hde_d1_a0.0_3d"], 9);
        // Per 3×3 slice: 3 runs along x, 3 along y, 5 along each diagonal (lengths 1,2,3,2,1) → 48 runs over 3 slices,
        // against N_v summed over the 4 directions (4 × 27).
        Assert.Equal(48.0 / 108, f["rlm_r_perc_2.5d_v_mrg"], 12);
    }

    [Fact]
    public void Bad_input_names_the_field_and_reason()
    {
        var wrongSize = new DiscretisedRoi { Nx = 2, Ny = 2, Nz = 2, Levels = [1, 1, 1], LevelCount = 1 };
        Assert.Contains("do not fill", Assert.Throws<ArgumentException>(() => TextureFeatures.Compute(wrongSize)).Message);
        var badLevel = new DiscretisedRoi { Nx = 2, Ny = 1, Nz = 1, Levels = [1, 7], LevelCount = 3 };
        Assert.Contains("grey level 7", Assert.Throws<ArgumentException>(() => TextureFeatures.Compute(badLevel)).Message);
    }
}

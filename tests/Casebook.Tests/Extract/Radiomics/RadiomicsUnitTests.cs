using Casebook.Extract.Radiomics;
using Casebook.Extract.Volumes;

namespace Casebook.Tests.Extract.Radiomics;

public class RadiomicsUnitTests
{
    static ImageVolume Volume(int nx, int ny, int nz, Func<int, int, int, float> value, double[]? spacing = null, double[]? origin = null)
    {
        var v = new float[nx * ny * nz];
        for (var z = 0; z < nz; z++) for (var y = 0; y < ny; y++) for (var x = 0; x < nx; x++) v[x + nx * (y + ny * z)] = value(x, y, z);
        return new ImageVolume(nx, ny, nz, spacing ?? [1, 1, 1], origin ?? [0, 0, 0], ImageVolume.Identity, v);
    }

    [Fact]
    public void Marching_cubes_turns_one_voxel_into_an_octahedron_and_a_block_into_a_closed_surface()
    {
        var one = MarchingCubes.Build([true], 1, 1, 1, [1, 1, 1]);
        Assert.Equal(1.0 / 6, one.Volume(), 9);          // octahedron with vertices half a voxel from the centre
        Assert.Equal(Math.Sqrt(3), one.Area(), 9);

        // A 4×3×2 block of 2 mm voxels: every edge is shared by exactly two triangles, in opposite directions.
        var block = MarchingCubes.Build(Enumerable.Repeat(true, 24).ToArray(), 4, 3, 2, [2, 2, 2]);
        var edges = new Dictionary<(int, int), int>();
        for (var t = 0; t < block.Triangles.Length; t += 3)
            for (var k = 0; k < 3; k++)
            {
                var e = (block.Triangles[t + k], block.Triangles[t + (k + 1) % 3]);
                edges[e] = edges.GetValueOrDefault(e) + 1;
            }
        Assert.All(edges, e => { Assert.Equal(1, e.Value); Assert.True(edges.ContainsKey((e.Key.Item2, e.Key.Item1))); });
        Assert.InRange(block.Volume(), 0.8 * 24 * 8, 24 * 8);
    }

    [Fact]
    public void Convex_hull_of_a_cube_has_its_volume_and_area()
    {
        var pts = new List<double>();
        for (var z = 0; z <= 4; z++) for (var y = 0; y <= 4; y++) for (var x = 0; x <= 4; x++) pts.AddRange([x * 0.5, y * 0.5, z * 0.5]);
        var hull = ConvexHull.Build(pts.ToArray())!;
        Assert.Equal(8, hull.Volume(), 9);
        Assert.Equal(24, hull.Area(), 9);
    }

    [Fact]
    public void Ellipsoid_area_series_matches_the_sphere_and_a_known_spheroid()
    {
        Assert.Equal(4 * Math.PI * 9, MorphologyFeatures.EllipsoidArea(3, 3, 3), 9);
        // a=2, b=c=1: α = β = √0.75, so the Legendre argument is 1 and P_ν(1) = 1: the manual's series reduces to
        // 4πab Σ_{ν≤20} 0.75^ν/(1 − 4ν²). (That series, as the manual prints it, is what the IBSI reference values use.)
        var expected = 4 * Math.PI * 2 * Enumerable.Range(0, 21).Sum(nu => Math.Pow(0.75, nu) / (1 - 4.0 * nu * nu));
        Assert.Equal(expected, MorphologyFeatures.EllipsoidArea(2, 1, 1), 9);
    }

    [Fact]
    public void Morans_i_and_gearys_c_by_fft_equal_the_pairwise_sums()
    {
        var rng = new Random(7);
        int nx = 9, ny = 7, nz = 5;
        var image = new float[nx * ny * nz];
        var mask = new bool[image.Length];
        for (var i = 0; i < image.Length; i++) { image[i] = rng.Next(-50, 200); mask[i] = rng.NextDouble() < 0.6; }
        double[] spacing = [0.8, 0.8, 2.5];
        var fast = SpatialAutocorrelation.Compute(image, mask, nx, ny, nz, spacing);
        var slow = SpatialAutocorrelation.Direct(image, mask, nx, ny, nz, spacing);
        Assert.Equal(slow.MoranI, fast.MoranI, 9);
        Assert.Equal(slow.GearyC, fast.GearyC, 9);
    }

    [Fact]
    public void Sampled_morans_i_for_huge_rois_approximates_the_exact_value()
    {
        // A smooth gradient plus noise: strongly autocorrelated, like tissue.
        int nx = 40, ny = 40, nz = 16;
        var rng = new Random(3);
        var image = new float[nx * ny * nz];
        var mask = new bool[image.Length];
        for (var z = 0; z < nz; z++) for (var y = 0; y < ny; y++) for (var x = 0; x < nx; x++)
        {
            var i = x + nx * (y + ny * z);
            image[i] = (float)(3 * x + 2 * y + rng.NextDouble() * 20);
            mask[i] = (x - 20) * (x - 20) + (y - 20) * (y - 20) < 300;
        }
        double[] spacing = [1, 1, 2];
        var exact = SpatialAutocorrelation.Compute(image, mask, nx, ny, nz, spacing);
        var sampled = SpatialAutocorrelation.Sampled(image, mask, nx, ny, nz, spacing);
        Assert.InRange(sampled.MoranI, exact.MoranI * 0.97, exact.MoranI * 1.03);
        Assert.InRange(sampled.GearyC, exact.GearyC * 0.97, exact.GearyC * 1.03);
    }

    [Fact]
    public void Interpolation_grid_is_centred_on_the_original_and_rounded_up()
    {
        // CT phantom in-plane: 204 voxels of 0.977 mm → ceil(99.6) = 100 voxels of 2 mm sharing the centre.
        var p = ImageProcessing.GridPositions(204, 0.977, 2);
        Assert.Equal(100, p.Length);
        Assert.Equal(101.5, (p[0] + p[^1]) / 2, 9);
        Assert.Equal(2 / 0.977, p[1] - p[0], 9);
        // Slices of 3 mm to 2 mm: 60 → 90.
        Assert.Equal(90, ImageProcessing.GridPositions(60, 3, 2).Length);
    }

    [Fact]
    public void Fixed_bin_size_starts_at_the_range_minimum_and_fixed_bin_number_spans_the_roi()
    {
        Assert.Equal([1, 1, 2, 37], Discretisation.FixedBinSize([-500, -476, -475, 400], 25, -500));
        Assert.Equal([1, 2, 3, 3], Discretisation.FixedBinNumber([0, 0.34, 0.9, 1], 3));
    }

    [Fact]
    public void A_mask_on_another_grid_an_empty_mask_and_a_fully_resegmented_roi_fail_clearly()
    {
        var image = Volume(6, 6, 4, (x, y, z) => x + y);
        var shifted = Volume(6, 6, 4, (x, y, z) => 1, origin: [0, 0, 5]);
        var e1 = Assert.Throws<ArgumentException>(() => Casebook.Extract.Radiomics.Radiomics.Compute(image, shifted, RadiomicsSettings.Preset("dig")));
        Assert.Contains("mask grid", e1.Message);
        var smaller = Volume(5, 6, 4, (x, y, z) => 1);
        Assert.Contains("differs from the image grid", Assert.Throws<ArgumentException>(() => Casebook.Extract.Radiomics.Radiomics.Compute(image, smaller, RadiomicsSettings.Preset("A"))).Message);

        var empty = Volume(6, 6, 4, (x, y, z) => 0);
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => Casebook.Extract.Radiomics.Radiomics.Compute(image, empty, RadiomicsSettings.Preset("dig"))).Message);

        var cube = Volume(6, 6, 4, (x, y, z) => x is > 0 and < 5 && y is > 0 and < 5 && z is > 0 and < 3 ? 1 : 0);
        var hot = Volume(6, 6, 4, (x, y, z) => 3000);
        Assert.Contains("re-segmentation", Assert.Throws<ArgumentException>(() => Casebook.Extract.Radiomics.Radiomics.Compute(hot, cube, RadiomicsSettings.Preset("A"))).Message);
    }

    [Fact]
    public void A_uniform_cube_has_zero_spread_and_the_mesh_volume_below_the_voxel_count()
    {
        var image = Volume(8, 8, 8, (x, y, z) => 40);
        var mask = Volume(8, 8, 8, (x, y, z) => x is >= 2 and < 6 && y is >= 2 and < 6 && z is >= 2 and < 6 ? 1 : 0, spacing: [2, 2, 2]);
        image = new ImageVolume(8, 8, 8, [2, 2, 2], [0, 0, 0], ImageVolume.Identity, image.Voxels);
        var f = Casebook.Extract.Radiomics.Radiomics.Compute(image, mask, RadiomicsSettings.Preset("D"));
        Assert.Equal(40, f["stat_mean"]);
        Assert.Equal(0, f["stat_variance"]);
        Assert.Equal(64 * 8, f["morph_approx_volume"]);
        Assert.InRange(f["morph_volume"], 0.8 * 512, 512);
        Assert.Equal(40, f["loc_int_global_peak"]);
    }
}

public class RadiomicsInputTests
{
    [Fact]
    public void Mask_inputs_that_are_not_a_single_roi_fail_with_the_file_and_the_reason()
    {
        var grid = new ImageVolume(4, 4, 4, [1, 1, 1], [0, 0, 0], ImageVolume.Identity, new float[64]);
        var imageFolder = SharedData.Require("radiomics/ibsi1_ct_phantom/dicom/image");
        var e1 = Assert.Throws<VolumeFormatException>(() => VolumeInputs.ReadMask(imageFolder, grid));
        Assert.Contains("exactly one RTSTRUCT or SEG", e1.Message);

        var rtstruct = Directory.GetFiles(SharedData.Require("radiomics/ibsi1_ct_phantom/dicom/mask")).Single();
        var e2 = Assert.Throws<VolumeFormatException>(() => VolumeInputs.ReadMask(rtstruct, grid, "no-such-roi"));
        Assert.Contains("no ROI 'no-such-roi'", e2.Message);
        Assert.Contains("GTV", e2.Message);   // lists the ROIs the file has

        var e3 = Assert.Throws<VolumeFormatException>(() => VolumeInputs.ReadImage("/nonexistent/ct.nii.gz"));
        Assert.Contains("/nonexistent/ct.nii.gz", e3.Message);
    }
}

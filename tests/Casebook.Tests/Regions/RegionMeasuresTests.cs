using System.Text.Json.Nodes;
using Casebook.Extract.Volumes;
using Casebook.Regions;

namespace Casebook.Tests.Regions;

public class RegionMeasuresTests
{
    static ImageVolume Grid(int nx, int ny, int nz, double[] spacing, double[] origin) =>
        new(nx, ny, nz, spacing, origin, ImageVolume.Identity, new float[nx * ny * nz]);

    [Fact]
    public void A_mask_on_a_subset_of_the_slices_lands_on_the_matching_image_voxels()
    {
        // Image: 20×20×10 at 1×1×2 mm from (0,0,0). Mask (as a SEG covering slices 4..6 only): 20×20×3 from z = 8 mm.
        var image = Grid(20, 20, 10, [1, 1, 2], [0, 0, 0]);
        var mask = Grid(20, 20, 3, [1, 1, 2], [0, 0, 8]);
        for (var z = 0; z < 3; z++) for (var y = 5; y < 9; y++) for (var x = 2; x < 7; x++) mask[x, y, z] = 1;
        var on = RegionMeasures.OnGrid(mask, image)!;
        Assert.True(on.SameGrid(image));
        Assert.Equal(3 * 4 * 5, on.Voxels.Count(v => v > 0));
        Assert.Equal([4, 5, 6], MaskExtent.Slices(on));
        Assert.Equal(1f, on[2, 5, 4]);
        Assert.Equal(0f, on[2, 5, 3]);

        var region = new JsonObject();
        Assert.True(RegionMeasures.Describe(region, on, patientCoordinates: true));
        Assert.Equal(60, region["voxel_count"]!.GetValue<long>());
        Assert.Equal(60 * 2.0, region["volume_mm3"]!.GetValue<double>());
        Assert.Equal(2, region["pixel"]!["x"]!.GetValue<int>());
        Assert.Equal(4, region["pixel"]!["z"]!.GetValue<int>());
        Assert.Equal(3, region["pixel"]!["d"]!.GetValue<int>());
        Assert.Equal(8.0, region["patient"]![0]![2]!.GetValue<double>());
    }

    [Fact]
    public void A_mask_outside_the_image_does_not_overlap_and_an_empty_mask_is_not_described()
    {
        var image = Grid(10, 10, 5, [1, 1, 1], [0, 0, 0]);
        var far = Grid(4, 4, 2, [1, 1, 1], [100, 100, 100]);
        far[1, 1, 1] = 1;
        Assert.Null(RegionMeasures.OnGrid(far, image));
        Assert.False(RegionMeasures.Describe(new JsonObject(), image.EmptyLike(), true));
    }

    [Fact]
    public void Features_of_a_cube_have_its_volume_statistics_and_a_sphericity_below_one()
    {
        var image = Grid(12, 12, 12, [1, 1, 1], [0, 0, 0]);
        var mask = image.EmptyLike();
        for (var z = 2; z < 10; z++) for (var y = 2; y < 10; y++) for (var x = 2; x < 10; x++) { mask[x, y, z] = 1; image[x, y, z] = x; }
        var f = RegionMeasures.Features(mask, image);
        Assert.Equal(512, f["voxel_count"]!.GetValue<long>());
        Assert.Equal(512.0, f["volume_mm3"]!.GetValue<double>());
        Assert.Equal(5.5, f["mean"]!.GetValue<double>(), 6);
        Assert.Equal(2.0, f["min"]!.GetValue<double>());
        Assert.Equal(9.0, f["max"]!.GetValue<double>());
        // A cube is less spherical than a sphere: IBSI mesh sphericity of a voxel cube is about 0.8.
        Assert.InRange(f["sphericity"]!.GetValue<double>(), 0.7, 0.9);
        // Without the image only the shape features.
        var shapeOnly = RegionMeasures.Features(mask, null);
        Assert.NotNull(shapeOnly["sphericity"]);
        Assert.Null(shapeOnly["mean"]);
        Assert.Null(shapeOnly["entropy"]);
    }
}

using System.Text.Json.Nodes;
using Casebook.Extract.Radiomics;
using Casebook.Extract.Volumes;

namespace Casebook.Regions;

/// <summary>Where a mask lies: its voxel bounding box (inclusive) and voxel count.</summary>
public sealed record MaskExtent(int X0, int Y0, int Z0, int X1, int Y1, int Z1, long Voxels)
{
    public static MaskExtent? Of(ImageVolume mask)
    {
        int x0 = int.MaxValue, y0 = int.MaxValue, z0 = int.MaxValue, x1 = -1, y1 = -1, z1 = -1;
        long n = 0;
        var v = mask.Voxels;
        for (var z = 0; z < mask.Nz; z++)
            for (var y = 0; y < mask.Ny; y++)
            {
                var row = mask.Index(0, y, z);
                for (var x = 0; x < mask.Nx; x++)
                {
                    if (v[row + x] <= 0.5f) continue;
                    n++;
                    if (x < x0) x0 = x; if (x > x1) x1 = x;
                    if (y < y0) y0 = y; if (y > y1) y1 = y;
                    if (z < z0) z0 = z; if (z > z1) z1 = z;
                }
            }
        return n == 0 ? null : new MaskExtent(x0, y0, z0, x1, y1, z1, n);
    }

    /// <summary>z indices that hold at least one voxel of the mask.</summary>
    public static List<int> Slices(ImageVolume mask)
    {
        var list = new List<int>();
        var plane = mask.Nx * mask.Ny;
        for (var z = 0; z < mask.Nz; z++)
            if (mask.Voxels.AsSpan(z * plane, plane).IndexOfAnyExcept(0f) >= 0) list.Add(z);
        return list;
    }
}

/// <summary>
/// What a region entry of <c>image_regions</c> says about its mask: bounding box in pixel and patient coordinates, voxel
/// count, volume (mm³) or area (mm² for one-plane masks), and features. Features are computed on the image grid (the mask
/// resampled onto it by nearest voxel centre when the grids differ, e.g. a SEG that covers only some CT slices).
/// </summary>
public static class RegionMeasures
{
    /// <summary>
    /// The mask on <paramref name="image"/>'s grid: the same object when the grids agree, else each image voxel takes the mask
    /// value at its centre (nearest mask voxel). Null when the mask does not overlap the image at all.
    /// </summary>
    public static ImageVolume? OnGrid(ImageVolume mask, ImageVolume image)
    {
        if (mask.SameGrid(image)) return mask;
        var extent = MaskExtent.Of(mask);
        if (extent == null) return null;
        // Only image voxels near the mask's bounding box can take a mask value: visit those, not the whole series.
        int[] lo = [int.MaxValue, int.MaxValue, int.MaxValue], hi = [int.MinValue, int.MinValue, int.MinValue];
        foreach (var cx in new[] { extent.X0 - 0.5, extent.X1 + 0.5 })
            foreach (var cy in new[] { extent.Y0 - 0.5, extent.Y1 + 0.5 })
                foreach (var cz in new[] { extent.Z0 - 0.5, extent.Z1 + 0.5 })
                {
                    var p = mask.ToPatient(cx, cy, cz);
                    var v = image.ToVoxel(p[0], p[1], p[2]);
                    for (var a = 0; a < 3; a++) { lo[a] = Math.Min(lo[a], (int)Math.Floor(v[a])); hi[a] = Math.Max(hi[a], (int)Math.Ceiling(v[a])); }
                }
        int x0 = Math.Max(0, lo[0]), y0 = Math.Max(0, lo[1]), z0 = Math.Max(0, lo[2]);
        int x1 = Math.Min(image.Nx - 1, hi[0]), y1 = Math.Min(image.Ny - 1, hi[1]), z1 = Math.Min(image.Nz - 1, hi[2]);
        var result = image.EmptyLike();
        var any = false;
        for (var z = z0; z <= z1; z++)
            for (var y = y0; y <= y1; y++)
                for (var x = x0; x <= x1; x++)
                {
                    var p = image.ToPatient(x, y, z);
                    var m = mask.ToVoxel(p[0], p[1], p[2]);
                    int mx = (int)Math.Round(m[0]), my = (int)Math.Round(m[1]), mz = (int)Math.Round(m[2]);
                    if (mx < 0 || my < 0 || mz < 0 || mx >= mask.Nx || my >= mask.Ny || mz >= mask.Nz) continue;
                    if (mask[mx, my, mz] > 0.5f) { result[x, y, z] = 1; any = true; }
                }
        return any ? result : null;
    }

    /// <summary>
    /// Geometry of the region (on the grid given) into <paramref name="region"/>: <c>pixel</c> {x, y, w, h, z, d} (voxel
    /// indices of the bounding box), <c>patient</c> [first, last] bounding-box voxel centres in LPS mm, <c>centroid</c>,
    /// <c>voxel_count</c>, <c>volume_mm3</c> or <c>area_mm2</c>. Returns false (nothing written) for an empty mask.
    /// </summary>
    public static bool Describe(JsonObject region, ImageVolume mask, bool patientCoordinates)
    {
        var e = MaskExtent.Of(mask);
        if (e == null) return false;
        region["pixel"] = new JsonObject { ["x"] = e.X0, ["y"] = e.Y0, ["w"] = e.X1 - e.X0 + 1, ["h"] = e.Y1 - e.Y0 + 1, ["z"] = e.Z0, ["d"] = e.Z1 - e.Z0 + 1 };
        if (patientCoordinates)
        {
            region["patient"] = new JsonArray(Point(mask.ToPatient(e.X0, e.Y0, e.Z0)), Point(mask.ToPatient(e.X1, e.Y1, e.Z1)));
            double cx = 0, cy = 0, cz = 0;
            for (var z = e.Z0; z <= e.Z1; z++)
                for (var y = e.Y0; y <= e.Y1; y++)
                    for (var x = e.X0; x <= e.X1; x++)
                        if (mask[x, y, z] > 0.5f) { cx += x; cy += y; cz += z; }
            region["centroid"] = Point(mask.ToPatient(cx / e.Voxels, cy / e.Voxels, cz / e.Voxels));
            region["patient_coordinates"] = "mm, DICOM patient coordinate system (LPS); patient = first and last voxel centres of the bounding box";
        }
        else region["patient_coordinates"] = "unavailable: the segmentation has no patient geometry (slide or projection image)";
        region["voxel_count"] = e.Voxels;
        var sp = mask.Spacing;
        if (mask.Nz == 1) region["area_mm2"] = Round(e.Voxels * sp[0] * sp[1]);
        else region["volume_mm3"] = Round(e.Voxels * sp[0] * sp[1] * sp[2]);
        return true;
    }

    /// <summary>Largest region whose radiomics are computed at ingest (the mesh and the spatial statistics grow with it).</summary>
    public const long MaxRadiomicsVoxels = 4_000_000;

    /// <summary>
    /// The settings regions are measured with: the image as stored (no resampling, no re-segmentation), 32 bins for the
    /// histogram families, so features describe the region itself and are comparable across studies of one modality.
    /// </summary>
    public static readonly RadiomicsSettings Settings = new()
    {
        Name = "regions", Discretisation = DiscretisationMethod.FixedBinNumber, DiscretisationValue = 32,
        Ivh = IvhMode.FixedBinNumber, IvhValue = 1000,
    };

    /// <summary>Stored name → IBSI feature label (Extract/Radiomics): the compact set kept under <c>features</c>.</summary>
    public static readonly IReadOnlyList<(string Name, string Ibsi, bool Shape)> CompactSet =
    [
        ("volume_mesh_mm3", "morph_volume", true), ("surface_area_mm2", "morph_area", true), ("sphericity", "morph_sphericity", true),
        ("surface_volume_ratio", "morph_surface_volume_ratio", true), ("compactness", "morph_comp_2", true),
        ("elongation", "morph_pca_elongation", true), ("flatness", "morph_pca_flatness", true),
        ("max_diameter_mm", "morph_max_3d_diam", true), ("major_axis_mm", "morph_pca_major", true),
        ("mean", "stat_mean", false), ("median", "stat_median", false), ("min", "stat_minimum", false), ("max", "stat_maximum", false),
        ("variance", "stat_variance", false), ("skewness", "stat_skewness", false), ("kurtosis", "stat_kurtosis", false),
        ("p10", "stat_p10", false), ("p90", "stat_p90", false), ("iqr", "stat_iqr", false),
        ("entropy", "int_hist_entropy", false), ("uniformity", "int_hist_uniformity", false),
    ];

    /// <summary>
    /// Compact features: size (voxel_count, volume_mm3 or area_mm2) always; first-order statistics (mean, std, min, max,
    /// median) when the image is given; and, for 3-D regions, IBSI radiomics (Extract/Radiomics, <see cref="Settings"/>):
    /// the shape features of <see cref="CompactSet"/> (sphericity, mesh volume and area, elongation, …) and, with the image,
    /// its intensity features. The mask must be on the image's grid (<see cref="OnGrid"/>).
    /// </summary>
    public static JsonObject Features(ImageVolume mask, ImageVolume? image)
    {
        var f = new JsonObject();
        var sp = mask.Spacing;
        long n = 0;
        foreach (var v in mask.Voxels) if (v > 0.5f) n++;
        f["voxel_count"] = n;
        if (mask.Nz == 1) f["area_mm2"] = Round(n * sp[0] * sp[1]);
        else f["volume_mm3"] = Round(n * sp[0] * sp[1] * sp[2]);
        if (image != null && !image.SameGrid(mask)) image = null;
        if (image != null && n > 0)
        {
            var values = new float[n];
            var k = 0;
            for (var i = 0; i < mask.Count; i++) if (mask.Voxels[i] > 0.5f) values[k++] = image.Voxels[i];
            double sum = 0;
            foreach (var v in values) sum += v;
            var mean = sum / n;
            double ss = 0;
            foreach (var v in values) ss += (v - mean) * (v - mean);
            Array.Sort(values);
            f["mean"] = Round(mean);
            f["std"] = Round(Math.Sqrt(ss / n));
            f["min"] = Round(values[0]);
            f["max"] = Round(values[^1]);
            f["median"] = Round(n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2.0);
        }
        // A shape needs depth: one-plane masks (slides, projections) and single voxels have no mesh volume.
        if (mask.Nz < 2 || n < 2) return f;
        if (n > MaxRadiomicsVoxels) { f["radiomics"] = $"skipped: {n} voxels is over the {MaxRadiomicsVoxels}-voxel limit"; return f; }
        try
        {
            // Without the image, shape features still hold: the mask stands in as the image (intensities unused).
            var ibsi = Radiomics.Compute(image ?? mask, mask, Settings);
            foreach (var (name, key, shape) in CompactSet)
                if ((shape || image != null) && ibsi.TryGetValue(key, out var v) && double.IsFinite(v)) f[name] = Round(v);
            f["radiomics"] = "IBSI 1 (Extract/Radiomics): no resampling, no re-segmentation, 32 bins";
        }
        catch (ArgumentException e) { f["radiomics"] = $"not computed: {e.Message}"; }
        return f;
    }

    static JsonArray Point(double[] p) => new(p.Select(v => (JsonNode)JsonValue.Create(Math.Round(v, 3))).ToArray());
    static double Round(double v) => Math.Round(v, 4);
}

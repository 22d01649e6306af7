using System.Text.Json.Nodes;
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
        var result = image.EmptyLike();
        var any = false;
        for (var z = 0; z < image.Nz; z++)
            for (var y = 0; y < image.Ny; y++)
                for (var x = 0; x < image.Nx; x++)
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

    /// <summary>
    /// Compact features: size (voxel_count, volume_mm3 or area_mm2) always; first-order intensity statistics (mean, std,
    /// min, max, median) when the image is given. The mask must be on the image's grid (<see cref="OnGrid"/>).
    /// </summary>
    /// <remarks>
    /// RADIOMICS HOOK: shape features such as sphericity need a surface mesh; they come from
    /// <c>Casebook.Extract.Radiomics</c> once merged (see docs/regions.md). Until then only these are stored.
    /// </remarks>
    public static JsonObject Features(ImageVolume mask, ImageVolume? image)
    {
        var f = new JsonObject();
        var sp = mask.Spacing;
        long n = 0;
        foreach (var v in mask.Voxels) if (v > 0.5f) n++;
        f["voxel_count"] = n;
        if (mask.Nz == 1) f["area_mm2"] = Round(n * sp[0] * sp[1]);
        else f["volume_mm3"] = Round(n * sp[0] * sp[1] * sp[2]);
        if (image == null || n == 0 || !image.SameGrid(mask)) return f;
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
        return f;
    }

    static JsonArray Point(double[] p) => new(p.Select(v => (JsonNode)JsonValue.Create(Math.Round(v, 3))).ToArray());
    static double Round(double v) => Math.Round(v, 4);
}

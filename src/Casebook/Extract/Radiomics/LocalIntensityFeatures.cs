namespace Casebook.Extract.Radiomics;

/// <summary>
/// IBSI 1 local intensity features: the mean intensity in a 1 cm³ sphere around a voxel, over all image voxels (inside
/// the ROI or not) whose centres lie within the sphere. Local peak: around the ROI's maximum-intensity voxel(s);
/// global peak: the highest such mean over every voxel of the intensity mask.
/// </summary>
public static class LocalIntensityFeatures
{
    public static void Compute(ProcessedRoi roi, double radiusMm, Dictionary<string, double> f)
    {
        int nx = roi.Nx, ny = roi.Ny, nz = roi.Nz;
        var sp = roi.Spacing;
        int rx = (int)Math.Floor(radiusMm / sp[0]), ry = (int)Math.Floor(radiusMm / sp[1]), rz = (int)Math.Floor(radiusMm / sp[2]);
        var offsets = new List<(int dx, int dy, int dz)>();
        var r2 = radiusMm * radiusMm * (1 + 1e-12);
        for (var dz = -rz; dz <= rz; dz++)
        for (var dy = -ry; dy <= ry; dy++)
        for (var dx = -rx; dx <= rx; dx++)
            if (Math.Pow(dx * sp[0], 2) + Math.Pow(dy * sp[1], 2) + Math.Pow(dz * sp[2], 2) <= r2) offsets.Add((dx, dy, dz));
        var offs = offsets.ToArray();

        double SphereMean(int x, int y, int z)
        {
            double s = 0; var n = 0;
            foreach (var (dx, dy, dz) in offs)
            {
                int xx = x + dx, yy = y + dy, zz = z + dz;
                if (xx < 0 || yy < 0 || zz < 0 || xx >= nx || yy >= ny || zz >= nz) continue;
                s += roi.Image[xx + nx * (yy + ny * zz)]; n++;
            }
            return s / n;
        }

        var roiVoxels = new List<int>();
        var max = float.NegativeInfinity;
        for (var i = 0; i < roi.Count; i++)
            if (roi.IntensityMask[i]) { roiVoxels.Add(i); max = Math.Max(max, roi.Image[i]); }
        var means = new double[roiVoxels.Count];
        Parallel.For(0, roiVoxels.Count, k =>
        {
            var i = roiVoxels[k];
            means[k] = SphereMean(i % nx, i / nx % ny, i / (nx * ny));
        });
        double local = double.NegativeInfinity, global = double.NegativeInfinity;
        for (var k = 0; k < roiVoxels.Count; k++)
        {
            global = Math.Max(global, means[k]);
            if (roi.Image[roiVoxels[k]] == max) local = Math.Max(local, means[k]);
        }
        f["loc_int_local_peak"] = local;
        f["loc_int_global_peak"] = global;
    }
}

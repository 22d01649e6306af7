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
        // The sphere as x-runs: for each (dy, dz) within reach, the voxels dx ∈ [−w, w] are inside. With prefix sums
        // along x each run costs one subtraction, so a voxel costs (number of runs) instead of (number of voxels).
        var runs = new List<(int dy, int dz, int w)>();
        var r2 = radiusMm * radiusMm * (1 + 1e-12);
        for (var dz = -rz; dz <= rz; dz++)
        for (var dy = -ry; dy <= ry; dy++)
        {
            var rest = r2 - Math.Pow(dy * sp[1], 2) - Math.Pow(dz * sp[2], 2);
            if (rest < 0) continue;
            var w = Math.Min(rx, (int)Math.Floor(Math.Sqrt(rest) / sp[0] + 1e-9));
            runs.Add((dy, dz, w));
        }
        var runArray = runs.ToArray();
        var prefix = new double[(long)(nx + 1) * ny * nz];
        Parallel.For(0, ny * nz, row =>
        {
            long p = (long)row * (nx + 1), src = (long)row * nx;
            double acc = 0;
            prefix[p] = 0;
            for (var x = 0; x < nx; x++) { acc += roi.Image[src + x]; prefix[p + x + 1] = acc; }
        });

        double SphereMean(int x, int y, int z)
        {
            double s = 0; long n = 0;
            foreach (var (dy, dz, w) in runArray)
            {
                int yy = y + dy, zz = z + dz;
                if (yy < 0 || zz < 0 || yy >= ny || zz >= nz) continue;
                int from = Math.Max(0, x - w), to = Math.Min(nx - 1, x + w);
                long p = (long)(yy + ny * zz) * (nx + 1);
                s += prefix[p + to + 1] - prefix[p + from];
                n += to - from + 1;
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

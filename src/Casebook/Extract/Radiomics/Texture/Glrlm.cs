namespace Casebook.Extract.Radiomics.Texture;

/// <summary>
/// Grey level run length matrix features (IBSI TP0I): runs of equal grey level along each direction vector, aggregated
/// the six ways of the GLCM. N_v of a merged matrix is the sum of the N_v of its parts, so run percentage stays a fraction.
/// </summary>
internal static class Glrlm
{
    public static readonly string[] Names =
    [
        "sre", "lre", "lgre", "hgre", "srlge", "srhge", "lrlge", "lrhge", "glnu", "glnu_norm", "rlnu", "rlnu_norm",
        "r_perc", "gl_var", "rl_var", "rl_entr",
    ];

    public static void Compute(DiscretisedRoi roi, TextureSettings settings, IDictionary<string, double> output)
    {
        var ng = roi.LevelCount;
        const string prefix = "rlm_{0}_";
        if (settings.Slicewise)
        {
            var dirs = RoiGrid.Directions2D;
            var perSliceDir = new List<double[]>();
            var perSliceMerged = new List<double[]>();
            var byDirection = new List<LevelCountMatrix>[dirs.Length];
            for (var k = 0; k < dirs.Length; k++) byDirection[k] = [];
            var all = new List<LevelCountMatrix>();
            for (var z = 0; z < roi.Nz; z++)
            {
                var grid = RoiGrid.Slice(roi, z);
                if (grid.VoxelCount() == 0) continue;
                var slice = new List<LevelCountMatrix>();
                for (var k = 0; k < dirs.Length; k++)
                {
                    var m = Runs(grid, ng, dirs[k]);
                    perSliceDir.Add(m.Features(ng, false));
                    slice.Add(m); byDirection[k].Add(m); all.Add(m);
                }
                perSliceMerged.Add(LevelCountMatrix.Merge(slice).Features(ng, false));
            }
            Aggregate.Emit(output, prefix, "2d_avg", Names, Aggregate.Mean(perSliceDir));
            Aggregate.Emit(output, prefix, "2d_s_mrg", Names, Aggregate.Mean(perSliceMerged));
            Aggregate.Emit(output, prefix, "2.5d_d_mrg", Names,
                Aggregate.Mean(byDirection.Select(parts => LevelCountMatrix.Merge(parts).Features(ng, false)).ToList()));
            Aggregate.Emit(output, prefix, "2.5d_v_mrg", Names, LevelCountMatrix.Merge(all).Features(ng, false));
        }
        if (settings.Volumetric)
        {
            var grid = RoiGrid.Volume(roi);
            var perDir = RoiGrid.Directions3D.Select(dir => Runs(grid, ng, dir)).ToList();
            Aggregate.Emit(output, prefix, "3d_avg", Names, Aggregate.Mean(perDir.Select(m => m.Features(ng, false)).ToList()));
            Aggregate.Emit(output, prefix, "3d_v_mrg", Names, LevelCountMatrix.Merge(perDir).Features(ng, false));
        }
    }

    /// <summary>
    /// The run length matrix along one direction: each ROI voxel that starts a run (its predecessor along the direction
    /// is outside the range, outside the ROI or of another level) is walked forward to the run's end.
    /// </summary>
    internal static LevelCountMatrix Runs(RoiGrid g, int ng, int[] dir)
    {
        int dx = dir[0], dy = dir[1], dz = dir[2];
        var maxLen = Math.Max(g.Nx, Math.Max(g.Ny, g.Z1 - g.Z0));
        var dense = new double[ng * maxLen];
        var levels = g.Levels;
        var step = dx + g.Nx * (dy + g.Ny * dz);
        var nv = 0;
        for (var z = g.Z0; z < g.Z1; z++)
            for (var y = 0; y < g.Ny; y++)
                for (var x = 0; x < g.Nx; x++)
                {
                    var i = g.Index(x, y, z);
                    var a = levels[i];
                    if (a == 0) continue;
                    nv++;
                    if (g.Contains(x - dx, y - dy, z - dz) && levels[i - step] == a) continue;
                    var len = 1;
                    int px = x + dx, py = y + dy, pz = z + dz, pi = i + step;
                    while (g.Contains(px, py, pz) && levels[pi] == a)
                    {
                        len++; px += dx; py += dy; pz += dz; pi += step;
                    }
                    dense[(a - 1) * maxLen + len - 1]++;
                }
        return LevelCountMatrix.FromDense(dense, ng, maxLen, nv);
    }
}

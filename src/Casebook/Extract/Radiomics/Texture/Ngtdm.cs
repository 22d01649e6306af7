namespace Casebook.Extract.Radiomics.Texture;

/// <summary>
/// Neighbourhood grey tone difference matrix features (IBSI IPET). For each ROI voxel with at least one ROI neighbour
/// within Chebyshev distance δ (in-slice for 2D), s_i accumulates |i − mean neighbour level| and n_i counts the voxel.
/// Neighbourhoods need not lie wholly inside the ROI (the manual's deviation from Amadasun and King).
/// </summary>
internal static class Ngtdm
{
    public static readonly string[] Names = ["coarseness", "contrast", "busyness", "complexity", "strength"];

    /// <summary>s_i and n_i for levels 1..N_g (index 0 unused); merging NGTDMs sums both.</summary>
    internal sealed class Matrix(int ng)
    {
        public readonly double[] S = new double[ng + 1];
        public readonly double[] N = new double[ng + 1];

        public void Add(Matrix other)
        {
            for (var i = 0; i < S.Length; i++) { S[i] += other.S[i]; N[i] += other.N[i]; }
        }
    }

    public static void Compute(DiscretisedRoi roi, TextureSettings settings, IDictionary<string, double> output)
    {
        var ng = roi.LevelCount;
        const string prefix = "ngt_{0}_";
        if (settings.Slicewise)
        {
            var perSlice = new List<double[]>();
            var merged = new Matrix(ng);
            for (var z = 0; z < roi.Nz; z++)
            {
                var grid = RoiGrid.Slice(roi, z);
                if (grid.VoxelCount() == 0) continue;
                var m = Build(grid, ng, settings.NgtdmDistance);
                perSlice.Add(Features(m, ng));
                merged.Add(m);
            }
            Aggregate.Emit(output, prefix, "2d", Names, Aggregate.Mean(perSlice));
            Aggregate.Emit(output, prefix, "2.5d", Names, Features(merged, ng));
        }
        if (settings.Volumetric)
            Aggregate.Emit(output, prefix, "3d", Names, Features(Build(RoiGrid.Volume(roi), ng, settings.NgtdmDistance), ng));
    }

    internal static Matrix Build(RoiGrid g, int ng, int delta)
    {
        var m = new Matrix(ng);
        var levels = g.Levels;
        Span<int> neighbours = new int[RoiGrid.NeighbourhoodSize(delta)];
        for (var z = g.Z0; z < g.Z1; z++)
            for (var y = 0; y < g.Ny; y++)
                for (var x = 0; x < g.Nx; x++)
                {
                    var a = levels[g.Index(x, y, z)];
                    if (a == 0) continue;
                    double sum = 0;
                    var w = g.NeighbourLevels(x, y, z, delta, neighbours);
                    for (var k = 0; k < w; k++) sum += neighbours[k];
                    if (w == 0) continue;
                    m.S[a] += Math.Abs(a - sum / w);
                    m.N[a]++;
                }
        return m;
    }

    internal static double[] Features(Matrix m, int ng)
    {
        double nvc = 0, sumS = 0;
        for (var i = 1; i <= ng; i++) { nvc += m.N[i]; sumS += m.S[i]; }
        if (nvc == 0) return [double.NaN, double.NaN, double.NaN, double.NaN, double.NaN];
        var p = new double[ng + 1];
        var present = new List<int>();
        double ps = 0;
        for (var i = 1; i <= ng; i++)
        {
            p[i] = m.N[i] / nvc;
            if (p[i] > 0) present.Add(i);
            ps += p[i] * m.S[i];
        }
        var ngp = present.Count;
        // IBSI: coarseness is capped at 10⁶ when Σ p_i s_i is 0.
        var coarseness = ps > 0 ? Math.Min(1e6, 1 / ps) : 1e6;
        double contrastRange = 0, busyDenominator = 0, complexity = 0, strengthNumerator = 0;
        foreach (var i1 in present)
            foreach (var i2 in present)
            {
                double d = i1 - i2;
                contrastRange += p[i1] * p[i2] * d * d;
                busyDenominator += Math.Abs(i1 * p[i1] - i2 * p[i2]);
                complexity += Math.Abs(d) * (p[i1] * m.S[i1] + p[i2] * m.S[i2]) / (p[i1] + p[i2]);
                strengthNumerator += (p[i1] + p[i2]) * d * d;
            }
        var contrast = ngp > 1 ? contrastRange / (ngp * (ngp - 1.0)) * (sumS / nvc) : 0;
        var busyness = ngp > 1 && busyDenominator > 0 ? ps / busyDenominator : 0;
        var strength = sumS > 0 ? strengthNumerator / sumS : 0;
        return [coarseness, contrast, busyness, complexity / nvc, strength];
    }
}

namespace Casebook.Extract.Radiomics.Texture;

/// <summary>
/// Grey level co-occurrence matrix features (IBSI LFYI). One symmetric N_g × N_g count matrix per direction vector
/// (and per slice for 2D), aggregated six ways: 2D averaged (BTW3), 2D slice-merged (SUJT), 2.5D direction-merged
/// (JJUI), 2.5D merged (ZW7Z), 3D averaged (ITBB), 3D merged (IAZD).
/// </summary>
internal static class Glcm
{
    public static readonly string[] Names =
    [
        "joint_max", "joint_avg", "joint_var", "joint_entr", "diff_avg", "diff_var", "diff_entr", "sum_avg", "sum_var",
        "sum_entr", "energy", "contrast", "dissimilarity", "inv_diff", "inv_diff_norm", "inv_diff_mom",
        "inv_diff_mom_norm", "inv_var", "corr", "auto_corr", "clust_tend", "clust_shade", "clust_prom", "info_corr1",
        "info_corr2",
    ];

    public static void Compute(DiscretisedRoi roi, TextureSettings settings, IDictionary<string, double> output)
    {
        var ng = roi.LevelCount;
        var d = settings.GlcmDistance;
        var prefix = $"cm_{{0}}_d{d}_";
        if (settings.Slicewise)
        {
            var dirs = RoiGrid.Directions2D;
            var perSliceDir = new List<double[]>();        // features of every (slice, direction) matrix
            var perSliceMerged = new List<double[]>();     // features of each slice's direction-summed matrix
            var byDirection = new double[dirs.Length][];   // each direction summed over slices
            for (var k = 0; k < dirs.Length; k++) byDirection[k] = new double[ng * ng];
            var all = new double[ng * ng];
            for (var z = 0; z < roi.Nz; z++)
            {
                var grid = RoiGrid.Slice(roi, z);
                var slice = new double[ng * ng];
                for (var k = 0; k < dirs.Length; k++)
                {
                    var m = Count(grid, ng, dirs[k][0] * d, dirs[k][1] * d, dirs[k][2] * d);
                    perSliceDir.Add(Features(m, ng));
                    Add(slice, m); Add(byDirection[k], m); Add(all, m);
                }
                perSliceMerged.Add(Features(slice, ng));
            }
            Aggregate.Emit(output, prefix, "2d_avg", Names, Aggregate.Mean(perSliceDir));
            Aggregate.Emit(output, prefix, "2d_s_mrg", Names, Aggregate.Mean(perSliceMerged));
            Aggregate.Emit(output, prefix, "2.5d_d_mrg", Names, Aggregate.Mean(byDirection.Select(m => Features(m, ng)).ToList()));
            Aggregate.Emit(output, prefix, "2.5d_v_mrg", Names, Features(all, ng));
        }
        if (settings.Volumetric)
        {
            var grid = RoiGrid.Volume(roi);
            var perDir = new List<double[]>();
            var all = new double[ng * ng];
            foreach (var dir in RoiGrid.Directions3D)
            {
                var m = Count(grid, ng, dir[0] * d, dir[1] * d, dir[2] * d);
                perDir.Add(Features(m, ng));
                Add(all, m);
            }
            Aggregate.Emit(output, prefix, "3d_avg", Names, Aggregate.Mean(perDir));
            Aggregate.Emit(output, prefix, "3d_v_mrg", Names, Features(all, ng));
        }
    }

    static void Add(double[] into, double[] m)
    {
        for (var i = 0; i < into.Length; i++) into[i] += m[i];
    }

    /// <summary>
    /// Co-occurrence counts along direction (dx, dy, dz) and its opposite, M = M₊ + M₊ᵀ, for pairs whose voxels are
    /// both in the ROI.
    /// </summary>
    internal static double[] Count(RoiGrid g, int ng, int dx, int dy, int dz)
    {
        var m = new double[ng * ng];
        var levels = g.Levels;
        for (var z = g.Z0; z < g.Z1; z++)
        {
            var z2 = z + dz;
            if (z2 < g.Z0 || z2 >= g.Z1) continue;
            for (var y = 0; y < g.Ny; y++)
            {
                var y2 = y + dy;
                if ((uint)y2 >= (uint)g.Ny) continue;
                var row = g.Index(0, y, z);
                var row2 = g.Index(0, y2, z2);
                var x0 = Math.Max(0, -dx);
                var x1 = Math.Min(g.Nx, g.Nx - dx);
                for (var x = x0; x < x1; x++)
                {
                    var a = levels[row + x];
                    if (a == 0) continue;
                    var b = levels[row2 + x + dx];
                    if (b == 0) continue;
                    m[(a - 1) * ng + b - 1]++;
                    m[(b - 1) * ng + a - 1]++;
                }
            }
        }
        return m;
    }

    /// <summary>The 25 GLCM features of one count matrix, in <see cref="Names"/> order; NaN when it holds no pair.</summary>
    internal static double[] Features(double[] counts, int ng)
    {
        var f = new double[Names.Length];
        double total = 0;
        foreach (var c in counts) total += c;
        if (total <= 0) { Array.Fill(f, double.NaN); return f; }

        var p = new double[counts.Length];
        for (var k = 0; k < p.Length; k++) p[k] = counts[k] / total;
        var pi = new double[ng];                 // row marginal p_i. (= column marginal, the matrix is symmetric)
        var diag = new double[ng];               // p_{i-j,k}, k = |i-j|
        var cross = new double[2 * ng + 1];      // p_{i+j,k}, k = i+j (2..2N_g)
        double jointMax = 0, mu = 0, entropy = 0, energy = 0, contrast = 0, dissimilarity = 0, invDiff = 0, invDiffNorm = 0;
        double invDiffMom = 0, invDiffMomNorm = 0, autoCorr = 0;
        for (var i = 1; i <= ng; i++)
            for (var j = 1; j <= ng; j++)
            {
                var v = p[(i - 1) * ng + j - 1];
                if (v == 0) continue;
                var diff = Math.Abs(i - j);
                pi[i - 1] += v;
                diag[diff] += v;
                cross[i + j] += v;
                if (v > jointMax) jointMax = v;
                mu += i * v;
                entropy -= v * Math.Log2(v);
                energy += v * v;
                contrast += (double)diff * diff * v;
                dissimilarity += diff * v;
                invDiff += v / (1.0 + diff);
                invDiffNorm += v / (1.0 + (double)diff / ng);
                invDiffMom += v / (1.0 + (double)diff * diff);
                invDiffMomNorm += v / (1.0 + (double)diff * diff / ((double)ng * ng));
                autoCorr += (double)i * j * v;
            }
        double jointVar = 0, clustTend = 0, clustShade = 0, clustProm = 0, hxy1 = 0;
        for (var i = 1; i <= ng; i++)
            for (var j = 1; j <= ng; j++)
            {
                var v = p[(i - 1) * ng + j - 1];
                if (v == 0) continue;
                jointVar += (i - mu) * (i - mu) * v;
                var s = i + j - 2 * mu;
                clustTend += s * s * v;
                clustShade += s * s * s * v;
                clustProm += s * s * s * s * v;
                hxy1 -= v * Math.Log2(pi[i - 1] * pi[j - 1]);
            }
        double diffAvg = 0, diffVar = 0, diffEntr = 0, invVar = 0;
        for (var k = 0; k < ng; k++)
        {
            diffAvg += k * diag[k];
            if (diag[k] > 0) diffEntr -= diag[k] * Math.Log2(diag[k]);
            if (k > 0) invVar += diag[k] / ((double)k * k);
        }
        for (var k = 0; k < ng; k++) diffVar += (k - diffAvg) * (k - diffAvg) * diag[k];
        double sumAvg = 0, sumVar = 0, sumEntr = 0;
        for (var k = 2; k <= 2 * ng; k++)
        {
            sumAvg += k * cross[k];
            if (cross[k] > 0) sumEntr -= cross[k] * Math.Log2(cross[k]);
        }
        for (var k = 2; k <= 2 * ng; k++) sumVar += (k - sumAvg) * (k - sumAvg) * cross[k];

        // Marginal mean and variance: μ_i. equals the joint average for a symmetric matrix.
        double muI = 0, varI = 0, hx = 0, hxy2 = 0;
        for (var i = 0; i < ng; i++) muI += (i + 1) * pi[i];
        for (var i = 0; i < ng; i++)
        {
            varI += (i + 1 - muI) * (i + 1 - muI) * pi[i];
            if (pi[i] > 0) hx -= pi[i] * Math.Log2(pi[i]);
        }
        for (var i = 0; i < ng; i++)
            for (var j = 0; j < ng; j++)
            {
                var q = pi[i] * pi[j];
                if (q > 0) hxy2 -= q * Math.Log2(q);
            }

        f[0] = jointMax; f[1] = mu; f[2] = jointVar; f[3] = entropy;
        f[4] = diffAvg; f[5] = diffVar; f[6] = diffEntr;
        f[7] = sumAvg; f[8] = sumVar; f[9] = sumEntr;
        f[10] = energy; f[11] = contrast; f[12] = dissimilarity;
        f[13] = invDiff; f[14] = invDiffNorm; f[15] = invDiffMom; f[16] = invDiffMomNorm; f[17] = invVar;
        // A single grey level leaves the marginal variance and entropy at zero: correlation and the first information
        // correlation are then undefined (NaN), and skipped when features are averaged.
        f[18] = varI > 0 ? (autoCorr - muI * muI) / varI : double.NaN;
        f[19] = autoCorr;
        f[20] = clustTend; f[21] = clustShade; f[22] = clustProm;
        f[23] = hx > 0 ? (entropy - hxy1) / hx : double.NaN;
        f[24] = Math.Sqrt(Math.Max(0, 1 - Math.Exp(-2 * (hxy2 - entropy))));
        return f;
    }
}

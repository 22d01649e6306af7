namespace Casebook.Extract.Radiomics.Texture;

/// <summary>
/// A grey level × j count matrix in sparse form, the shape shared by the GLRLM (j = run length), GLSZM (zone size),
/// GLDZM (zone distance) and NGLDM (dependence count). It is kept sparse because j runs up to the largest zone, which in
/// a CT ROI can be tens of thousands of voxels while only a few hundred (level, j) cells are filled. Entries are
/// sorted by (level, j) and unique. <see cref="VoxelCount"/> is N_v, summed when matrices are merged (IBSI: "when
/// matrices are merged, N_v should likewise be summed").
/// </summary>
internal sealed class LevelCountMatrix
{
    public int[] Level { get; }
    public int[] J { get; }
    public double[] Count { get; }
    public double VoxelCount { get; }

    LevelCountMatrix(int[] level, int[] j, double[] count, double voxelCount)
    {
        Level = level; J = j; Count = count; VoxelCount = voxelCount;
    }

    public int Length => Level.Length;

    public double Total
    {
        get { double s = 0; foreach (var c in Count) s += c; return s; }
    }

    /// <summary>Builds a matrix from one (level, j) key per counted item; keys may repeat.</summary>
    public static LevelCountMatrix FromItems(List<long> keys, double voxelCount)
    {
        var arr = keys.ToArray();
        Array.Sort(arr);
        return Collapse(arr, null, voxelCount);
    }

    /// <summary>Builds a matrix from a dense level-major array (rows 1..ng, columns j = 1..nj).</summary>
    public static LevelCountMatrix FromDense(double[] dense, int ng, int nj, double voxelCount)
    {
        var n = 0;
        foreach (var v in dense) if (v != 0) n++;
        var level = new int[n]; var j = new int[n]; var count = new double[n];
        var k = 0;
        for (var i = 0; i < ng; i++)
            for (var c = 0; c < nj; c++)
            {
                var v = dense[i * nj + c];
                if (v == 0) continue;
                level[k] = i + 1; j[k] = c + 1; count[k] = v; k++;
            }
        return new LevelCountMatrix(level, j, count, voxelCount);
    }

    /// <summary>Sums matrices cell by cell (and their N_v): the IBSI "merged" aggregation.</summary>
    public static LevelCountMatrix Merge(IReadOnlyList<LevelCountMatrix> parts)
    {
        var total = 0;
        double nv = 0;
        foreach (var p in parts) { total += p.Length; nv += p.VoxelCount; }
        var keys = new long[total];
        var counts = new double[total];
        var k = 0;
        foreach (var p in parts)
            for (var e = 0; e < p.Length; e++) { keys[k] = Key(p.Level[e], p.J[e]); counts[k] = p.Count[e]; k++; }
        Array.Sort(keys, counts);
        return Collapse(keys, counts, nv);
    }

    public static long Key(int level, int j) => ((long)level << 32) | (uint)j;

    static LevelCountMatrix Collapse(long[] sortedKeys, double[]? counts, double voxelCount)
    {
        var level = new List<int>(); var j = new List<int>(); var count = new List<double>();
        for (var i = 0; i < sortedKeys.Length; i++)
        {
            var c = counts == null ? 1.0 : counts[i];
            if (i > 0 && sortedKeys[i] == sortedKeys[i - 1]) { count[^1] += c; continue; }
            level.Add((int)(sortedKeys[i] >> 32)); j.Add((int)(sortedKeys[i] & 0xFFFFFFFF)); count.Add(c);
        }
        return new LevelCountMatrix(level.ToArray(), j.ToArray(), count.ToArray(), voxelCount);
    }

    /// <summary>
    /// The features the GLRLM, GLSZM, GLDZM and NGLDM share (their definitions follow the GLRLM ones, IBSI manual), in
    /// this order: short/small/low-j emphasis, long/large/high-j emphasis, low grey level emphasis, high grey level
    /// emphasis, the four quadrant emphases (low j·low level, low j·high level, high j·low level, high j·high level),
    /// grey level non-uniformity and its normalised form, j non-uniformity and its normalised form, percentage
    /// N_s/N_v, grey level variance, j variance, entropy and, when asked, energy (NGLDM only). NaN when the matrix is empty.
    /// </summary>
    public double[] Features(int levelCount, bool withEnergy)
    {
        var n = withEnergy ? 17 : 16;
        var f = new double[n];
        var ns = Total;
        if (ns <= 0) { Array.Fill(f, double.NaN); return f; }

        var rowSum = new double[levelCount + 1];
        var maxJ = 0;
        for (var e = 0; e < Length; e++) if (J[e] > maxJ) maxJ = J[e];
        var colSum = new double[maxJ + 1];
        double sje = 0, lje = 0, lg = 0, hg = 0, sjlg = 0, sjhg = 0, ljlg = 0, ljhg = 0, muI = 0, muJ = 0, entropy = 0, energy = 0;
        for (var e = 0; e < Length; e++)
        {
            double i = Level[e], j = J[e], c = Count[e];
            double i2 = i * i, j2 = j * j;
            rowSum[Level[e]] += c;
            colSum[J[e]] += c;
            sje += c / j2; lje += c * j2; lg += c / i2; hg += c * i2;
            sjlg += c / (i2 * j2); sjhg += c * i2 / j2; ljlg += c * j2 / i2; ljhg += c * i2 * j2;
            var p = c / ns;
            muI += i * p; muJ += j * p;
            entropy -= p * Math.Log2(p);
            energy += p * p;
        }
        double glnu = 0, jnu = 0, varI = 0, varJ = 0;
        foreach (var r in rowSum) glnu += r * r;
        foreach (var r in colSum) jnu += r * r;
        for (var e = 0; e < Length; e++)
        {
            var p = Count[e] / ns;
            varI += (Level[e] - muI) * (Level[e] - muI) * p;
            varJ += (J[e] - muJ) * (J[e] - muJ) * p;
        }
        f[0] = sje / ns; f[1] = lje / ns; f[2] = lg / ns; f[3] = hg / ns;
        f[4] = sjlg / ns; f[5] = sjhg / ns; f[6] = ljlg / ns; f[7] = ljhg / ns;
        f[8] = glnu / ns; f[9] = glnu / (ns * ns); f[10] = jnu / ns; f[11] = jnu / (ns * ns);
        f[12] = VoxelCount > 0 ? ns / VoxelCount : double.NaN;
        f[13] = varI; f[14] = varJ; f[15] = entropy;
        if (withEnergy) f[16] = energy;
        return f;
    }
}

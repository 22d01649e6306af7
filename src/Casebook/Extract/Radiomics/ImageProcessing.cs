using Casebook.Extract.Volumes;

namespace Casebook.Extract.Radiomics;

/// <summary>
/// The image and ROI after IBSI image processing: the (interpolated) image on its grid, the morphological mask
/// (interpolated, partial-volume thresholded) and the intensity mask (the morphological mask after re-segmentation).
/// Arrays are x fastest on the grid <see cref="Nx"/>×<see cref="Ny"/>×<see cref="Nz"/>.
/// </summary>
public sealed class ProcessedRoi
{
    public required int Nx { get; init; }
    public required int Ny { get; init; }
    public required int Nz { get; init; }
    public required double[] Spacing { get; init; }
    public required float[] Image { get; init; }
    public required bool[] MorphMask { get; init; }
    public required bool[] IntensityMask { get; init; }

    public int Count => Image.Length;

    /// <summary>Intensities inside the intensity mask, in grid order.</summary>
    public double[] IntensityValues()
    {
        var list = new List<double>();
        for (var i = 0; i < Image.Length; i++) if (IntensityMask[i]) list.Add(Image[i]);
        return list.ToArray();
    }
}

/// <summary>
/// IBSI 1 image processing (manual chapter "Image processing"): interpolation to a new grid aligned on the centre of the
/// original one, mask interpolation with a partial-volume threshold, re-segmentation by range and by outliers.
/// </summary>
public static class ImageProcessing
{
    public static ProcessedRoi Process(ImageVolume image, ImageVolume mask, RadiomicsSettings s)
    {
        if (!image.SameGrid(mask))
            throw new ArgumentException(
                $"the mask grid ({mask.Nx}×{mask.Ny}×{mask.Nz}, spacing {Fmt(mask.Spacing)}, origin {Fmt(mask.Origin)}) differs from the image grid " +
                $"({image.Nx}×{image.Ny}×{image.Nz}, spacing {Fmt(image.Spacing)}, origin {Fmt(image.Origin)}); resample the mask onto the image first");

        var img = new float[image.Count];
        var msk = new float[image.Count];
        var any = false;
        for (var i = 0; i < img.Length; i++)
        {
            var v = image.Voxels[i];
            if (float.IsNaN(v)) throw new ArgumentException($"the image has a NaN voxel at index {i}");
            img[i] = s.RoundIntensities ? MathF.Round(v, MidpointRounding.ToEven) : v;
            // A mask voxel is inside when its rounded label is non-zero (NIfTI masks are stored as floats).
            var m = MathF.Round(mask.Voxels[i]) != 0 ? 1f : 0f;
            msk[i] = m;
            any |= m > 0;
        }
        if (!any) throw new ArgumentException("the mask is empty: no voxel is inside the region of interest");

        int nx = image.Nx, ny = image.Ny, nz = image.Nz;
        var spacing = (double[])image.Spacing.Clone();
        if (s.Spacing is { } target)
        {
            var axes = s.TwoDimensional ? 2 : 3;
            for (var axis = 0; axis < axes; axis++)
            {
                if (target[axis] <= 0) throw new ArgumentException($"target spacing along axis {axis} must be positive");
                var n = axis switch { 0 => nx, 1 => ny, _ => nz };
                var positions = GridPositions(n, spacing[axis], target[axis]);
                img = Resample(img, nx, ny, nz, axis, positions, s.ImageInterpolation);
                // The ROI mask is interpolated linearly whatever the image method (IBSI configurations B–E).
                msk = Resample(msk, nx, ny, nz, axis, positions, InterpolationMethod.Linear);
                switch (axis) { case 0: nx = positions.Length; break; case 1: ny = positions.Length; break; default: nz = positions.Length; break; }
                spacing[axis] = target[axis];
            }
            if (s.RoundIntensities)
                for (var i = 0; i < img.Length; i++) img[i] = MathF.Round(img[i], MidpointRounding.ToEven);
        }

        var morph = new bool[img.Length];
        var count = 0;
        for (var i = 0; i < img.Length; i++)
            if (msk[i] >= s.PartialVolumeThreshold) { morph[i] = true; count++; }
        if (count == 0) throw new ArgumentException("the mask is empty after interpolation (no voxel reaches the partial-volume threshold)");

        var intensity = (bool[])morph.Clone();
        if (s.RangeMin is { } lo || s.RangeMax is not null)
        {
            double min = s.RangeMin ?? double.NegativeInfinity, max = s.RangeMax ?? double.PositiveInfinity;
            for (var i = 0; i < img.Length; i++)
                if (intensity[i] && (img[i] < min || img[i] > max)) intensity[i] = false;
        }
        if (s.OutlierFilter)
        {
            double sum = 0, sum2 = 0; long n = 0;
            for (var i = 0; i < img.Length; i++)
                if (intensity[i]) { sum += img[i]; n++; }
            if (n > 0)
            {
                var mean = sum / n;
                for (var i = 0; i < img.Length; i++)
                    if (intensity[i]) sum2 += (img[i] - mean) * (img[i] - mean);
                var sd = Math.Sqrt(sum2 / n);
                for (var i = 0; i < img.Length; i++)
                    if (intensity[i] && (img[i] < mean - 3 * sd || img[i] > mean + 3 * sd)) intensity[i] = false;
            }
        }
        if (!intensity.Any(b => b)) throw new ArgumentException("no ROI voxel is left after re-segmentation (every intensity is outside the range)");

        return new ProcessedRoi { Nx = nx, Ny = ny, Nz = nz, Spacing = spacing, Image = img, MorphMask = morph, IntensityMask = intensity };
    }

    static string Fmt(double[] v) => "(" + string.Join(", ", v.Select(x => x.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture))) + ")";

    /// <summary>
    /// Positions, in original voxel indices, of the new grid along one axis. The new grid has ceil(n·s/t) voxels and
    /// shares its centre with the original grid (IBSI: grid alignment on the centre, size rounded up).
    /// </summary>
    public static double[] GridPositions(int n, double spacing, double target)
    {
        // A tiny slack keeps e.g. 100.0000000001 from becoming 101 voxels.
        var m = (int)Math.Ceiling(n * spacing / target - 1e-9);
        m = Math.Max(m, 1);
        var p = new double[m];
        for (var j = 0; j < m; j++) p[j] = (n - 1) / 2.0 + (j - (m - 1) / 2.0) * target / spacing;
        return p;
    }

    /// <summary>Resamples one axis at the given fractional positions; outside the grid the nearest edge value holds.</summary>
    static float[] Resample(float[] src, int nx, int ny, int nz, int axis, double[] pos, InterpolationMethod method)
    {
        var n = axis switch { 0 => nx, 1 => ny, _ => nz };
        var m = pos.Length;
        int ox = axis == 0 ? m : nx, oy = axis == 1 ? m : ny, oz = axis == 2 ? m : nz;
        var dst = new float[(long)ox * oy * oz];
        // Strides of the resampled axis in src and dst, and the lines (all other index combinations).
        long sStride = axis switch { 0 => 1, 1 => nx, _ => (long)nx * ny };
        long dStride = axis switch { 0 => 1, 1 => ox, _ => (long)ox * oy };
        var lines = new List<(long s, long d)>();
        for (var z = 0; z < (axis == 2 ? 1 : nz); z++)
        for (var y = 0; y < (axis == 1 ? 1 : ny); y++)
        for (var x = 0; x < (axis == 0 ? 1 : nx); x++)
            lines.Add((x + (long)nx * (y + (long)ny * z), x + (long)ox * (y + (long)oy * z)));

        Parallel.ForEach(System.Collections.Concurrent.Partitioner.Create(0, lines.Count), range =>
        {
            var line = new double[n];
            var coef = new double[n];
            for (var li = range.Item1; li < range.Item2; li++)
            {
                var (s0, d0) = lines[li];
                for (var i = 0; i < n; i++) line[i] = src[s0 + i * sStride];
                if (method == InterpolationMethod.Cubic) BSplineCoefficients(line, coef);
                for (var j = 0; j < m; j++)
                {
                    var p = Math.Clamp(pos[j], 0, n - 1);
                    double v;
                    if (method == InterpolationMethod.Cubic) v = CubicAt(coef, p);
                    else if (method == InterpolationMethod.None) v = line[(int)Math.Round(p)];
                    else
                    {
                        var i0 = (int)Math.Floor(p);
                        var t = p - i0;
                        var i1 = Math.Min(i0 + 1, n - 1);
                        v = line[i0] * (1 - t) + line[i1] * t;
                    }
                    dst[d0 + j * dStride] = (float)v;
                }
            }
        });
        return dst;
    }

    // Cubic B-spline interpolation (as scipy's map_coordinates with order 3, which IBSI configuration E's reference
    // used): the samples are first turned into spline coefficients by the recursive filter of Unser et al. with mirror
    // boundaries, then evaluated with the four cubic B-spline weights.
    static readonly double Pole = Math.Sqrt(3) - 2;

    static void BSplineCoefficients(double[] s, double[] c)
    {
        var n = s.Length;
        if (n == 1) { c[0] = s[0]; return; }
        var z = Pole;
        var lambda = (1 - z) * (1 - 1 / z);
        for (var i = 0; i < n; i++) c[i] = s[i] * lambda;
        // Causal initialisation with mirror-symmetric extension, truncated where z^k is negligible.
        var horizon = Math.Min(n, (int)Math.Ceiling(Math.Log(1e-12) / Math.Log(Math.Abs(z))));
        double sum = c[0], zk = z;
        for (var k = 1; k < horizon; k++) { sum += zk * c[k]; zk *= z; }
        c[0] = sum;
        for (var k = 1; k < n; k++) c[k] += z * c[k - 1];
        c[n - 1] = z / (z * z - 1) * (c[n - 1] + z * c[n - 2]);
        for (var k = n - 2; k >= 0; k--) c[k] = z * (c[k + 1] - c[k]);
    }

    static double CubicAt(double[] c, double x)
    {
        var n = c.Length;
        var i = (int)Math.Floor(x);
        var t = x - i;
        var t2 = t * t; var t3 = t2 * t;
        Span<double> w = [(1 - t) * (1 - t) * (1 - t) / 6, (4 - 6 * t2 + 3 * t3) / 6, (1 + 3 * t + 3 * t2 - 3 * t3) / 6, t3 / 6];
        double v = 0;
        for (var k = 0; k < 4; k++) v += w[k] * c[Mirror(i - 1 + k, n)];
        return v;
    }

    static int Mirror(int i, int n)
    {
        if (n == 1) return 0;
        while (i < 0 || i >= n) i = i < 0 ? -i : 2 * n - 2 - i;
        return i;
    }
}

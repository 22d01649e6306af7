namespace Casebook.Extract.Radiomics;

/// <summary>
/// IBSI 1 intensity-based statistics (on the intensity-mask voxels), intensity histogram (on their discretised levels)
/// and intensity-volume histogram features. Keys are the manual's labels as in the reference CSV.
/// </summary>
public static class IntensityFeatures
{
    /// <summary>Percentile with linear interpolation between order statistics (numpy's default, used by the IBSI reference).</summary>
    public static double Percentile(double[] sorted, double p)
    {
        if (sorted.Length == 1) return sorted[0];
        var pos = p / 100.0 * (sorted.Length - 1);
        var lo = (int)Math.Floor(pos);
        var hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }

    /// <summary>The statistics shared by the "stat_" (raw intensities) and "int_hist_" (discretised) families.</summary>
    static void Moments(double[] x, string prefix, Dictionary<string, double> f, bool histogram)
    {
        var n = x.Length;
        var sorted = (double[])x.Clone();
        Array.Sort(sorted);
        double mean = 0;
        foreach (var v in x) mean += v;
        mean /= n;
        double m2 = 0, m3 = 0, m4 = 0, mad = 0;
        foreach (var v in x)
        {
            var d = v - mean;
            m2 += d * d; m3 += d * d * d; m4 += d * d * d * d; mad += Math.Abs(d);
        }
        m2 /= n; m3 /= n; m4 /= n; mad /= n;
        var median = Percentile(sorted, 50);
        double p10 = Percentile(sorted, 10), p90 = Percentile(sorted, 90), p25 = Percentile(sorted, 25), p75 = Percentile(sorted, 75);

        f[prefix + "mean"] = mean;
        f[prefix + "variance"] = m2;
        f[prefix + "skewness"] = m2 > 0 ? m3 / Math.Pow(m2, 1.5) : 0;
        f[prefix + "kurtosis"] = m2 > 0 ? m4 / (m2 * m2) - 3 : 0;
        f[prefix + "median"] = median;
        f[prefix + "minimum"] = sorted[0];
        f[prefix + "p10"] = p10;
        f[prefix + "p90"] = p90;
        f[prefix + "maximum"] = sorted[^1];
        f[prefix + "iqr"] = p75 - p25;
        f[prefix + "range"] = sorted[^1] - sorted[0];
        f[prefix + "mean_absolute_dev"] = mad;

        // Robust MAD: over the voxels between the 10th and 90th percentiles, about their own mean.
        double rs = 0; var rn = 0;
        foreach (var v in x) if (v >= p10 && v <= p90) { rs += v; rn++; }
        var rmean = rs / rn;
        double rmad = 0;
        foreach (var v in x) if (v >= p10 && v <= p90) rmad += Math.Abs(v - rmean);
        f[prefix + "robust_mean_absolute_dev"] = rmad / rn;

        double medad = 0;
        foreach (var v in x) medad += Math.Abs(v - median);
        f[prefix + "median_absolute_dev"] = medad / n;
        f[prefix + "coef_of_variation"] = Math.Sqrt(m2) / mean;
        // The CSV labels the histogram variant "int_quartile_coef_dispersion" (the manual's label), not "int_hist_…".
        f[(histogram ? "int_" : prefix) + "quartile_coef_dispersion"] = (p75 - p25) / (p75 + p25);
    }

    public static void Statistics(double[] x, Dictionary<string, double> f)
    {
        Moments(x, "stat_", f, histogram: false);
        double energy = 0;
        foreach (var v in x) energy += v * v;
        f["stat_energy"] = energy;
        f["stat_root_mean_square"] = Math.Sqrt(energy / x.Length);
    }

    /// <summary>Intensity histogram features of discretised levels 1..<paramref name="levelCount"/>.</summary>
    public static void Histogram(int[] levels, int levelCount, Dictionary<string, double> f)
    {
        var x = levels.Select(l => (double)l).ToArray();
        Moments(x, "int_hist_", f, histogram: true);
        var ng = Math.Max(levelCount, levels.Max());
        var h = new long[ng + 1];
        foreach (var l in levels) h[l]++;
        var n = (double)levels.Length;
        var mean = f["int_hist_mean"];

        // Mode: the most frequent level; on a tie the one nearest the mean.
        var mode = 1;
        for (var i = 2; i <= ng; i++)
            if (h[i] > h[mode] || (h[i] == h[mode] && Math.Abs(i - mean) < Math.Abs(mode - mean))) mode = i;
        f["int_hist_mode"] = mode;

        double entropy = 0, uniformity = 0;
        for (var i = 1; i <= ng; i++)
        {
            if (h[i] == 0) continue;
            var p = h[i] / n;
            entropy -= p * Math.Log2(p);
            uniformity += p * p;
        }
        f["int_hist_entropy"] = entropy;
        f["int_hist_uniformity"] = uniformity;

        // Histogram gradient over the non-sparse histogram 1..Ng: one-sided at the ends, central inside.
        double maxG = double.NegativeInfinity, minG = double.PositiveInfinity; int maxAt = 1, minAt = 1;
        for (var i = 1; i <= ng; i++)
        {
            double g = ng == 1 ? 0 : i == 1 ? h[2] - h[1] : i == ng ? h[ng] - h[ng - 1] : (h[i + 1] - h[i - 1]) / 2.0;
            if (g > maxG) { maxG = g; maxAt = i; }
            if (g < minG) { minG = g; minAt = i; }
        }
        f["int_hist_max_gradient"] = maxG;
        f["int_hist_max_gradient_intensity"] = maxAt;
        f["int_hist_min_gradient"] = minG;
        f["int_hist_min_gradient_intensity"] = minAt;
    }

    /// <summary>
    /// Intensity-volume histogram features. The intensities are discretised per <see cref="RadiomicsSettings.Ivh"/>;
    /// the total range G is the re-segmentation range where one applies, else the ROI's range.
    /// </summary>
    public static void VolumeHistogram(double[] x, RadiomicsSettings s, Dictionary<string, double> f)
    {
        double[] values; double gMin, gMax, step;
        switch (s.Ivh)
        {
            case IvhMode.FixedBinSize:
            {
                var w = s.IvhValue;
                double lo = s.RangeMin ?? x.Min(), hi = s.RangeMax ?? x.Max();
                values = Discretisation.FixedBinSize(x, w, lo).Select(d => lo + (d - 0.5) * w).ToArray();
                gMin = lo + 0.5 * w; gMax = hi - 0.5 * w; step = w;
                break;
            }
            case IvhMode.FixedBinNumber:
            {
                var ng = (int)s.IvhValue;
                values = Discretisation.FixedBinNumber(x, ng).Select(d => (double)d).ToArray();
                gMin = 1; gMax = ng; step = 1;
                break;
            }
            default:
                values = x;
                gMin = s.RangeMin ?? x.Min(); gMax = s.RangeMax ?? x.Max(); step = 1;
                break;
        }
        Array.Sort(values);
        var n = values.Length;
        var steps = (int)Math.Round((gMax - gMin) / step);
        // ν_i: fraction of voxels with intensity ≥ i; γ_i: position of i in G.
        var nu = new double[steps + 1];
        var gamma = new double[steps + 1];
        var intensity = new double[steps + 1];
        for (var k = 0; k <= steps; k++)
        {
            var i = gMin + k * step;
            intensity[k] = i;
            nu[k] = 1 - LowerBound(values, i - 1e-9 * Math.Max(1, Math.Abs(step))) / (double)n;
            gamma[k] = steps == 0 ? 0 : k / (double)steps;
        }
        double VolumeAt(double fraction)
        {
            for (var k = 0; k <= steps; k++) if (gamma[k] >= fraction - 1e-12) return nu[k];
            return 0;
        }
        double IntensityAt(double fraction)
        {
            for (var k = 0; k <= steps; k++) if (nu[k] <= fraction + 1e-12) return intensity[k];
            return gMax + step;
        }
        double v10 = VolumeAt(0.1), v90 = VolumeAt(0.9), i10 = IntensityAt(0.1), i90 = IntensityAt(0.9);
        f["int_vol_hist_volume_at_intensity_10"] = v10;
        f["int_vol_hist_volume_at_intensity_90"] = v90;
        f["int_vol_hist_intensity_at_volume_10"] = i10;
        f["int_vol_hist_intensity_at_volume_90"] = i90;
        f["int_vol_hist_volume_at_intensity_difference"] = v10 - v90;
        f["int_vol_hist_intensity_at_volume_difference"] = i10 - i90;
        // Area under the IVH curve (trapezoids over γ).
        double auc = 0;
        for (var k = 1; k <= steps; k++) auc += (gamma[k] - gamma[k - 1]) * (nu[k] + nu[k - 1]) / 2;
        f["int_vol_hist_area_under_curve"] = auc;
    }

    /// <summary>Number of sorted values strictly below <paramref name="v"/>.</summary>
    static int LowerBound(double[] sorted, double v)
    {
        int lo = 0, hi = sorted.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (sorted[mid] < v) lo = mid + 1; else hi = mid;
        }
        return lo;
    }
}

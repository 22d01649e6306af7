namespace Casebook.Extract.Radiomics;

/// <summary>IBSI 1 intensity discretisation: fixed bin number over the ROI range, or fixed bin size from a minimum.</summary>
public static class Discretisation
{
    /// <summary>
    /// Fixed bin size w: level = ⌊(X − X_min)/w⌋ + 1, where X_min is the lower re-segmentation bound when one is set
    /// (so bins line up across patients), else the ROI minimum.
    /// </summary>
    public static int[] FixedBinSize(double[] x, double width, double? rangeMin)
    {
        if (width <= 0) throw new ArgumentException("the bin width must be positive");
        var min = rangeMin ?? x.Min();
        var d = new int[x.Length];
        for (var i = 0; i < x.Length; i++) d[i] = (int)Math.Floor((x[i] - min) / width) + 1;
        return d;
    }

    /// <summary>Fixed bin number Ng: level = ⌊Ng (X − min)/(max − min)⌋ + 1, the maximum itself in bin Ng.</summary>
    public static int[] FixedBinNumber(double[] x, int bins)
    {
        if (bins < 1) throw new ArgumentException("the number of bins must be at least 1");
        double min = x.Min(), max = x.Max();
        var d = new int[x.Length];
        for (var i = 0; i < x.Length; i++)
            d[i] = max > min ? Math.Min(bins, (int)Math.Floor(bins * (x[i] - min) / (max - min)) + 1) : 1;
        return d;
    }

    /// <summary>Discretises per the settings; returns the levels and the level count Ng the histogram spans.</summary>
    public static (int[] Levels, int LevelCount) Apply(double[] x, RadiomicsSettings s)
    {
        if (s.Discretisation == DiscretisationMethod.FixedBinNumber)
        {
            var ng = (int)s.DiscretisationValue;
            return (FixedBinNumber(x, ng), ng);
        }
        var levels = FixedBinSize(x, s.DiscretisationValue, s.RangeMin);
        return (levels, Math.Max(1, levels.Max()));
    }
}

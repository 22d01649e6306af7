namespace Casebook.Extract.Radiomics.Texture;

/// <summary>Feature aggregation (IBSI 5QB6) and naming of the output keys.</summary>
internal static class Aggregate
{
    /// <summary>
    /// Component-wise mean over the feature vectors of several matrices (slices and/or directions). A value that is
    /// undefined for one matrix (NaN: an empty slice, or correlation of a single-level slice) is left out of its mean
    /// rather than poisoning it; the mean is NaN only when no matrix defines the feature.
    /// </summary>
    public static double[] Mean(IReadOnlyList<double[]> vectors)
    {
        if (vectors.Count == 0) return [];
        var n = vectors[0].Length;
        var sum = new double[n];
        var count = new int[n];
        foreach (var v in vectors)
            for (var k = 0; k < n; k++)
            {
                if (double.IsNaN(v[k])) continue;
                sum[k] += v[k];
                count[k]++;
            }
        for (var k = 0; k < n; k++) sum[k] = count[k] > 0 ? sum[k] / count[k] : double.NaN;
        return sum;
    }

    /// <summary>Writes <c>string.Format(prefix, name) + aggregation</c> → value for each feature.</summary>
    public static void Emit(IDictionary<string, double> output, string prefix, string aggregation, string[] names, double[] values)
    {
        for (var k = 0; k < names.Length; k++)
            output[string.Format(prefix, names[k]) + aggregation] = values.Length > k ? values[k] : double.NaN;
    }
}

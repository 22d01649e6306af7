namespace Casebook.Embed;

/// <summary>Query-side re-ranking helpers that need no labels.</summary>
public static class QueryExpansion
{
    /// <summary>
    /// α-query expansion (Radenović et al., 2018): the new query is the normalised sum of the query and its
    /// <paramref name="k"/> nearest gallery vectors, each weighted by max(0, similarity)^<paramref name="alpha"/>.
    /// All vectors must be L2-normalised and of one model.
    /// </summary>
    public static float[] AlphaExpand(ReadOnlySpan<float> query, IReadOnlyList<float[]> gallery, int k = 5, double alpha = 3.0)
    {
        if (k < 0) throw new ArgumentException("k must be non-negative");
        var expanded = query.ToArray();
        if (k == 0 || gallery.Count == 0) return expanded;
        var top = new List<(float score, int index)>(k + 1);
        for (var i = 0; i < gallery.Count; i++)
        {
            var score = VectorMath.Dot(query, gallery[i]);
            if (top.Count == k && score <= top[^1].score) continue;
            var at = top.FindIndex(t => t.score < score);
            top.Insert(at < 0 ? top.Count : at, (score, i));
            if (top.Count > k) top.RemoveAt(k);
        }
        foreach (var (score, index) in top)
        {
            var weight = (float)Math.Pow(Math.Max(0, score), alpha);
            System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(gallery[index], weight, expanded, expanded);
        }
        VectorMath.NormalizeInPlace(expanded);
        return expanded;
    }
}

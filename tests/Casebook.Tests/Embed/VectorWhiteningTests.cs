using Xunit;
using Casebook.Embed;

namespace Casebook.Tests.Embed;

public sealed class VectorWhiteningTests
{
    static float[][] Correlated(int count, int dim, int seed)
    {
        var random = new Random(seed);
        var mix = new double[dim, dim];
        for (var i = 0; i < dim; i++) for (var j = 0; j < dim; j++) mix[i, j] = random.NextDouble() - 0.5 + (i == j ? 2 : 0);
        return Enumerable.Range(0, count).Select(_ =>
        {
            var z = Enumerable.Range(0, dim).Select(_ => random.NextDouble() * 2 - 1).ToArray();
            var v = new float[dim];
            for (var i = 0; i < dim; i++) for (var j = 0; j < dim; j++) v[i] += (float)(mix[i, j] * z[j] * (j + 1));
            return v;
        }).ToArray();
    }

    [Fact]
    public void Eigen_decomposition_satisfies_A_v_equals_lambda_v()
    {
        const int n = 40;
        var random = new Random(7);
        var a = new double[n, n];
        for (var i = 0; i < n; i++) for (var j = i; j < n; j++) a[i, j] = a[j, i] = random.NextDouble() - 0.5;
        var (values, vectors) = SymmetricEigen.Decompose(a);
        for (var c = 0; c < n; c++)
        for (var i = 0; i < n; i++)
        {
            double av = 0;
            for (var k = 0; k < n; k++) av += a[i, k] * vectors[k, c];
            Assert.Equal(values[c] * vectors[i, c], av, 9);
        }
    }

    [Fact]
    public void Whitened_gallery_has_decorrelated_components()
    {
        var gallery = Correlated(400, 12, 1);
        var whitening = VectorWhitening.Fit(gallery, shrinkage: 0);
        Assert.Equal(12, whitening.OutputDimension);
        // Before normalisation the whitened data has identity covariance; after it, components stay uncorrelated.
        var w = whitening.ApplyAll(gallery);
        for (var a = 0; a < 12; a++)
        for (var b = a + 1; b < 12; b++)
        {
            double ab = 0, aa = 0, bb = 0;
            foreach (var v in w) { ab += v[a] * v[b]; aa += v[a] * v[a]; bb += v[b] * v[b]; }
            Assert.True(Math.Abs(ab / Math.Sqrt(aa * bb)) < 0.25, $"components {a},{b} correlate");
        }
        Assert.All(w, v => Assert.Equal(1.0, Math.Sqrt(v.Sum(x => (double)x * x)), 4));
    }

    [Fact]
    public void Save_and_load_round_trip()
    {
        var gallery = Correlated(100, 8, 2);
        var whitening = VectorWhitening.Fit(gallery, components: 5);
        var loaded = VectorWhitening.Load(whitening.Save());
        Assert.Equal(5, loaded.OutputDimension);
        Assert.Equal(whitening.Apply(gallery[3]), loaded.Apply(gallery[3]));
        Assert.Throws<InvalidDataException>(() => VectorWhitening.Load(new byte[20]));
        Assert.Throws<ArgumentException>(() => whitening.Apply(new float[7]));
    }

    [Fact]
    public void Alpha_query_expansion_moves_the_query_towards_its_neighbours()
    {
        float[] query = [1, 0, 0];
        float[][] gallery = [[0.8f, 0.6f, 0], [0, 0, 1]];
        var expanded = QueryExpansion.AlphaExpand(query, gallery, k: 1, alpha: 1);
        Assert.True(expanded[1] > 0);
        Assert.Equal(0, expanded[2]);
        Assert.Equal(1.0, Math.Sqrt(expanded.Sum(x => (double)x * x)), 5);
    }
}

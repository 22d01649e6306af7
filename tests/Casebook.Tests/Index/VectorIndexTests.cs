using Casebook.Index;
using Xunit;

namespace Casebook.Tests.Index;

public class VectorIndexTests
{
    const int Dims = 64;

    /// <summary>Unit vectors drawn around <paramref name="clusters"/> random centres (embedding-like structure).</summary>
    static float[][] Clustered(int n, int clusters, int seed, float spread = 0.35f)
    {
        var rng = new Random(seed);
        var centres = Enumerable.Range(0, clusters).Select(_ => Gaussian(rng, Dims, 1f)).ToArray();
        return Enumerable.Range(0, n).Select(i =>
        {
            var c = centres[rng.Next(clusters)];
            var noise = Gaussian(rng, Dims, spread);
            return Normalised(c.Zip(noise, (a, b) => a + b).ToArray());
        }).ToArray();
    }

    static float[] Gaussian(Random rng, int dims, float sigma) =>
        Enumerable.Range(0, dims).Select(_ => sigma * (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()))).ToArray();

    static float[] Normalised(float[] v)
    {
        float n = MathF.Sqrt(v.Sum(x => x * x));
        return v.Select(x => x / n).ToArray();
    }

    static VectorHit[] BruteForce(float[][] vectors, IEnumerable<long> keys, float[] query, int k)
    {
        var q = Normalised(query);
        return keys.Select(key => new VectorHit(key, vectors[key].Zip(q, (a, b) => a * b).Sum()))
            .OrderByDescending(h => h.Score).ThenBy(h => h.Key).Take(k).ToArray();
    }

    static VectorIndex Build(float[][] vectors, VectorIndexOptions? options = null)
    {
        var index = new VectorIndex(Dims, options);
        for (int i = 0; i < vectors.Length; i++) index.Add(i, vectors[i]);
        return index;
    }

    [Fact]
    public void Search_finds_the_vector_itself_first()
    {
        var vectors = Clustered(500, 10, 1);
        using var index = Build(vectors);
        Assert.Equal(500, index.Count);
        for (int i = 0; i < 50; i++)
        {
            var hits = index.Search(vectors[i], 5);
            Assert.Equal(5, hits.Count);
            Assert.Equal(i, hits[0].Key);
            Assert.Equal(1f, hits[0].Score, 4);
            Assert.True(hits.Zip(hits.Skip(1)).All(p => p.First.Score >= p.Second.Score), "best first");
        }
    }

    [Fact]
    public void Removed_keys_never_come_back()
    {
        var vectors = Clustered(5000, 20, 2);
        using var index = Build(vectors, new VectorIndexOptions { ExactBelowCount = 0 });
        var removed = Enumerable.Range(0, 5000).Where(i => i % 3 == 0).Select(i => (long)i).ToHashSet();
        foreach (var key in removed) Assert.True(index.Remove(key));
        Assert.False(index.Remove(0));
        Assert.False(index.Contains(0));
        Assert.Equal(5000 - removed.Count, index.Count);
        for (int i = 0; i < 200; i++)
        {
            Assert.DoesNotContain(index.Search(vectors[i], 10), h => removed.Contains(h.Key));
            Assert.DoesNotContain(index.SearchExact(vectors[i], 10), h => removed.Contains(h.Key));
            Assert.DoesNotContain(index.SearchQuantised(vectors[i], 10), h => removed.Contains(h.Key));
            Assert.DoesNotContain(index.Search(vectors[i], 10, key => key < 100), h => removed.Contains(h.Key));
        }
    }

    [Fact]
    public void Add_with_an_existing_key_replaces_the_vector()
    {
        var vectors = Clustered(3000, 10, 3);
        using var index = Build(vectors, new VectorIndexOptions { ExactBelowCount = 0 });
        index.Add(7, vectors[2999]);
        Assert.Equal(3000, index.Count);
        var hits = index.Search(vectors[2999], 2);
        Assert.Equal(new long[] { 7, 2999 }, hits.Select(h => h.Key).ToArray()); // tie at 1.0 broken by key
        Assert.DoesNotContain(index.SearchExact(vectors[7], 20), h => h.Key == 7 && h.Score > 0.9999f && vectors[7] != vectors[2999]);
        var stored = new float[Dims];
        Assert.True(index.TryGetVector(7, stored));
        Assert.Equal(vectors[2999], stored, (a, b) => Math.Abs(a - b) < 1e-6);
    }

    [Fact]
    public void Filtered_search_returns_every_match_when_fewer_than_k()
    {
        var vectors = Clustered(20_000, 50, 4);
        using var index = Build(vectors);
        var query = vectors[123];
        // Three matching keys far apart: a graph walk alone would rarely reach all of them.
        var wanted = new HashSet<long> { 5, 9_999, 19_998 };
        var hits = index.Search(query, 10, wanted.Contains);
        Assert.Equal(wanted.Order(), hits.Select(h => h.Key).Order());
        var byCandidates = index.Search(query, 10, (IReadOnlyCollection<long>)wanted);
        Assert.Equal(wanted.Order(), byCandidates.Select(h => h.Key).Order());

        // A broad filter (half the keys) takes the graph path and still returns k passing results.
        var even = index.Search(query, 10, key => key % 2 == 0);
        Assert.Equal(10, even.Count);
        Assert.All(even, h => Assert.True(h.Key % 2 == 0));
        var exactEven = BruteForce(vectors, Enumerable.Range(0, vectors.Length).Where(i => i % 2 == 0).Select(i => (long)i), query, 10);
        Assert.True(even.Select(h => h.Key).Intersect(exactEven.Select(h => h.Key)).Count() >= 8);

        // No match at all: empty, not an error.
        Assert.Empty(index.Search(query, 10, _ => false));
    }

    [Fact]
    public void Exact_search_equals_brute_force()
    {
        var vectors = Clustered(3000, 15, 5);
        using var index = Build(vectors);
        index.Remove(10);
        var live = Enumerable.Range(0, 3000).Where(i => i != 10).Select(i => (long)i).ToArray();
        var rng = new Random(9);
        for (int t = 0; t < 30; t++)
        {
            var query = Gaussian(rng, Dims, 1f); // not normalised: the index normalises queries
            var expected = BruteForce(vectors, live, query, 25);
            var actual = index.SearchExact(query, 25);
            Assert.Equal(expected.Select(h => h.Key), actual.Select(h => h.Key));
            Assert.All(expected.Zip(actual), p => Assert.Equal(p.First.Score, p.Second.Score, 4));

            var subset = live.Where(k => k % 7 == 1).ToArray();
            Assert.Equal(BruteForce(vectors, subset, query, 5).Select(h => h.Key), index.SearchExact(query, 5, subset).Select(h => h.Key));
        }
    }

    [Fact]
    public void Quantised_scan_matches_exact_top_ten()
    {
        var vectors = Clustered(10_000, 40, 6);
        using var index = Build(vectors);
        var rng = new Random(11);
        int agree = 0;
        for (int t = 0; t < 50; t++)
        {
            var query = vectors[rng.Next(vectors.Length)];
            var exact = index.SearchExact(query, 10).Select(h => h.Key).ToHashSet();
            agree += index.SearchQuantised(query, 10).Count(h => exact.Contains(h.Key));
        }
        Assert.True(agree >= 0.99 * 500, $"quantised recall@10 {agree / 500.0}");
    }

    [Fact]
    public void Save_and_load_round_trip()
    {
        var vectors = Clustered(4000, 20, 7);
        var dir = Directory.CreateTempSubdirectory("casebook-vector-");
        try
        {
            var path = Path.Combine(dir.FullName, "text.cbvec");
            using (var index = Build(vectors, new VectorIndexOptions { ExactBelowCount = 0, ExpansionSearch = 40 }))
            {
                index.Remove(3);
                index.Save(path);
                index.Save(path); // overwriting an existing file is atomic too
            }
            Assert.Single(dir.GetFiles()); // no temp file left behind
            using var loaded = VectorIndex.Load(path);
            Assert.Equal(3999, loaded.Count);
            Assert.False(loaded.Contains(3));
            Assert.Equal(40, loaded.Options.ExpansionSearch);
            Assert.Equal(vectors[1], GetVector(loaded, 1), (a, b) => Math.Abs(a - b) < 1e-6);
            Assert.Equal(1, loaded.Search(vectors[1], 1)[0].Key);
            Assert.DoesNotContain(loaded.Search(vectors[3], 10), h => h.Key == 3);
            loaded.Add(5000, vectors[3]);
            Assert.Equal(5000, loaded.Search(vectors[3], 1)[0].Key);

            File.WriteAllBytes(path + ".bad", File.ReadAllBytes(path)[..1000]);
            Assert.Throws<InvalidDataException>(() => VectorIndex.Load(path + ".bad"));
        }
        finally { dir.Delete(recursive: true); }
    }

    static float[] GetVector(VectorIndex index, long key)
    {
        var v = new float[index.Dimensions];
        Assert.True(index.TryGetVector(key, v));
        return v;
    }

    [Theory]
    [InlineData(GraphPrecision.Float32)]
    [InlineData(GraphPrecision.Float16)]
    [InlineData(GraphPrecision.Int8)]
    public void Graph_recall_on_clustered_vectors(GraphPrecision precision)
    {
        var vectors = Clustered(20_000, 100, 8);
        using var index = new VectorIndex(Dims, new VectorIndexOptions { GraphPrecision = precision, ExactBelowCount = 0 });
        index.AddRange(Enumerable.Range(0, vectors.Length).Select(i => (long)i).ToArray(), vectors.SelectMany(v => v).ToArray());
        Assert.Equal(vectors.Length, index.Count);
        var rng = new Random(12);
        double recall = 0;
        const int queries = 100;
        for (int t = 0; t < queries; t++)
        {
            var query = Normalised(vectors[rng.Next(vectors.Length)].Zip(Gaussian(rng, Dims, 0.1f), (a, b) => a + b).ToArray());
            var exact = index.SearchExact(query, 10).Select(h => h.Key).ToHashSet();
            recall += index.Search(query, 10).Count(h => exact.Contains(h.Key)) / 10.0;
        }
        Assert.True(recall / queries >= 0.9, $"{precision} recall@10 {recall / queries}");
    }

    [Fact]
    public async Task Concurrent_readers_during_writes_see_consistent_results()
    {
        var vectors = Clustered(8000, 20, 9);
        using var index = Build(vectors[..4000], new VectorIndexOptions { ExactBelowCount = 0 });
        using var stop = new CancellationTokenSource();
        var errors = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        var readers = Enumerable.Range(0, 6).Select(r => Task.Run(() =>
        {
            var rng = new Random(r);
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    var q = vectors[rng.Next(vectors.Length)];
                    var hits = r % 3 == 0 ? index.Search(q, 10) : r % 3 == 1 ? index.Search(q, 10, k => k % 5 == 0) : index.SearchQuantised(q, 10);
                    if (hits.Count != 10) throw new Exception($"reader {r} got {hits.Count} hits");
                }
            }
            catch (Exception e) { errors.Enqueue(e); }
        })).ToArray();

        for (int i = 4000; i < 8000; i++) index.Add(i, vectors[i]);
        for (int i = 1; i < 4000; i += 4) index.Remove(i);
        stop.Cancel();
        await Task.WhenAll(readers);
        Assert.Empty(errors);
        Assert.Equal(8000 - 1000, index.Count);
        for (int i = 1; i < 400; i += 4) Assert.DoesNotContain(index.Search(vectors[i], 10), h => h.Key % 4 == 1 && h.Key < 4000);
    }

    [Fact]
    public void Bad_input_is_rejected()
    {
        using var index = new VectorIndex(Dims);
        Assert.Throws<ArgumentException>(() => index.Add(1, new float[Dims - 1]));
        Assert.Throws<ArgumentException>(() => index.Add(1, new float[Dims]));
        Assert.Throws<ArgumentOutOfRangeException>(() => index.Add(-1, Normalised(Enumerable.Repeat(1f, Dims).ToArray())));
        Assert.Empty(index.Search(Enumerable.Repeat(1f, Dims).ToArray(), 10));
    }
}

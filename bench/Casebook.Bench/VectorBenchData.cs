using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.RegularExpressions;
using Casebook.Embed;
using Casebook.Index;

namespace Casebook.Bench;

/// <summary>
/// Datasets for <see cref="VectorBenchmarks"/>: "real" MiniLM vectors of every ≤40-word chunk of the shared text and
/// IR corpora (sentences packed greedily, longer sentences cut into 40-word windows, duplicates and chunks under three
/// words dropped), 1,000 of them held back as queries; and "derived" vectors
/// normalise(λ·r_i + (1−λ)·r_j + 0.02·g), r_j among r_i's 20 nearest real neighbours, λ ~ U(0.5, 1), g ~ N(0, I).
/// Everything is cached as raw little-endian float32 files in the work folder.
/// </summary>
internal static partial class VectorBenchData
{
    public const int Dims = 384;
    public const int QueryCount = 1000;
    const int Seed = 20261125;

    public sealed record Real(float[] Base, float[] Queries, int BaseCount, double EmbedSeconds, string Source);

    public static Real LoadOrEmbedReal(string sharedDataDir, string workDir)
    {
        var basePath = Path.Combine(workDir, "real-base.f32");
        var queryPath = Path.Combine(workDir, "real-queries.f32");
        if (File.Exists(basePath) && File.Exists(queryPath))
        {
            var b = ReadF32(basePath); var q = ReadF32(queryPath);
            return new Real(b, q, b.Length / Dims, 0, "cached");
        }
        var chunks = Chunks(sharedDataDir);
        var rng = new Random(Seed);
        rng.Shuffle(chunks);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        using var embedder = new MiniLmTextEmbedder(new TextEmbedderOptions { BatchSize = 64 });
        var all = new float[chunks.Length * Dims];
        for (int start = 0; start < chunks.Length; start += 1024)
        {
            var batch = chunks[start..Math.Min(chunks.Length, start + 1024)];
            var vectors = embedder.Embed(batch);
            for (int i = 0; i < vectors.Length; i++) vectors[i].CopyTo(all, (start + i) * Dims);
            Console.Error.WriteLine($"  embedded {start + batch.Length}/{chunks.Length} ({sw.Elapsed.TotalSeconds:F0} s)");
        }
        var queries = all[..(QueryCount * Dims)];
        var baseVectors = all[(QueryCount * Dims)..];
        WriteF32(basePath, baseVectors);
        WriteF32(queryPath, queries);
        return new Real(baseVectors, queries, baseVectors.Length / Dims, sw.Elapsed.TotalSeconds, $"{embedder.Model.Id}");
    }

    /// <summary>Real vectors first, then derived ones, up to <paramref name="total"/> rows.</summary>
    public static float[] LoadOrDerive(Real real, VectorIndex realIndex, int total, string workDir)
    {
        var path = Path.Combine(workDir, $"derived-{total}.f32");
        if (File.Exists(path) && new FileInfo(path).Length == (long)total * Dims * 4) return ReadF32(path);
        var all = GC.AllocateUninitializedArray<float>(total * Dims);
        int n = real.BaseCount;
        real.Base.AsSpan(0, Math.Min(n, total) * Dims).CopyTo(all);
        if (total > n)
        {
            // 20 nearest real neighbours of every real vector (graph search is ample for picking partners).
            var neighbours = new long[n][];
            Parallel.For(0, n, i => neighbours[i] = realIndex.Search(real.Base.AsSpan(i * Dims, Dims), 21)
                .Where(h => h.Key != i).Take(20).Select(h => h.Key).ToArray());
            var rng = new Random(Seed + 1);
            var g = new float[Dims];
            for (int row = n; row < total; row++)
            {
                int i = rng.Next(n);
                long j = neighbours[i].Length > 0 ? neighbours[i][rng.Next(neighbours[i].Length)] : i;
                float lambda = 0.5f + 0.5f * rng.NextSingle();
                var dest = all.AsSpan(row * Dims, Dims);
                for (int d = 0; d < Dims; d++) g[d] = (float)Gaussian(rng);
                TensorPrimitives.Multiply(real.Base.AsSpan(i * Dims, Dims), lambda, dest);
                TensorPrimitives.MultiplyAdd(real.Base.AsSpan((int)j * Dims, Dims), 1 - lambda, dest, dest);
                TensorPrimitives.MultiplyAdd(g, 0.02f, dest, dest);
                TensorPrimitives.Divide(dest, TensorPrimitives.Norm(dest), dest);
            }
        }
        WriteF32(path, all);
        return all;
    }

    static double Gaussian(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    // ---- text extraction --------------------------------------------------------------------------------------

    public static string[] Chunks(string sharedDataDir)
    {
        var texts = new List<string>();
        foreach (var dir in new[] { "text", "ir" })
        {
            var root = Path.Combine(sharedDataDir, dir);
            foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                switch (Path.GetExtension(file).ToLowerInvariant())
                {
                    case ".csv":
                        foreach (var row in BenchCsv.Rows(file).Skip(1))
                            texts.AddRange(row.Where(f => f.Length >= 20 && f.Contains(' ')));
                        break;
                    case ".json":
                        JsonStrings(JsonDocument.Parse(File.ReadAllText(file)).RootElement, texts);
                        break;
                    case ".textgrid":
                        foreach (Match m in TextGridLine().Matches(File.ReadAllText(file)))
                        {
                            var t = Tag().Replace(m.Groups[1].Value, "").Trim();
                            if (t.Length > 0) texts.Add(t);
                        }
                        break;
                    case ".docs" or ".queries":
                        foreach (var line in File.ReadLines(file))
                        {
                            int tab = line.IndexOf('\t');
                            if (tab > 0) texts.Add(line[(tab + 1)..]);
                        }
                        break;
                }
            }
        }
        var chunks = new List<string>();
        var seen = new HashSet<string>();
        foreach (var text in texts)
        {
            var current = new List<string>();
            void Flush()
            {
                if (current.Count >= 3) { var c = string.Join(' ', current); if (seen.Add(c)) chunks.Add(c); }
                current.Clear();
            }
            foreach (var sentence in SentenceEnd().Split(text))
            {
                var words = sentence.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
                int offset = 0;
                while (words.Length - offset > 40)
                {
                    Flush();
                    current.AddRange(words[offset..(offset + 40)]);
                    Flush();
                    offset += 40;
                }
                if (current.Count + words.Length - offset > 40) Flush();
                current.AddRange(words[offset..]);
            }
            Flush();
        }
        return chunks.ToArray();
    }

    static void JsonStrings(JsonElement e, List<string> into)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.String: var s = e.GetString()!; if (s.Contains(' ')) into.Add(s); break;
            case JsonValueKind.Object: foreach (var p in e.EnumerateObject()) JsonStrings(p.Value, into); break;
            case JsonValueKind.Array: foreach (var x in e.EnumerateArray()) JsonStrings(x, into); break;
        }
    }

    [GeneratedRegex("text = \"(.*)\"")] private static partial Regex TextGridLine();
    [GeneratedRegex("<[^>]*>")] private static partial Regex Tag();
    [GeneratedRegex(@"(?<=[.!?])\s+")] private static partial Regex SentenceEnd();

    public static float[] ReadF32(string path)
    {
        using var stream = File.OpenRead(path);
        var floats = GC.AllocateUninitializedArray<float>((int)(stream.Length / 4));
        stream.ReadExactly(MemoryMarshal.AsBytes(floats.AsSpan()));
        return floats;
    }

    public static void WriteF32(string path, ReadOnlySpan<float> data)
    {
        var tmp = path + ".tmp";
        using (var s = File.Create(tmp)) s.Write(MemoryMarshal.AsBytes(data));
        File.Move(tmp, path, overwrite: true);
    }

    public static void WriteI32(string path, ReadOnlySpan<int> data)
    {
        using var s = File.Create(path);
        s.Write(MemoryMarshal.AsBytes(data));
    }
}

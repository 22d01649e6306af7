using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Casebook.Index;

namespace Casebook.Bench;

/// <summary>
/// Casebook's vector index (USearch HNSW + float32/int8 scans) against LanceDB 0.31.0 on the same vectors, queries
/// and exact ground truth. One query at a time, one thread; latencies are medians (p50) and 95th percentiles over
/// 1,000 queries after 100 warm-up queries. Returns a markdown section.
/// </summary>
public static class VectorBenchmarks
{
    const int K = 10;
    const int Dims = VectorBenchData.Dims;

    public static string Run(string sharedDataDir, string workDir, bool include1M)
    {
        Directory.CreateDirectory(workDir);
        var md = new StringBuilder();
        md.AppendLine("## Vector index: Casebook (USearch HNSW + exact scans) vs LanceDB 0.31.0").AppendLine();
        var real = VectorBenchData.LoadOrEmbedReal(sharedDataDir, workDir);
        md.AppendLine($"Method: {real.BaseCount:N0} real all-MiniLM-L6-v2 vectors (≤40-word chunks of shared/data/text and shared/data/ir, " +
                      $"deduplicated; embedding {(real.EmbedSeconds > 0 ? $"took {real.EmbedSeconds:F0} s" : "cached")}), {VectorBenchData.QueryCount:N0} held-back chunks as queries. " +
                      "Recall@10 is against the exact float32 top 10. Latency: one query at a time on one thread, after 100 warm-up queries; " +
                      $"p50/p95 in ms. Machine: {Environment.ProcessorCount} cores (shared). LanceDB runs in Node 20 in the same run, on the same files.").AppendLine();

        var defaults = new VectorIndexOptions();
        md.AppendLine($"Casebook parameters: connectivity (M) {defaults.Connectivity}, expansion_add {defaults.ExpansionAdd}, graph copy {defaults.GraphPrecision}, " +
                      $"graph asked for k×{defaults.RerankMultiplier} candidates re-scored in float32; int8 scan keeps k×{defaults.QuantisedRerankMultiplier} (≥64) for float32 re-scoring.").AppendLine();

        // ---- real -----------------------------------------------------------------------------------------
        // CASEBOOK_VECTOR_BENCH_ONLY_1M=1 measures only the 1M section (the real and 100k sections take ~10 minutes here).
        bool only1M = include1M && Environment.GetEnvironmentVariable("CASEBOOK_VECTOR_BENCH_ONLY_1M") == "1";
        using var realIndex = Build(real.Base, real.BaseCount, defaults, out var realBuild);
        if (!only1M)
        {
            var realRows = MeasureOurs(realIndex, real.Queries, out var realTruth, new[] { 16, 24, 32, 48, 64, 128 });
            var realPeer = RunPeer(workDir, "real", real.Base, real.Queries, realTruth, "ivf_pq,ivf_hnsw_sq");
            md.AppendLine($"### Real: {real.BaseCount:N0} × {Dims}").AppendLine();
            AppendTable(md, realIndex, realBuild, realRows, realPeer);
            md.AppendLine(FilterTable(realIndex, real.Queries));
        }

        // ---- derived: exact scans at 100k, and the 1M graph ----------------------------------------------------
        int total = include1M ? 1_000_000 : 100_000;
        var derived = VectorBenchData.LoadOrDerive(real, realIndex, total, workDir);
        if (!only1M)
        using (var index100k = Build(derived.AsMemory(0, 100_000 * Dims).ToArray(), 100_000, defaults, out var build100k))
        {
            md.AppendLine("### Exact scans at 100,000 × 384 (real + derived vectors)").AppendLine();
            var floatLat = Latencies(real.Queries, q => index100k.SearchExact(q, K));
            var truth = new HashSet<long>[VectorBenchData.QueryCount];
            for (int i = 0; i < truth.Length; i++) truth[i] = index100k.SearchExact(Query(real.Queries, i), K).Select(h => h.Key).ToHashSet();
            var quantLat = Latencies(real.Queries, q => index100k.SearchQuantised(q, K));
            double quantRecall = Recall(truth, i => index100k.SearchQuantised(Query(real.Queries, i), K));
            var graphLat = Latencies(real.Queries, q => index100k.Search(q, K));
            double graphRecall = Recall(truth, i => index100k.Search(Query(real.Queries, i), K));
            md.AppendLine("| method | p50 ms | p95 ms | recall@10 |").AppendLine("|---|---:|---:|---:|");
            md.AppendLine($"| float32 scan (TensorPrimitives.Dot) | {P(floatLat, 0.5):F2} | {P(floatLat, 0.95):F2} | 1.000 |");
            md.AppendLine($"| int8 scan + float32 re-score | {P(quantLat, 0.5):F2} | {P(quantLat, 0.95):F2} | {quantRecall:F3} |");
            md.AppendLine($"| HNSW (ef {defaults.ExpansionSearch}, built in {build100k:F1} s) | {P(graphLat, 0.5):F3} | {P(graphLat, 0.95):F3} | {graphRecall:F3} |");
            md.AppendLine();
        }

        if (include1M)
        {
            // Bulk build at 1M uses expansion_add 64 (half the build time of 128 on this 2-core machine); search ef is swept.
            using var bigIndex = Build(derived, total, defaults with { ExpansionAdd = 64 }, out var bigBuild);
            var bigRows = MeasureOurs(bigIndex, real.Queries, out var bigTruth, new[] { 32, 64, 128, 192, 256, 384 });
            // CASEBOOK_VECTOR_BENCH_NO_PEER_1M=1 skips LanceDB at 1M (its IVF_PQ build alone takes tens of minutes here).
            var bigPeer = Environment.GetEnvironmentVariable("CASEBOOK_VECTOR_BENCH_NO_PEER_1M") == "1"
                ? new List<PeerRow>() : RunPeer(workDir, "1m", derived, real.Queries, bigTruth, "ivf_pq", flat: false);
            md.AppendLine($"### 1M: {real.BaseCount:N0} real + {total - real.BaseCount:N0} derived × {Dims} (graph built with expansion_add 64)").AppendLine();
            AppendTable(md, bigIndex, bigBuild, bigRows, bigPeer);
        }
        return md.ToString();
    }

    // ---- ours -------------------------------------------------------------------------------------------------

    static VectorIndex Build(float[] vectors, int count, VectorIndexOptions options, out double seconds)
    {
        var sw = Stopwatch.StartNew();
        var index = new VectorIndex(Dims, options with { InitialCapacity = count });
        var keys = new long[count];
        for (int i = 0; i < count; i++) keys[i] = i;
        index.AddRange(keys, vectors.AsSpan(0, count * Dims));
        seconds = sw.Elapsed.TotalSeconds;
        Console.Error.WriteLine($"  built {count:N0} in {seconds:F1} s");
        return index;
    }

    sealed record Row(string Setting, double P50, double P95, double Recall);

    static List<Row> MeasureOurs(VectorIndex index, float[] queries, out int[] truthIds, int[] efs)
    {
        int nq = queries.Length / Dims;
        var truth = new HashSet<long>[nq];
        truthIds = new int[nq * K];
        var exactLat = new double[nq];
        for (int i = 0; i < nq; i++)
        {
            var sw = Stopwatch.StartNew();
            var hits = index.SearchExact(Query(queries, i), K);
            exactLat[i] = sw.Elapsed.TotalMilliseconds;
            truth[i] = hits.Select(h => h.Key).ToHashSet();
            for (int j = 0; j < K; j++) truthIds[i * K + j] = j < hits.Count ? (int)hits[j].Key : -1;
        }
        Array.Sort(exactLat);
        var rows = new List<Row> { new("float32 exact scan", P(exactLat, 0.5), P(exactLat, 0.95), 1) };
        var quant = Latencies(queries, q => index.SearchQuantised(q, K));
        rows.Add(new("int8 scan + float32 re-score", P(quant, 0.5), P(quant, 0.95), Recall(truth, i => index.SearchQuantised(Query(queries, i), K))));
        foreach (int ef in efs)
        {
            index.SetExpansionSearch(ef);
            var lat = Latencies(queries, q => index.Search(q, K));
            rows.Add(new($"HNSW ef={ef}", P(lat, 0.5), P(lat, 0.95), Recall(truth, i => index.Search(Query(queries, i), K))));
            Console.Error.WriteLine($"  {rows[^1]}");
        }
        index.SetExpansionSearch(new VectorIndexOptions().ExpansionSearch);
        return rows;
    }

    static string FilterTable(VectorIndex index, float[] queries)
    {
        // Filtered search cost by selectivity, graph walk vs exact scan of the matches: where the default thresholds come from.
        var sb = new StringBuilder();
        sb.AppendLine("Filtered search (k=10, filter = key % m == 0), p50 ms: graph walk with the filter vs exact scan over matches; `Search` picks by the thresholds.").AppendLine();
        sb.AppendLine("| matching | graph walk p50 | exact scan p50 | Search (auto) p50 | auto recall@10 |").AppendLine("|---:|---:|---:|---:|---:|");
        foreach (int m in new[] { 2, 10, 50, 200, 1000 })
        {
            Func<long, bool> f = key => key % m == 0;
            var exact = Latencies(queries, q => index.SearchExact(q, K, EnumerateMatching(index.Count, m)), 300);
            var auto = Latencies(queries, q => index.Search(q, K, f), 300);
            var graph = Latencies(queries, q => GraphOnly(index, q, f), 300);
            var truth = Enumerable.Range(0, 300).Select(i => index.SearchExact(Query(queries, i), K, EnumerateMatching(index.Count, m)).Select(h => h.Key).ToHashSet()).ToArray();
            double recall = Recall(truth, i => index.Search(Query(queries, i), K, f));
            sb.AppendLine($"| {100.0 / m:0.##}% | {P(graph, 0.5):F3} | {P(exact, 0.5):F3} | {P(auto, 0.5):F3} | {recall:F3} |");
        }
        return sb.AppendLine().ToString();
    }

    static IEnumerable<long> EnumerateMatching(int count, int m) { for (long k = 0; k < count; k += m) yield return k; }

    static IReadOnlyList<VectorHit> GraphOnly(VectorIndex index, ReadOnlySpan<float> q, Func<long, bool> f) =>
        index.SearchGraphOnly(q, K, f);

    // ---- peer -------------------------------------------------------------------------------------------------

    sealed record PeerRow(string Index, string Params, double BuildSeconds, string Setting, double P50, double P95, double Recall);

    static List<PeerRow> RunPeer(string workDir, string name, float[] baseVectors, float[] queries, int[] truth, string indexes, bool flat = true)
    {
        var peerDir = FindPeerDir();
        var basePath = Path.Combine(workDir, $"{name}-base-for-peer.f32");
        var baseLength = (long)baseVectors.Length * 4;
        if (!File.Exists(basePath) || new FileInfo(basePath).Length != baseLength) VectorBenchData.WriteF32(basePath, baseVectors);
        var queryPath = Path.Combine(workDir, $"{name}-queries.f32");
        VectorBenchData.WriteF32(queryPath, queries);
        var truthPath = Path.Combine(workDir, $"{name}-truth.i32");
        VectorBenchData.WriteI32(truthPath, truth);
        if (!Directory.Exists(Path.Combine(peerDir, "node_modules")))
            Exec("npm", "ci --no-audit --no-fund", peerDir);
        var json = Exec("node", $"vector.mjs --base {basePath} --queries {queryPath} --truth {truthPath} --dims {Dims} " +
                                $"--db {Path.Combine(workDir, $"lance-{name}")} --indexes {indexes} --flat {(flat ? 1 : 0)}", peerDir);
        Console.Error.WriteLine("  peer: " + json.Trim());
        var rows = new List<PeerRow>();
        using var doc = JsonDocument.Parse(json.Split('\n').Last(l => l.StartsWith('{')));
        foreach (var ix in doc.RootElement.GetProperty("indexes").EnumerateArray())
            foreach (var r in ix.GetProperty("results").EnumerateArray())
                rows.Add(new(ix.GetProperty("index").GetString()!, ix.GetProperty("params").GetString()!, ix.GetProperty("build_s").GetDouble(),
                    r.GetProperty("setting").GetString()!, r.GetProperty("p50_ms").GetDouble(), r.GetProperty("p95_ms").GetDouble(), r.GetProperty("recall10").GetDouble()));
        return rows;
    }

    static string FindPeerDir([System.Runtime.CompilerServices.CallerFilePath] string thisFile = "")
    {
        // Beside this source file when built from a checkout; otherwise above the binary or the working directory.
        var beside = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(thisFile) ?? ".", "..", "peers", "lancedb"));
        if (File.Exists(Path.Combine(beside, "vector.mjs"))) return beside;
        foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
            for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "bench", "peers", "lancedb");
                if (File.Exists(Path.Combine(candidate, "vector.mjs"))) return candidate;
            }
        throw new DirectoryNotFoundException("bench/peers/lancedb not found (looked beside the source, above the binary and the working directory)");
    }

    static string Exec(string file, string args, string cwd)
    {
        var psi = new ProcessStartInfo(file, args) { WorkingDirectory = cwd, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.Environment["RUST_LOG"] = "error";
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {args} failed ({p.ExitCode}): {stderr.Result}");
        return stdout;
    }

    // ---- report -----------------------------------------------------------------------------------------------

    static void AppendTable(StringBuilder md, VectorIndex index, double buildSeconds, List<Row> ours, List<PeerRow> peer)
    {
        md.AppendLine($"Casebook build: {buildSeconds:F1} s ({Environment.ProcessorCount} threads), index memory {index.MemoryBytes / 1048576.0:F0} MiB " +
                      "(float32 + int8 copies, slot tables, graph with its own float16 copy).").AppendLine();
        md.AppendLine("| system | index / setting | build s | p50 ms | p95 ms | recall@10 | p50 ratio LanceDB/Casebook |");
        md.AppendLine("|---|---|---:|---:|---:|---:|---:|");
        foreach (var r in ours)
            md.AppendLine($"| Casebook | {r.Setting} | {(r.Setting.StartsWith("HNSW") ? buildSeconds.ToString("F1") : "0")} | {r.P50:F3} | {r.P95:F3} | {r.Recall:F3} | |");
        // Ratio against our cheapest HNSW setting that reaches the same recall (or our best, if none does).
        var hnsw = ours.Where(r => r.Setting.StartsWith("HNSW")).ToList();
        foreach (var r in peer)
        {
            var match = hnsw.Where(o => o.Recall >= r.Recall).OrderBy(o => o.P50).FirstOrDefault() ?? hnsw.OrderByDescending(o => o.Recall).First();
            var ratio = r.Index.StartsWith("flat") ? $"{r.P50 / ours[0].P50:F1}× vs float32 scan" : $"{r.P50 / match.P50:F1}× vs {match.Setting}";
            md.AppendLine($"| LanceDB | {r.Index} {r.Setting} | {r.BuildSeconds:F1} | {r.P50:F3} | {r.P95:F3} | {r.Recall:F3} | {ratio} |");
        }
        md.AppendLine();
        if (peer.Count > 0) md.AppendLine("LanceDB index parameters: " + string.Join("; ", peer.Select(p => $"{p.Index} {p.Params}").Distinct())).AppendLine();
    }

    // ---- helpers ----------------------------------------------------------------------------------------------

    static ReadOnlySpan<float> Query(float[] queries, int i) => queries.AsSpan(i * Dims, Dims);

    delegate IReadOnlyList<VectorHit> QueryFn(ReadOnlySpan<float> q);

    static double[] Latencies(float[] queries, QueryFn search, int limit = int.MaxValue)
    {
        int nq = Math.Min(limit, queries.Length / Dims);
        for (int i = 0; i < Math.Min(100, nq); i++) search(Query(queries, i));
        var lat = new double[nq];
        for (int i = 0; i < nq; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            search(Query(queries, i));
            lat[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        }
        Array.Sort(lat);
        return lat;
    }

    static double Recall(HashSet<long>[] truth, Func<int, IReadOnlyList<VectorHit>> search)
    {
        long hits = 0, wanted = 0;
        for (int i = 0; i < truth.Length; i++)
        {
            hits += search(i).Count(h => truth[i].Contains(h.Key));
            wanted += truth[i].Count;
        }
        return wanted == 0 ? 1 : (double)hits / wanted;
    }

    static double P(double[] sorted, double p) => sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];
}

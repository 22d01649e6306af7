namespace Casebook.Index;

/// <summary>One search result: the segment row id and its cosine similarity to the query (higher is better).</summary>
public readonly record struct VectorHit(long Key, float Score);

/// <summary>Precision of the vectors the HNSW graph keeps for its own traversal. Results are always re-scored
/// against the exact float32 copy, so a coarser graph copy costs recall only through candidate choice.</summary>
public enum GraphPrecision { Float32, Float16, Int8 }

/// <summary>Construction and search parameters of a <see cref="VectorIndex"/>. The defaults were chosen by
/// measurement (bench/Casebook.Bench/VectorBenchmarks.cs, docs in its report).</summary>
public sealed record VectorIndexOptions
{
    /// <summary>HNSW edges per node (M). 16 holds recall@10 ≥ 0.95 on 1M MiniLM-shaped vectors.</summary>
    public int Connectivity { get; init; } = 16;
    /// <summary>Beam width while inserting (efConstruction).</summary>
    public int ExpansionAdd { get; init; } = 128;
    /// <summary>Beam width while searching (ef); raised to the number of candidates asked for when smaller.
    /// 64 gives recall@10 0.986 at p50 0.38 ms on 56k real MiniLM vectors (32: 0.962 at 0.23 ms).</summary>
    public int ExpansionSearch { get; init; } = 64;
    /// <summary>Scalar type of the graph's own copy of the vectors.</summary>
    public GraphPrecision GraphPrecision { get; init; } = GraphPrecision.Float16;
    /// <summary>The graph is asked for k × this many candidates, which are re-scored in float32.</summary>
    public int RerankMultiplier { get; init; } = 2;
    /// <summary>Below this many live vectors every search is an exact scan (cheaper than the graph, and exact).</summary>
    public int ExactBelowCount { get; init; } = 2048;
    /// <summary>Filtered searches whose (estimated) number of matching vectors is at most this are answered by an
    /// exact scan over the matches instead of a filtered graph walk. Measured on 56k MiniLM vectors: the walk costs
    /// ~0.2 ms ÷ matching fraction, the scan ~0.17 µs per match; they cross near 8k matches.</summary>
    public int FilterExactMaxMatches { get; init; } = 8192;
    /// <summary>… and so are filtered searches whose (estimated) fraction of matching vectors is at most this (at 1M
    /// vectors the same cost model puts the crossover near 3%).</summary>
    public double FilterExactMaxFraction { get; init; } = 0.02;
    /// <summary>The int8 scan keeps k × this many (at least 64) candidates for float32 re-scoring.</summary>
    public int QuantisedRerankMultiplier { get; init; } = 10;
    /// <summary>Vectors to make room for up front (avoids regrowth when the final size is known).</summary>
    public int InitialCapacity { get; init; } = 1024;

    internal void Validate()
    {
        if (Connectivity is < 2 or > 256) throw new ArgumentOutOfRangeException(nameof(Connectivity));
        if (ExpansionAdd < 1) throw new ArgumentOutOfRangeException(nameof(ExpansionAdd));
        if (ExpansionSearch < 1) throw new ArgumentOutOfRangeException(nameof(ExpansionSearch));
        if (RerankMultiplier < 1) throw new ArgumentOutOfRangeException(nameof(RerankMultiplier));
        if (QuantisedRerankMultiplier < 1) throw new ArgumentOutOfRangeException(nameof(QuantisedRerankMultiplier));
        if (InitialCapacity < 0) throw new ArgumentOutOfRangeException(nameof(InitialCapacity));
    }
}

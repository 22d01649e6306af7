using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Casebook.Index;

// Approximate search: the HNSW graph proposes candidates, the float32 copy scores them.
public sealed partial class VectorIndex
{
    /// <summary>The k nearest vectors (approximate), best first, scores exact in float32.</summary>
    public IReadOnlyList<VectorHit> Search(ReadOnlySpan<float> query, int k)
    {
        CheckQuery(query, k);
        Span<float> q = stackalloc float[_dims];
        Normalise(query, q);
        _lock.EnterReadLock();
        try
        {
            ThrowIfDisposed();
            int live = _slotOf.Count;
            if (k == 0 || live == 0) return [];
            if (live < _options.ExactBelowCount) return ScanFloat(q, k, null);
            var hits = GraphSearch(q, k, null);
            // The graph can come back short (tiny or freshly-churned graphs); exactness is the fallback.
            return hits.Length >= Math.Min(k, live) ? hits : ScanFloat(q, k, null);
        }
        finally { _lock.ExitReadLock(); }
    }

    /// <summary>
    /// The k nearest vectors whose key passes <paramref name="filter"/>, best first. Never returns fewer than
    /// min(k, number of matching vectors): selective filters are answered by an exact scan over the matches,
    /// others by a filtered graph walk that falls back to the exact scan when it comes back short.
    /// </summary>
    public IReadOnlyList<VectorHit> Search(ReadOnlySpan<float> query, int k, Func<long, bool> filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        CheckQuery(query, k);
        Span<float> q = stackalloc float[_dims];
        Normalise(query, q);
        _lock.EnterReadLock();
        try
        {
            ThrowIfDisposed();
            int live = _slotOf.Count;
            if (k == 0 || live == 0) return [];
            if (live < _options.ExactBelowCount || IsSelective(EstimateMatchingFraction(filter), live))
                return ScanFloat(q, k, filter);
            var hits = GraphSearch(q, k, filter);
            return hits.Length >= k ? hits : ScanFloat(q, k, filter);
        }
        finally { _lock.ExitReadLock(); }
    }

    /// <summary>
    /// The k nearest among <paramref name="candidates"/> (keys not in the index are ignored), best first; returns
    /// min(k, live candidates) results. Small candidate sets are scored exactly.
    /// </summary>
    public IReadOnlyList<VectorHit> Search(ReadOnlySpan<float> query, int k, IReadOnlyCollection<long> candidates)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        CheckQuery(query, k);
        Span<float> q = stackalloc float[_dims];
        Normalise(query, q);
        _lock.EnterReadLock();
        try
        {
            ThrowIfDisposed();
            int live = _slotOf.Count;
            if (k == 0 || live == 0 || candidates.Count == 0) return [];
            if (live < _options.ExactBelowCount || IsSelective((double)candidates.Count / live, live))
                return ScanCandidates(q, k, candidates);
            var set = candidates as ISet<long> ?? new HashSet<long>(candidates);
            var hits = GraphSearch(q, k, set.Contains);
            if (hits.Length >= k) return hits;
            return ScanCandidates(q, k, candidates);
        }
        finally { _lock.ExitReadLock(); }
    }

    /// <summary>
    /// The graph walk alone (optionally filtered), with no exact fallback: may return fewer than k. For measuring
    /// and tuning; use <see cref="Search(ReadOnlySpan{float}, int, Func{long, bool})"/> for answers.
    /// </summary>
    public IReadOnlyList<VectorHit> SearchGraphOnly(ReadOnlySpan<float> query, int k, Func<long, bool>? filter = null)
    {
        CheckQuery(query, k);
        Span<float> q = stackalloc float[_dims];
        Normalise(query, q);
        _lock.EnterReadLock();
        try
        {
            ThrowIfDisposed();
            return k == 0 || _slotOf.Count == 0 ? [] : GraphSearch(q, k, filter);
        }
        finally { _lock.ExitReadLock(); }
    }

    bool IsSelective(double fraction, int live) =>
        fraction <= _options.FilterExactMaxFraction || fraction * live <= _options.FilterExactMaxMatches;

    /// <summary>
    /// Fraction of live keys passing the filter, from up to 512 pseudo-randomly placed slots (a fixed stride would
    /// alias with filters such as "key % m == 0" and misjudge them by orders of magnitude).
    /// </summary>
    double EstimateMatchingFraction(Func<long, bool> filter)
    {
        int samples = 0, passed = 0;
        uint state = 0x9E3779B9u;
        int draws = Math.Min(512, _slotHighWater);
        for (int i = 0; i < draws; i++)
        {
            state ^= state << 13; state ^= state >> 17; state ^= state << 5; // xorshift32, fixed seed: deterministic
            int slot = draws == _slotHighWater ? i : (int)(state % (uint)_slotHighWater);
            long key = _slotKeys[slot];
            if (key == FreeSlot) continue;
            samples++;
            if (filter(key)) passed++;
        }
        return samples == 0 ? 0 : (double)passed / samples;
    }

    /// <summary>Asks the graph for k × RerankMultiplier candidates (live and passing the filter) and re-scores them.</summary>
    unsafe VectorHit[] GraphSearch(ReadOnlySpan<float> q, int k, Func<long, bool>? filter)
    {
        int fetch = (int)Math.Min((long)k * _options.RerankMultiplier, _slotOf.Count);
        fetch = Math.Max(fetch, k);
        var keys = fetch <= 256 ? stackalloc ulong[fetch] : new ulong[fetch];
        var distances = fetch <= 256 ? stackalloc float[fetch] : new float[fetch];
        nuint found;
        nint error;
        _graphContexts.Wait();
        try
        {
            fixed (float* qp = q)
            fixed (ulong* kp = keys)
            fixed (float* dp = distances)
            {
                if (filter == null)
                    found = USearchNative.usearch_search(_graph, qp, USearchNative.ScalarKind.F32, (nuint)fetch, kp, dp, out error);
                else
                {
                    var state = new FilterState(this, filter);
                    var handle = GCHandle.Alloc(state);
                    try
                    {
                        found = USearchNative.usearch_filtered_search(_graph, qp, USearchNative.ScalarKind.F32, (nuint)fetch,
                            &FilterThunk, GCHandle.ToIntPtr(handle), kp, dp, out error);
                    }
                    finally { handle.Free(); }
                    if (state.Error != null) throw new InvalidOperationException("search filter threw", state.Error);
                }
            }
        }
        finally { _graphContexts.Release(); }
        USearchNative.Check(error, "search");

        var top = new TopK(k);
        for (int i = 0; i < (int)found; i++)
        {
            long key = (long)keys[i];
            // Removed keys are dropped here even if the graph still reaches them.
            if (!_slotOf.TryGetValue(key, out int slot)) continue;
            top.Push(TensorPrimitives.Dot(_vectors.AsSpan(slot * _dims, _dims), q), key);
        }
        return top.ToSortedArray();
    }

    sealed class FilterState(VectorIndex index, Func<long, bool> filter)
    {
        public Exception? Error;
        public bool Accepts(long key) => index._slotOf.ContainsKey(key) && filter(key);
    }

    [UnmanagedCallersOnly]
    static int FilterThunk(ulong key, nint state)
    {
        var s = (FilterState)GCHandle.FromIntPtr(state).Target!;
        try { return s.Accepts((long)key) ? 1 : 0; }
        catch (Exception e) { s.Error ??= e; return 0; } // exceptions must not unwind through native frames
    }

    void CheckQuery(ReadOnlySpan<float> query, int k)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        if (query.Length != _dims)
            throw new ArgumentException($"query has {query.Length} dimensions, index has {_dims}", nameof(query));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Normalise(ReadOnlySpan<float> source, Span<float> destination)
    {
        float norm = TensorPrimitives.Norm(source);
        if (!float.IsFinite(norm) || norm == 0) throw new ArgumentException("query must be finite and non-zero");
        TensorPrimitives.Divide(source, norm, destination);
    }
}

using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Casebook.Index;

// Exact search: a float32 scan (the reference), and an int8 scan with float32 re-scoring of its best candidates.
public sealed partial class VectorIndex
{
    /// <summary>
    /// The exact k nearest by float32 dot product, best first, over all live vectors or only
    /// <paramref name="candidates"/> (keys not in the index are ignored).
    /// </summary>
    public IReadOnlyList<VectorHit> SearchExact(ReadOnlySpan<float> query, int k, IEnumerable<long>? candidates = null)
    {
        CheckQuery(query, k);
        Span<float> q = stackalloc float[_dims];
        Normalise(query, q);
        _lock.EnterReadLock();
        try
        {
            ThrowIfDisposed();
            if (k == 0 || _slotOf.Count == 0) return [];
            return candidates == null ? ScanFloat(q, k, null) : ScanCandidates(q, k, candidates);
        }
        finally { _lock.ExitReadLock(); }
    }

    /// <summary>
    /// Near-exact k nearest: an int8 scan (per-vector scale) keeps k × QuantisedRerankMultiplier candidates
    /// (at least 64), which are re-scored in float32. Reads a quarter of the bytes of <see cref="SearchExact"/>.
    /// </summary>
    public IReadOnlyList<VectorHit> SearchQuantised(ReadOnlySpan<float> query, int k)
    {
        CheckQuery(query, k);
        Span<float> q = stackalloc float[_dims];
        Normalise(query, q);
        _lock.EnterReadLock();
        try
        {
            ThrowIfDisposed();
            if (k == 0 || _slotOf.Count == 0) return [];
            return ScanQuantised(q, k);
        }
        finally { _lock.ExitReadLock(); }
    }

    VectorHit[] ScanFloat(ReadOnlySpan<float> q, int k, Func<long, bool>? filter)
    {
        var top = new TopK(k);
        var vectors = _vectors;
        var slotKeys = _slotKeys;
        int dims = _dims;
        for (int slot = 0; slot < _slotHighWater; slot++)
        {
            long key = slotKeys[slot];
            if (key == FreeSlot || (filter != null && !filter(key))) continue;
            float score = TensorPrimitives.Dot(new ReadOnlySpan<float>(vectors, slot * dims, dims), q);
            if (score >= top.Threshold) top.Push(score, key);
        }
        return top.ToSortedArray();
    }

    VectorHit[] ScanCandidates(ReadOnlySpan<float> q, int k, IEnumerable<long> candidates)
    {
        var top = new TopK(k);
        HashSet<long>? seen = candidates is ISet<long> ? null : new HashSet<long>();
        foreach (long key in candidates)
        {
            if (!_slotOf.TryGetValue(key, out int slot)) continue;
            if (seen != null && !seen.Add(key)) continue; // duplicates in a list must not fill the top k twice
            float score = TensorPrimitives.Dot(new ReadOnlySpan<float>(_vectors, slot * _dims, _dims), q);
            if (score >= top.Threshold) top.Push(score, key);
        }
        return top.ToSortedArray();
    }

    unsafe VectorHit[] ScanQuantised(ReadOnlySpan<float> q, int k)
    {
        int keep = (int)Math.Min(Math.Max(64L, (long)k * _options.QuantisedRerankMultiplier), _slotOf.Count);
        var coarse = new TopK(keep);
        Span<short> qCode = stackalloc short[_dims];
        float qScale = QuantiseQuery(q, qCode);
        int dims = _dims;
        fixed (sbyte* codes = _codes)
        fixed (short* qc = qCode)
        {
            for (int slot = 0; slot < _slotHighWater; slot++)
            {
                long key = _slotKeys[slot];
                if (key == FreeSlot) continue;
                float approx = DotInt8(codes + (long)slot * dims, qc, dims) * _codeScales[slot];
                if (approx >= coarse.Threshold) coarse.Push(approx, key);
            }
        }
        var top = new TopK(k);
        foreach (var hit in coarse.ToSortedArray())
        {
            int slot = _slotOf[hit.Key];
            top.Push(TensorPrimitives.Dot(new ReadOnlySpan<float>(_vectors, slot * _dims, _dims), q), hit.Key);
        }
        _ = qScale; // ranking within one query does not need the query's own scale
        return top.ToSortedArray();
    }

    /// <summary>Symmetric int8 code with a per-vector scale: value ≈ code × scale, codes in [-127, 127].</summary>
    static float Quantise(ReadOnlySpan<float> v, Span<sbyte> codes)
    {
        float maxAbs = TensorPrimitives.MaxMagnitude(v);
        maxAbs = MathF.Abs(maxAbs);
        if (maxAbs == 0) { codes.Clear(); return 0; }
        float inv = 127f / maxAbs;
        for (int i = 0; i < v.Length; i++) codes[i] = (sbyte)MathF.Round(v[i] * inv);
        return maxAbs / 127f;
    }

    /// <summary>The query's code, widened to int16 so the kernel can multiply-add pairs (vpmaddwd).</summary>
    static float QuantiseQuery(ReadOnlySpan<float> q, Span<short> codes)
    {
        float maxAbs = MathF.Abs(TensorPrimitives.MaxMagnitude(q));
        float inv = 127f / maxAbs;
        for (int i = 0; i < q.Length; i++) codes[i] = (short)MathF.Round(q[i] * inv);
        return maxAbs / 127f;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static unsafe int DotInt8(sbyte* a, short* q, int dims)
    {
        int i = 0, sum = 0;
        if (Avx512BW.IsSupported && dims >= 64)
        {
            var acc0 = Vector512<int>.Zero;
            var acc1 = Vector512<int>.Zero;
            for (; i + 64 <= dims; i += 64)
            {
                acc0 += Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.Load(a + i)), Vector512.Load(q + i));
                acc1 += Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.Load(a + i + 32)), Vector512.Load(q + i + 32));
            }
            if (i + 32 <= dims)
            {
                acc0 += Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.Load(a + i)), Vector512.Load(q + i));
                i += 32;
            }
            sum = Vector512.Sum(acc0 + acc1);
        }
        else if (Avx2.IsSupported)
        {
            var acc = Vector256<int>.Zero;
            for (; i + 16 <= dims; i += 16)
                acc += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.Load(a + i)), Vector256.Load(q + i));
            sum = Vector256.Sum(acc);
        }
        for (; i < dims; i++) sum += a[i] * q[i];
        return sum;
    }
}

using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace Casebook.Index;

/// <summary>
/// Approximate (HNSW, via USearch) and exact nearest-neighbour index over L2-normalised float32 vectors of one
/// embedding kind, keyed by segment row id. Score = cosine = dot product; higher is better; ties by smaller key.
/// <para>
/// Besides the graph it keeps a contiguous float32 copy (slot-addressed) for exact scans and re-scoring, and an
/// int8 copy with a per-vector scale for a quantised scan that is ~4× lighter on memory bandwidth.
/// </para>
/// Thread-safety: any number of concurrent readers (searches) with one writer; writes exclude readers briefly.
/// </summary>
public sealed partial class VectorIndex : IDisposable
{
    const long FreeSlot = -1;

    readonly int _dims;
    VectorIndexOptions _options;
    readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    readonly Dictionary<long, int> _slotOf = new();
    readonly Stack<int> _freeSlots = new();
    nint _graph;
    nuint _graphCapacity;

    // Slot-addressed copies; pinned so native code and SIMD loops can hold pointers into them.
    float[] _vectors = [];
    sbyte[] _codes = [];
    float[] _codeScales = [];   // value ≈ code × scale
    long[] _slotKeys = [];      // FreeSlot where empty
    int _slotHighWater;         // slots [0, _slotHighWater) have ever been used

    public VectorIndex(int dimensions, VectorIndexOptions? options = null)
    {
        if (dimensions <= 0) throw new ArgumentOutOfRangeException(nameof(dimensions));
        _dims = dimensions;
        _options = options ?? new VectorIndexOptions();
        _options.Validate();
        _graph = CreateGraph(_dims, _options);
        GrowSlots(Math.Max(16, _options.InitialCapacity));
        EnsureGraphCapacity(Math.Max(16, _options.InitialCapacity));
    }

    public int Dimensions => _dims;
    public VectorIndexOptions Options => _options;

    /// <summary>Number of live vectors.</summary>
    public int Count { get { _lock.EnterReadLock(); try { return _slotOf.Count; } finally { _lock.ExitReadLock(); } } }

    public bool Contains(long key)
    {
        _lock.EnterReadLock();
        try { return _slotOf.ContainsKey(key); }
        finally { _lock.ExitReadLock(); }
    }

    /// <summary>Bytes held: float32 + int8 copies, slot tables, and USearch's own (graph + its vector copy).</summary>
    public long MemoryBytes
    {
        get
        {
            _lock.EnterReadLock();
            try
            {
                ThrowIfDisposed();
                long own = (long)_vectors.Length * 4 + _codes.Length + (long)_codeScales.Length * 4 + (long)_slotKeys.Length * 8
                         + (long)_slotOf.Count * 24;
                return own + (long)USearchNative.usearch_memory_usage(_graph, out _);
            }
            finally { _lock.ExitReadLock(); }
        }
    }

    /// <summary>Adds a vector, replacing any earlier vector under the same key. Keys are segment row ids (≥ 0).</summary>
    public void Add(long key, ReadOnlySpan<float> vector)
    {
        CheckKey(key);
        CheckVector(vector);
        _lock.EnterWriteLock();
        try
        {
            ThrowIfDisposed();
            int slot = PlaceVector(key, vector);
            EnsureGraphCapacity(_slotOf.Count + 1);
            AddToGraph(key, slot);
        }
        finally { _lock.ExitWriteLock(); }
    }

    /// <summary>
    /// Adds many vectors (<paramref name="vectors"/> is keys.Length × Dimensions floats, row-major), inserting into the
    /// graph from <paramref name="threads"/> threads (0 = all cores). Same semantics as repeated <see cref="Add"/>.
    /// </summary>
    public void AddRange(ReadOnlySpan<long> keys, ReadOnlySpan<float> vectors, int threads = 0)
    {
        if (vectors.Length != (long)keys.Length * _dims)
            throw new ArgumentException($"expected {keys.Length} × {_dims} floats, got {vectors.Length}", nameof(vectors));
        foreach (var key in keys) CheckKey(key);
        for (int i = 0; i < keys.Length; i++) CheckVector(vectors.Slice(i * _dims, _dims));
        _lock.EnterWriteLock();
        try
        {
            ThrowIfDisposed();
            GrowSlots(_slotHighWater + keys.Length);
            var slots = new int[keys.Length];
            var seen = new Dictionary<long, int>(keys.Length);
            for (int i = 0; i < keys.Length; i++)
            {
                slots[i] = PlaceVector(keys[i], vectors.Slice(i * _dims, _dims));
                seen[keys[i]] = i; // a key repeated within the batch: the last one wins
            }
            EnsureGraphCapacity(_slotOf.Count + 1);
            var order = seen.Values.ToArray();
            Array.Sort(order);
            var keyArray = keys.ToArray();
            int degree = threads > 0 ? threads : Environment.ProcessorCount;
            Parallel.For(0, order.Length, new ParallelOptions { MaxDegreeOfParallelism = degree },
                i => AddToGraph(keyArray[order[i]], slots[order[i]]));
        }
        finally { _lock.ExitWriteLock(); }
    }

    /// <summary>Removes a key; returns false when it was absent. A removed key never comes back from a search.</summary>
    public bool Remove(long key)
    {
        _lock.EnterWriteLock();
        try
        {
            ThrowIfDisposed();
            if (!_slotOf.Remove(key, out int slot)) return false;
            USearchNative.usearch_remove(_graph, (ulong)key, out var error);
            USearchNative.Check(error, "remove");
            _slotKeys[slot] = FreeSlot;
            _freeSlots.Push(slot);
            return true;
        }
        finally { _lock.ExitWriteLock(); }
    }

    /// <summary>Copies the stored (normalised) vector of <paramref name="key"/>; false when absent.</summary>
    public bool TryGetVector(long key, Span<float> destination)
    {
        if (destination.Length < _dims) throw new ArgumentException("destination too short", nameof(destination));
        _lock.EnterReadLock();
        try
        {
            if (!_slotOf.TryGetValue(key, out int slot)) return false;
            _vectors.AsSpan(slot * _dims, _dims).CopyTo(destination);
            return true;
        }
        finally { _lock.ExitReadLock(); }
    }

    public void Dispose()
    {
        _lock.EnterWriteLock();
        try
        {
            if (_graph == 0) return;
            USearchNative.usearch_free(_graph, out _);
            _graph = 0;
        }
        finally { _lock.ExitWriteLock(); }
    }

    // ---- storage -------------------------------------------------------------------------------------------

    /// <summary>Writes the normalised vector and its int8 code into a slot (reusing the key's slot on update).</summary>
    int PlaceVector(long key, ReadOnlySpan<float> vector)
    {
        if (_slotOf.TryGetValue(key, out int slot))
        {
            // Update = replace: the graph node goes, a fresh one comes (HNSW edges cannot be re-pointed in place).
            USearchNative.usearch_remove(_graph, (ulong)key, out var error);
            USearchNative.Check(error, "remove");
        }
        else
        {
            if (_freeSlots.Count > 0) slot = _freeSlots.Pop();
            else
            {
                if (_slotHighWater == _slotKeys.Length) GrowSlots(_slotHighWater + 1);
                slot = _slotHighWater++;
            }
            _slotOf[key] = slot;
            _slotKeys[slot] = key;
        }
        var dest = _vectors.AsSpan(slot * _dims, _dims);
        float norm = TensorPrimitives.Norm(vector);
        TensorPrimitives.Divide(vector, norm, dest);
        _codeScales[slot] = Quantise(dest, _codes.AsSpan(slot * _dims, _dims));
        return slot;
    }

    void GrowSlots(int needed)
    {
        if (needed <= _slotKeys.Length) return;
        int capacity = Math.Max(needed, (int)Math.Min(int.MaxValue / _dims, (long)_slotKeys.Length * 2));
        var vectors = GC.AllocateUninitializedArray<float>(capacity * _dims, pinned: true);
        var codes = GC.AllocateUninitializedArray<sbyte>(capacity * _dims, pinned: true);
        var scales = new float[capacity];
        var keys = new long[capacity];
        _vectors.AsSpan(0, _slotHighWater * _dims).CopyTo(vectors);
        _codes.AsSpan(0, _slotHighWater * _dims).CopyTo(codes);
        _codeScales.AsSpan(0, _slotHighWater).CopyTo(scales);
        _slotKeys.AsSpan(0, _slotHighWater).CopyTo(keys);
        keys.AsSpan(_slotHighWater).Fill(FreeSlot);
        (_vectors, _codes, _codeScales, _slotKeys) = (vectors, codes, scales, keys);
    }

    void CheckKey(long key)
    {
        // USearch reserves the all-ones key as its "free" marker; row ids are never negative anyway.
        if (key < 0) throw new ArgumentOutOfRangeException(nameof(key), key, "keys are segment row ids and must be ≥ 0");
    }

    void CheckVector(ReadOnlySpan<float> vector)
    {
        if (vector.Length != _dims)
            throw new ArgumentException($"vector has {vector.Length} dimensions, index has {_dims}", nameof(vector));
        float norm = TensorPrimitives.Norm(vector);
        if (!float.IsFinite(norm) || norm == 0)
            throw new ArgumentException("vector must be finite and non-zero", nameof(vector));
    }

    void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_graph == 0, this);

    // ---- graph ---------------------------------------------------------------------------------------------

    static unsafe nint CreateGraph(int dims, VectorIndexOptions o)
    {
        var init = new USearchNative.InitOptions
        {
            // Vectors are normalised, so inner product is cosine; int8 needs USearch's cosine kernel for its scaling.
            MetricKind = o.GraphPrecision == GraphPrecision.Int8 ? USearchNative.MetricKind.Cos : USearchNative.MetricKind.Ip,
            Quantization = o.GraphPrecision switch
            {
                GraphPrecision.Float32 => USearchNative.ScalarKind.F32,
                GraphPrecision.Float16 => USearchNative.ScalarKind.F16,
                _ => USearchNative.ScalarKind.I8,
            },
            Dimensions = (nuint)dims,
            Connectivity = (nuint)o.Connectivity,
            ExpansionAdd = (nuint)o.ExpansionAdd,
            ExpansionSearch = (nuint)o.ExpansionSearch,
            Multi = 0,
        };
        var graph = USearchNative.usearch_init(&init, out var error);
        USearchNative.Check(error, "init");
        if (graph == 0) throw new InvalidOperationException("USearch init returned no index");
        return graph;
    }

    // USearch keeps one scratch context per concurrent caller and must never run out of them.
    static readonly int GraphThreads = Math.Max(64, Environment.ProcessorCount * 4);
    readonly SemaphoreSlim _graphContexts = new(GraphThreads, GraphThreads);

    void EnsureGraphCapacity(int needed)
    {
        if ((nuint)needed <= _graphCapacity) return;
        var capacity = (nuint)Math.Max(needed, (long)_graphCapacity * 2);
        USearchNative.usearch_reserve(_graph, capacity, out var error);
        USearchNative.Check(error, "reserve");
        USearchNative.usearch_change_threads_add(_graph, (nuint)GraphThreads, out error);
        USearchNative.Check(error, "change_threads_add");
        USearchNative.usearch_change_threads_search(_graph, (nuint)GraphThreads, out error);
        USearchNative.Check(error, "change_threads_search");
        _graphCapacity = capacity;
    }

    unsafe void AddToGraph(long key, int slot)
    {
        fixed (float* v = &_vectors[slot * _dims])
        {
            USearchNative.usearch_add(_graph, (ulong)key, v, USearchNative.ScalarKind.F32, out var error);
            USearchNative.Check(error, "add");
        }
    }
}

namespace Casebook.Index;

/// <summary>
/// Keeps the best <c>capacity</c> (score, key) pairs seen so far: a binary min-heap whose root is the worst kept
/// pair. Order: higher score first, then smaller key, so results are deterministic under ties.
/// </summary>
internal sealed class TopK
{
    readonly float[] _scores;
    readonly long[] _keys;
    int _count;

    public TopK(int capacity)
    {
        _scores = new float[Math.Max(1, capacity)];
        _keys = new long[Math.Max(1, capacity)];
    }

    public int Count => _count;
    public int Capacity => _scores.Length;
    public bool IsFull => _count == _scores.Length;
    /// <summary>Score a candidate must beat (or tie with a smaller key) to enter once full.</summary>
    public float Threshold => IsFull ? _scores[0] : float.NegativeInfinity;

    static bool Worse(float s1, long k1, float s2, long k2) => s1 < s2 || (s1 == s2 && k1 > k2);

    public void Push(float score, long key)
    {
        if (_count < _scores.Length)
        {
            int i = _count++;
            while (i > 0)
            {
                int parent = (i - 1) >> 1;
                if (!Worse(score, key, _scores[parent], _keys[parent])) break;
                _scores[i] = _scores[parent]; _keys[i] = _keys[parent];
                i = parent;
            }
            _scores[i] = score; _keys[i] = key;
            return;
        }
        if (!Worse(_scores[0], _keys[0], score, key)) return;
        SiftDown(score, key);
    }

    void SiftDown(float score, long key)
    {
        int i = 0, n = _count;
        while (true)
        {
            int child = 2 * i + 1;
            if (child >= n) break;
            if (child + 1 < n && Worse(_scores[child + 1], _keys[child + 1], _scores[child], _keys[child])) child++;
            if (!Worse(_scores[child], _keys[child], score, key)) break;
            _scores[i] = _scores[child]; _keys[i] = _keys[child];
            i = child;
        }
        _scores[i] = score; _keys[i] = key;
    }

    /// <summary>The kept pairs, best first.</summary>
    public VectorHit[] ToSortedArray(int max = int.MaxValue)
    {
        var hits = new VectorHit[_count];
        for (int i = 0; i < _count; i++) hits[i] = new VectorHit(_keys[i], _scores[i]);
        Array.Sort(hits, static (a, b) => a.Score != b.Score ? b.Score.CompareTo(a.Score) : a.Key.CompareTo(b.Key));
        return hits.Length <= max ? hits : hits[..max];
    }
}

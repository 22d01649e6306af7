// TEMPORARY: exact-only stand-in with the VectorIndex API until the HNSW index (branch `vector`) is merged.
using System.Numerics.Tensors;
namespace Casebook.Index;

public sealed class VectorIndex
{
    readonly Dictionary<long, float[]> _v = new();
    public int Dimensions { get; }
    public VectorIndex(int dimensions) { Dimensions = dimensions; }
    public int Count { get { lock (_v) return _v.Count; } }
    public void Add(long key, ReadOnlySpan<float> v) { lock (_v) _v[key] = v.ToArray(); }
    public bool Remove(long key) { lock (_v) return _v.Remove(key); }
    public bool Contains(long key) { lock (_v) return _v.ContainsKey(key); }
    public IReadOnlyList<(long Key, float Score)> Search(ReadOnlySpan<float> q, int k, Func<long, bool>? filter = null) => SearchExact(q, k, null, filter);
    public IReadOnlyList<(long Key, float Score)> SearchExact(ReadOnlySpan<float> q, int k, IEnumerable<long>? candidates = null, Func<long, bool>? filter = null)
    {
        var res = new List<(long, float)>();
        lock (_v)
        {
            foreach (var (key, v) in _v)
                if (filter == null || filter(key)) res.Add((key, TensorPrimitives.Dot(q, v)));
        }
        return res.OrderByDescending(x => x.Item2).ThenBy(x => x.Item1).Take(k).ToList();
    }
    public void Save(string path) { }
    public static VectorIndex? Load(string path, int dimensions) => null;
}

using Casebook.Index;

namespace Casebook;

public sealed partial class CasebookDb
{
    SegmentVectorIndexes? _vectorIndexes;
    internal SegmentVectorIndexes VectorIndexes => _vectorIndexes ??= new SegmentVectorIndexes(Directory);

    // Keep a loaded index current right after our own commits; an unloaded one catches up when first used.
    void OnCommitted() { if (_vectorIndexes != null) { using var c = Connect(); _vectorIndexes.CatchUp(c); } }
    void OnPurged() => OnCommitted();

    /// <summary>Persists the vector index cache (also done on Dispose).</summary>
    public void SaveIndexes() => _vectorIndexes?.Save();

    void DisposeIndexes()
    {
        try { _vectorIndexes?.Save(); }
        catch (IOException e) { Console.Error.WriteLine($"casebook: could not save the vector index cache: {e.Message}"); }
    }
}

using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace Casebook.Index;

// File format (little-endian), written to a temporary file then renamed over the target:
//   "CBVECIX1" | int32 version=1 | int32 dims | int32 count | int32 connectivity | int32 expansionAdd |
//   int32 expansionSearch | int32 graphPrecision | int64 keys[count] | float32 vectors[count × dims] |
//   int64 graphLength | byte graph[graphLength] (USearch's own serialisation) | "CBVECEND"
public sealed partial class VectorIndex
{
    static ReadOnlySpan<byte> Magic => "CBVECIX1"u8;
    static ReadOnlySpan<byte> EndMagic => "CBVECEND"u8;
    const int FormatVersion = 1;
    const int HeaderBytes = 8 + 7 * 4;

    /// <summary>Writes the index to <paramref name="path"/> atomically (temp file, fsync, rename).</summary>
    public unsafe void Save(string path)
    {
        var tmp = path + ".tmp-" + Guid.NewGuid().ToString("N");
        _lock.EnterReadLock();
        try
        {
            ThrowIfDisposed();
            using (var stream = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                Span<byte> header = stackalloc byte[HeaderBytes];
                Magic.CopyTo(header);
                int count = _slotOf.Count;
                var fields = new[] { FormatVersion, _dims, count, _options.Connectivity, _options.ExpansionAdd,
                                     _options.ExpansionSearch, (int)_options.GraphPrecision };
                for (int i = 0; i < fields.Length; i++) BinaryPrimitives.WriteInt32LittleEndian(header[(8 + 4 * i)..], fields[i]);
                stream.Write(header);

                var liveSlots = new int[count];
                int n = 0;
                for (int slot = 0; slot < _slotHighWater; slot++)
                    if (_slotKeys[slot] != FreeSlot) liveSlots[n++] = slot;
                foreach (int slot in liveSlots) stream.Write(MemoryMarshal.AsBytes(_slotKeys.AsSpan(slot, 1)));
                foreach (int slot in liveSlots) stream.Write(MemoryMarshal.AsBytes(_vectors.AsSpan(slot * _dims, _dims)));

                var length = USearchNative.usearch_serialized_length(_graph, out var error);
                USearchNative.Check(error, "serialized_length");
                var buffer = (byte*)NativeMemory.Alloc(length);
                try
                {
                    USearchNative.usearch_save_buffer(_graph, buffer, length, out error);
                    USearchNative.Check(error, "save");
                    Span<byte> len = stackalloc byte[8];
                    BinaryPrimitives.WriteInt64LittleEndian(len, (long)length);
                    stream.Write(len);
                    for (nuint offset = 0; offset < length; offset += 1 << 30)
                        stream.Write(new ReadOnlySpan<byte>(buffer + offset, (int)Math.Min(1u << 30, length - offset)));
                }
                finally { NativeMemory.Free(buffer); }
                stream.Write(EndMagic);
                stream.Flush(flushToDisk: true);
            }
            File.Move(tmp, path, overwrite: true);
        }
        catch
        {
            try { File.Delete(tmp); } catch (IOException) { }
            throw;
        }
        finally { _lock.ExitReadLock(); }
    }

    /// <summary>
    /// Reads an index written by <see cref="Save"/>. Graph parameters come from the file; search-time options
    /// (expansion, thresholds) come from <paramref name="searchOptions"/> when given.
    /// </summary>
    public static unsafe VectorIndex Load(string path, VectorIndexOptions? searchOptions = null)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        Span<byte> header = stackalloc byte[HeaderBytes];
        stream.ReadExactly(header);
        if (!header[..8].SequenceEqual(Magic)) throw new InvalidDataException($"{path}: not a Casebook vector index");
        var fields = new int[7];
        for (int i = 0; i < fields.Length; i++) fields[i] = BinaryPrimitives.ReadInt32LittleEndian(header[(8 + 4 * i)..]);
        int Field(int i) => fields[i];
        if (Field(0) != FormatVersion) throw new InvalidDataException($"{path}: unsupported version {Field(0)}");
        int dims = Field(1), count = Field(2);
        if (dims <= 0 || count < 0 || (long)count * dims > int.MaxValue)
            throw new InvalidDataException($"{path}: bad dimensions {dims} or count {count}");
        long expected = HeaderBytes + 8L * count + 4L * count * dims + 8 + 8;
        if (stream.Length < expected) throw new InvalidDataException($"{path}: truncated ({stream.Length} < {expected} bytes)");

        var o = (searchOptions ?? new VectorIndexOptions()) with
        {
            Connectivity = Field(3),
            ExpansionAdd = Field(4),
            ExpansionSearch = searchOptions?.ExpansionSearch ?? Field(5),
            GraphPrecision = (GraphPrecision)Field(6),
            InitialCapacity = Math.Max(16, count),
        };
        var index = new VectorIndex(dims, o);
        try
        {
            var keys = new long[count];
            stream.ReadExactly(MemoryMarshal.AsBytes(keys.AsSpan()));
            var row = new float[dims];
            for (int i = 0; i < count; i++)
            {
                stream.ReadExactly(MemoryMarshal.AsBytes(row.AsSpan()));
                if (keys[i] < 0 || index._slotOf.ContainsKey(keys[i])) throw new InvalidDataException($"{path}: bad or repeated key {keys[i]}");
                index.PlaceVector(keys[i], row);
            }
            Span<byte> len = stackalloc byte[8];
            stream.ReadExactly(len);
            long length = BinaryPrimitives.ReadInt64LittleEndian(len);
            if (length <= 0 || stream.Position + length + EndMagic.Length != stream.Length)
                throw new InvalidDataException($"{path}: graph length {length} does not match the file size");
            var buffer = (byte*)NativeMemory.Alloc((nuint)length);
            try
            {
                for (long offset = 0; offset < length; offset += 1 << 30)
                    stream.ReadExactly(new Span<byte>(buffer + offset, (int)Math.Min(1L << 30, length - offset)));
                USearchNative.usearch_load_buffer(index._graph, buffer, (nuint)length, out var error);
                USearchNative.Check(error, "load");
            }
            finally { NativeMemory.Free(buffer); }
            Span<byte> end = stackalloc byte[8];
            stream.ReadExactly(end);
            if (!end.SequenceEqual(EndMagic)) throw new InvalidDataException($"{path}: missing end marker");

            // Loading replaces the native index state: restore capacity, thread contexts and search expansion.
            index._graphCapacity = 0;
            index.EnsureGraphCapacity(Math.Max(16, count));
            USearchNative.usearch_change_expansion_search(index._graph, (nuint)o.ExpansionSearch, out var e2);
            USearchNative.Check(e2, "change_expansion_search");
            var size = USearchNative.usearch_size(index._graph, out e2);
            if ((long)size != count) throw new InvalidDataException($"{path}: graph holds {size} vectors, table {count}");
            return index;
        }
        catch
        {
            index.Dispose();
            throw;
        }
    }

    /// <summary>Changes the search beam width (ef) of a built index.</summary>
    public void SetExpansionSearch(int expansion)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(expansion, 1);
        _lock.EnterWriteLock();
        try
        {
            ThrowIfDisposed();
            USearchNative.usearch_change_expansion_search(_graph, (nuint)expansion, out var error);
            USearchNative.Check(error, "change_expansion_search");
            _options = _options with { ExpansionSearch = expansion };
        }
        finally { _lock.ExitWriteLock(); }
    }
}

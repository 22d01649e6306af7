using System.Buffers.Binary;
using System.Text;

namespace Casebook.Extract.Dicom.Deid;

/// <summary>
/// A dataset being written: elements kept in tag order (PS3.5 §7.1: ascending tags), values always little endian.
/// Built from a read <see cref="DicomDataset"/> (values copied by reference, byte-swapped when the source is big endian)
/// and then edited.
/// </summary>
public sealed class DicomOutputDataset
{
    readonly SortedDictionary<uint, DicomOutputElement> _elements = new();

    public int Count => _elements.Count;
    public IEnumerable<DicomOutputElement> Elements => _elements.Values;
    public DicomOutputElement? this[DicomTag tag] => _elements.GetValueOrDefault(tag.Value);
    public bool Contains(DicomTag tag) => _elements.ContainsKey(tag.Value);
    public bool Remove(DicomTag tag) => _elements.Remove(tag.Value);
    public void Set(DicomOutputElement e) => _elements[e.Tag.Value] = e;

    public void SetBytes(DicomTag tag, DicomVR vr, ReadOnlyMemory<byte> value) => Set(new DicomOutputElement(tag, vr, value));

    /// <summary>Sets a text value (values joined with '\'), encoded as ASCII/Latin-1 (callers pass repertoire-safe text).</summary>
    public void SetString(DicomTag tag, DicomVR vr, params string[] values) =>
        Set(new DicomOutputElement(tag, vr, Encoding.Latin1.GetBytes(string.Join('\\', values))));

    public void SetSequence(DicomTag tag, List<DicomOutputDataset> items) => Set(new DicomOutputElement(tag, DicomVR.SQ, default) { Items = items });

    public string? GetString(DicomTag tag)
    {
        var e = this[tag];
        if (e == null || e.Items != null || e.Fragments != null) return null;
        var s = Encoding.Latin1.GetString(e.Value.Span);
        var first = s.Split('\\')[0].Trim(' ', '\0');
        return first.Length == 0 ? null : first;
    }

    /// <summary>Copies a read dataset (and its sequences). Encapsulated pixel data keeps its fragments, read from <paramref name="source"/>.</summary>
    public static DicomOutputDataset From(DicomDataset ds, DicomByteSource? source = null)
    {
        var r = new DicomOutputDataset();
        foreach (var e in ds)
        {
            // PS3.5 §7.2: group lengths are optional (retired outside group 0002) and would be wrong after editing.
            if (e.Tag.IsGroupLength || e.Tag.Group == 0x0002) continue;
            r.Set(DicomOutputElement.From(e, source));
        }
        return r;
    }
}

/// <summary>One element to write: a value (little endian, unpadded or padded), or items (SQ), or encapsulated fragments.</summary>
public sealed class DicomOutputElement(DicomTag tag, DicomVR vr, ReadOnlyMemory<byte> value)
{
    public DicomTag Tag { get; } = tag;
    public DicomVR VR { get; set; } = vr;
    public ReadOnlyMemory<byte> Value { get; set; } = value;
    public List<DicomOutputDataset>? Items { get; set; }
    public DicomOutputFragments? Fragments { get; set; }

    public static DicomOutputElement From(DicomElement e, DicomByteSource? source)
    {
        if (e.Items != null)
            return new DicomOutputElement(e.Tag, DicomVR.SQ, default) { Items = e.Items.Select(i => DicomOutputDataset.From(i, source)).ToList() };
        if (e.Fragments != null)
        {
            if (source == null) throw new InvalidOperationException($"encapsulated {e.Tag} needs the file's byte source to be copied");
            var f = e.Fragments;
            var bot = f.BasicOffsetTable.Length > 0 ? source.Read(f.BasicOffsetTable.Offset, (int)f.BasicOffsetTable.Length) : ReadOnlyMemory<byte>.Empty;
            var frags = f.Fragments.Select(x => source.Read(x.Offset, (int)x.Length)).ToList();
            return new DicomOutputElement(e.Tag, e.VR, default) { Fragments = new DicomOutputFragments(bot, frags) };
        }
        var value = e.RawValue;
        if (e.BigEndian) value = ToLittleEndian(value, e.VR);
        return new DicomOutputElement(e.Tag, e.VR, value);
    }

    /// <summary>PS3.5 §7.3: only multi-byte binary values change with byte order; strings and OB/UN bytes do not.</summary>
    static ReadOnlyMemory<byte> ToLittleEndian(ReadOnlyMemory<byte> value, DicomVR vr)
    {
        var size = vr == DicomVR.AT || vr == DicomVR.OW || vr == DicomVR.US || vr == DicomVR.SS ? 2
            : vr == DicomVR.UL || vr == DicomVR.SL || vr == DicomVR.FL || vr == DicomVR.OF || vr == DicomVR.OL ? 4
            : vr == DicomVR.FD || vr == DicomVR.OD || vr == DicomVR.SV || vr == DicomVR.UV || vr == DicomVR.OV ? 8 : 1;
        if (size == 1) return value;
        var b = value.ToArray();
        for (var i = 0; i + size <= b.Length; i += size) b.AsSpan(i, size).Reverse();
        return b;
    }

    public override string ToString() => $"{Tag} {VR} len={Value.Length}";
}

/// <summary>Encapsulated pixel data (PS3.5 §A.4): the Basic Offset Table item's value and the fragments, copied unchanged.</summary>
public sealed record DicomOutputFragments(ReadOnlyMemory<byte> BasicOffsetTable, IReadOnlyList<ReadOnlyMemory<byte>> Fragments);

internal static class LittleEndian
{
    public static byte[] UInt32(uint v) { var b = new byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(b, v); return b; }
}

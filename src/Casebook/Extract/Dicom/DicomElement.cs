using System.Buffers.Binary;
using System.Globalization;

namespace Casebook.Extract.Dicom;

/// <summary>
/// One data element as read: its tag, VR, where it sits in the source, and its value bytes (decoded on demand),
/// or its items (SQ) or fragments (encapsulated pixel data).
/// </summary>
public sealed class DicomElement
{
    // Kept small: a header parse allocates one of these per element. Items, fragments and a deferred source are never
    // needed together, so they share one field; the value offset is the header offset plus 8 or 12 (PS3.5 §7.1).
    ReadOnlyMemory<byte> _value;
    object? _extra;
    readonly byte _headerLength;

    internal DicomElement(DicomDataset parent, DicomTag tag, DicomVR vr, long offset, long valueOffset, long length, bool undefinedLength)
    {
        Parent = parent; Tag = tag; VR = vr; Offset = offset; Length = length; UndefinedLength = undefinedLength;
        _headerLength = checked((byte)(valueOffset - offset));
    }

    public DicomDataset Parent { get; }
    public DicomTag Tag { get; }
    /// <summary>The VR used to read the value: explicit from the stream, else from the dictionary (PS3.5 §7.1.3).</summary>
    public DicomVR VR { get; internal set; }
    /// <summary>The VR written in the stream when it differs from <see cref="VR"/> (UN replaced by the dictionary VR).</summary>
    public DicomVR? EncodedVR { get; internal set; }
    /// <summary>Byte offset of the element header in the source.</summary>
    public long Offset { get; }
    /// <summary>Byte offset of the value field in the source.</summary>
    public long ValueOffset => Offset + _headerLength;
    /// <summary>Value length in bytes; for undefined lengths, the bytes up to (not including) the delimitation item.</summary>
    public long Length { get; internal set; }
    /// <summary>The stream gave 0xFFFFFFFF (PS3.5 §7.1.1).</summary>
    public bool UndefinedLength { get; }
    public bool BigEndian => Parent.BigEndian;

    /// <summary>Items of a sequence (SQ, or UN holding an implicit VR sequence); null otherwise.</summary>
    public List<DicomDataset>? Items { get => _extra as List<DicomDataset>; internal set => _extra = value; }
    /// <summary>Encapsulated pixel data (PS3.5 §A.4); null for native values.</summary>
    public DicomFragments? Fragments { get => _extra as DicomFragments; internal set => _extra = value; }
    public DicomDictionaryEntry? DictionaryEntry => DicomDictionary.Lookup(Tag);
    public string Keyword => DicomDictionary.KeywordOf(Tag);

    internal void SetValue(ReadOnlyMemory<byte> value) => _value = value;
    internal void DeferValue(DicomByteSource source) => _extra = source;
    /// <summary>The value was left on disk (larger than the read options' threshold) until <see cref="RawValue"/> is used.</summary>
    public bool IsDeferred => _extra is DicomByteSource;

    /// <summary>The value bytes exactly as stored (byte order of the transfer syntax, padding included).</summary>
    public ReadOnlyMemory<byte> RawValue
    {
        get
        {
            if (_extra is DicomByteSource deferred) { _value = deferred.Read(ValueOffset, checked((int)Length)); _extra = null; }
            return _value;
        }
    }

    // ---- decoding (PS3.5 §6.2) ----

    /// <summary>String values: decoded with the dataset's Specific Character Set, split at '\' (except LT/ST/UT/UR), padding trimmed.</summary>
    public string[] GetStrings()
    {
        var raw = RawValue.Span;
        if (raw.Length == 0) return [];
        var text = VR.UsesCharacterSet ? Parent.CharacterSet.Decode(raw, VR) : DicomCharacterSet.DecodeDefault(raw);
        if (VR.IsSingleValuedText) return [TrimValue(text, VR)];
        var parts = text.Split('\\');
        for (var i = 0; i < parts.Length; i++) parts[i] = TrimValue(parts[i], VR);
        return parts.Length == 1 && parts[0].Length == 0 ? [] : parts;
    }

    /// <summary>PS3.5 Table 6.2-1: which leading/trailing spaces (and trailing NUL padding) are insignificant.</summary>
    internal static string TrimValue(string s, DicomVR vr)
    {
        if (vr == DicomVR.AE || vr == DicomVR.CS || vr == DicomVR.DS || vr == DicomVR.IS || vr == DicomVR.LO || vr == DicomVR.SH || vr == DicomVR.AS)
            return s.Trim(' ', '\0');
        return s.TrimEnd(' ', '\0');
    }

    public string? GetString() { var s = GetStrings(); return s.Length > 0 ? s[0] : null; }

    /// <summary>Number of values (PS3.5 §6.4).</summary>
    public int Multiplicity
    {
        get
        {
            if (Items != null) return Items.Count;
            if (VR.IsString) return GetStrings().Length;
            var size = VR.ValueSize;
            if (size > 0) return (int)(Length / size);
            return Length > 0 ? 1 : 0;
        }
    }

    /// <summary>Numeric values of US/SS/UL/SL/FL/FD/SV/UV/DS/IS (and OF/OD/OL/OV/OW by their element size).</summary>
    public double[] GetDoubles()
    {
        if (VR == DicomVR.DS || VR == DicomVR.IS)
        {
            var s = GetStrings();
            var r = new double[s.Length];
            for (var i = 0; i < s.Length; i++)
                r[i] = double.TryParse(s[i], NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : double.NaN;
            return r;
        }
        var raw = RawValue.Span;
        var size = NumericSize;
        if (size == 0) return [];
        var n = raw.Length / size;
        var result = new double[n];
        for (var i = 0; i < n; i++) result[i] = ReadNumber(raw.Slice(i * size, size)) switch { long l => l, ulong u => u, double d => d, _ => double.NaN };
        return result;
    }

    int NumericSize => VR.ValueSize > 0 && VR != DicomVR.AT ? VR.ValueSize
        : VR == DicomVR.OF || VR == DicomVR.OL ? 4 : VR == DicomVR.OD || VR == DicomVR.OV ? 8 : VR == DicomVR.OW ? 2 : 0;

    /// <summary>One binary number in the element's byte order: long for signed/unsigned ≤ 32 bits and SV, ulong for UV, double for FL/FD.</summary>
    internal object ReadNumber(ReadOnlySpan<byte> b)
    {
        var be = BigEndian;
        if (VR == DicomVR.US || VR == DicomVR.OW) return (long)(be ? BinaryPrimitives.ReadUInt16BigEndian(b) : BinaryPrimitives.ReadUInt16LittleEndian(b));
        if (VR == DicomVR.SS) return (long)(be ? BinaryPrimitives.ReadInt16BigEndian(b) : BinaryPrimitives.ReadInt16LittleEndian(b));
        if (VR == DicomVR.UL || VR == DicomVR.OL) return (long)(be ? BinaryPrimitives.ReadUInt32BigEndian(b) : BinaryPrimitives.ReadUInt32LittleEndian(b));
        if (VR == DicomVR.SL) return (long)(be ? BinaryPrimitives.ReadInt32BigEndian(b) : BinaryPrimitives.ReadInt32LittleEndian(b));
        if (VR == DicomVR.FL || VR == DicomVR.OF) return (double)(be ? BinaryPrimitives.ReadSingleBigEndian(b) : BinaryPrimitives.ReadSingleLittleEndian(b));
        if (VR == DicomVR.FD || VR == DicomVR.OD) return be ? BinaryPrimitives.ReadDoubleBigEndian(b) : BinaryPrimitives.ReadDoubleLittleEndian(b);
        if (VR == DicomVR.SV) return be ? BinaryPrimitives.ReadInt64BigEndian(b) : BinaryPrimitives.ReadInt64LittleEndian(b);
        if (VR == DicomVR.UV || VR == DicomVR.OV) return be ? BinaryPrimitives.ReadUInt64BigEndian(b) : BinaryPrimitives.ReadUInt64LittleEndian(b);
        return double.NaN;
    }

    /// <summary>Typed values: long/ulong/double for binary numbers, long or double for IS/DS.</summary>
    public object[] GetNumbers()
    {
        if (VR == DicomVR.DS || VR == DicomVR.IS)
        {
            var s = GetStrings();
            var r = new object[s.Length];
            for (var i = 0; i < s.Length; i++) r[i] = ParseNumberString(s[i], VR);
            return r;
        }
        var raw = RawValue.Span;
        var size = NumericSize;
        if (size == 0) return [];
        var n = raw.Length / size;
        var result = new object[n];
        for (var i = 0; i < n; i++) result[i] = ReadNumber(raw.Slice(i * size, size));
        return result;
    }

    static object ParseNumberString(string s, DicomVR vr)
    {
        if (vr == DicomVR.IS && long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l)) return l;
        if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d))
            return vr == DicomVR.IS && d == Math.Floor(d) && Math.Abs(d) < 9e15 ? (long)d : d;
        return s; // not a number: keep the text rather than lose it
    }

    /// <summary>AT values (PS3.5 §6.2: pairs of 16-bit unsigned group, element).</summary>
    public DicomTag[] GetTags()
    {
        var raw = RawValue.Span;
        var r = new DicomTag[raw.Length / 4];
        for (var i = 0; i < r.Length; i++)
        {
            var g = BigEndian ? BinaryPrimitives.ReadUInt16BigEndian(raw[(i * 4)..]) : BinaryPrimitives.ReadUInt16LittleEndian(raw[(i * 4)..]);
            var e = BigEndian ? BinaryPrimitives.ReadUInt16BigEndian(raw[(i * 4 + 2)..]) : BinaryPrimitives.ReadUInt16LittleEndian(raw[(i * 4 + 2)..]);
            r[i] = new DicomTag(g, e);
        }
        return r;
    }

    public override string ToString() => $"{Tag} {VR} {Keyword} len={Length}";
}

using System.Buffers.Binary;

namespace Casebook.Extract.Dicom;

/// <summary>A byte range in the source (absolute offset, length).</summary>
public readonly record struct DicomByteRange(long Offset, long Length)
{
    public long End => Offset + Length;
}

/// <summary>
/// Encapsulated pixel data (PS3.5 §A.4): a Basic Offset Table item, then fragments, then a sequence delimiter.
/// Frames are groups of fragments, exposed as byte ranges so a codec reads only what it decodes.
/// </summary>
public sealed class DicomFragments
{
    internal DicomFragments(DicomDataset owner, DicomByteSource source, DicomByteRange basicOffsetTable, List<DicomByteRange> fragments)
    {
        _owner = owner; _source = source; BasicOffsetTable = basicOffsetTable; Fragments = fragments;
    }

    readonly DicomDataset _owner;
    readonly DicomByteSource _source;
    /// <summary>The value of the first item; length 0 when the table is empty.</summary>
    public DicomByteRange BasicOffsetTable { get; }
    /// <summary>Every item after the offset table, in order.</summary>
    public IReadOnlyList<DicomByteRange> Fragments { get; }

    /// <summary>
    /// Groups fragments into frames. Precedence: Extended Offset Table (7FE0,0001/0002, PS3.3 C.7.6.3.1.8),
    /// then a non-empty Basic Offset Table (PS3.5 §A.4: offsets from the first byte of the first fragment's item tag),
    /// then one fragment per frame when counts agree, all fragments in one frame when there is one frame,
    /// and otherwise a JPEG-family heuristic: a frame starts at each fragment beginning with an SOI/SOC marker.
    /// </summary>
    public IReadOnlyList<DicomFrame> GetFrames()
    {
        var frameCount = (int)Math.Max(1, _owner.GetInteger(DicomTag.NumberOfFrames) ?? 1);
        if (Fragments.Count == 0) return [];
        var firstItem = Fragments[0].Offset - 8;

        var eot = _owner.Find(DicomTag.ExtendedOffsetTable);
        var eotLengths = _owner.Find(DicomTag.ExtendedOffsetTableLengths);
        if (eot != null && eot.Length >= 8)
        {
            var offsets = ReadUInt64s(eot);
            var lengths = eotLengths != null ? ReadUInt64s(eotLengths) : null;
            if (GroupByOffsets(offsets, firstItem, lengths) is { } byExtended) return byExtended;
        }

        if (BasicOffsetTable.Length >= 4)
        {
            var bot = _source.Read(BasicOffsetTable.Offset, (int)Math.Min(BasicOffsetTable.Length, int.MaxValue)).Span;
            var offsets = new ulong[bot.Length / 4];
            for (var i = 0; i < offsets.Length; i++) offsets[i] = BinaryPrimitives.ReadUInt32LittleEndian(bot[(i * 4)..]);
            if (GroupByOffsets(offsets, firstItem, null) is { } byBasic) return byBasic;
        }

        if (Fragments.Count == frameCount) return Fragments.Select((f, i) => new DicomFrame(i, [f])).ToList();
        if (frameCount == 1) return [new DicomFrame(0, Fragments.ToList())];

        var frames = new List<DicomFrame>();
        List<DicomByteRange>? current = null;
        foreach (var f in Fragments)
        {
            var head = f.Length >= 2 ? _source.Peek(f.Offset, 2) : default;
            var startsFrame = head.Length == 2 && head[0] == 0xFF && (head[1] == 0xD8 || head[1] == 0x4F);
            if (current == null || startsFrame) { current = new List<DicomByteRange>(); frames.Add(new DicomFrame(frames.Count, current)); }
            current.Add(f);
        }
        return frames;
    }

    /// <summary>
    /// Frames from an offset table, or null when the offsets decrease (the table is unusable; the caller falls back).
    /// Fuzz finding (fuzz/regressions/bot-alternating-offsets.dcm): offsets alternating 0, 2^31 made every other frame
    /// span all fragments, and each frame was found by scanning every fragment: 8000 offsets × 4000 empty fragments
    /// (a 64 KB file) took 1 s and 250 MB. PS3.5 §A.4 and PS3.3 C.7.6.3.1.8: offsets increase frame by frame, so
    /// frames are disjoint runs of fragments and one pass over the fragments (in stream order) groups them.
    /// </summary>
    List<DicomFrame>? GroupByOffsets(ulong[] offsets, long firstItem, ulong[]? lengths)
    {
        for (var i = 1; i < offsets.Length; i++)
            if (offsets[i] < offsets[i - 1]) return null;
        long At(ulong offset) => offset > (ulong)(long.MaxValue - firstItem) ? long.MaxValue : firstItem + (long)offset;
        var frames = new List<DicomFrame>(offsets.Length);
        var k = 0;
        for (var i = 0; i < offsets.Length; i++)
        {
            var start = At(offsets[i]);
            var end = i + 1 < offsets.Length ? At(offsets[i + 1]) : long.MaxValue;
            while (k < Fragments.Count && Fragments[k].Offset - 8 < start) k++;
            var parts = new List<DicomByteRange>();
            while (k < Fragments.Count && Fragments[k].Offset - 8 < end) parts.Add(Fragments[k++]);
            if (lengths != null && i < lengths.Length && parts.Count == 1 && lengths[i] <= (ulong)parts[0].Length)
                parts[0] = parts[0] with { Length = (long)lengths[i] };
            frames.Add(new DicomFrame(i, parts));
        }
        return frames;
    }

    ulong[] ReadUInt64s(DicomElement e)
    {
        var raw = e.RawValue.Span;
        var r = new ulong[raw.Length / 8];
        for (var i = 0; i < r.Length; i++) r[i] = BinaryPrimitives.ReadUInt64LittleEndian(raw[(i * 8)..]);
        return r;
    }

    /// <summary>The concatenated fragments of one frame, ready for a codec.</summary>
    public byte[] ReadFrame(DicomFrame frame)
    {
        var total = frame.Fragments.Sum(f => f.Length);
        var buffer = new byte[total];
        var at = 0;
        foreach (var f in frame.Fragments)
        {
            _source.Read(f.Offset, (int)f.Length).Span.CopyTo(buffer.AsSpan(at));
            at += (int)f.Length;
        }
        return buffer;
    }
}

/// <summary>One compressed frame: its fragments' byte ranges in the source.</summary>
public sealed record DicomFrame(int Index, IReadOnlyList<DicomByteRange> Fragments)
{
    public long Length => Fragments.Sum(f => f.Length);
}

/// <summary>
/// The seam for pixel codecs (another engineer's part): a decoder turns one encapsulated frame into native
/// pixels, in the layout of PS3.5 §8.2 native encoding for the given image description.
/// </summary>
public interface IDicomFrameDecoder
{
    /// <summary>Transfer syntax UIDs this decoder handles.</summary>
    IReadOnlyCollection<string> TransferSyntaxes { get; }
    /// <summary>Decodes <paramref name="encoded"/> (one frame's fragments concatenated) into <paramref name="destination"/>.</summary>
    void Decode(ReadOnlySpan<byte> encoded, DicomImageDescription image, Span<byte> destination);
}

/// <summary>The Image Pixel module attributes a codec needs (PS3.3 C.7.6.3).</summary>
public sealed record DicomImageDescription(int Rows, int Columns, int SamplesPerPixel, int BitsAllocated, int BitsStored,
    int HighBit, int PixelRepresentation, int PlanarConfiguration, string PhotometricInterpretation, int NumberOfFrames)
{
    public static DicomImageDescription From(DicomDataset ds) => new(
        (int)(ds.GetInteger(DicomTag.Rows) ?? 0), (int)(ds.GetInteger(DicomTag.Columns) ?? 0),
        (int)(ds.GetInteger(DicomTag.SamplesPerPixel) ?? 1), (int)(ds.GetInteger(DicomTag.BitsAllocated) ?? 0),
        (int)(ds.GetInteger(new DicomTag(0x00280101)) ?? 0), (int)(ds.GetInteger(new DicomTag(0x00280102)) ?? 0),
        (int)(ds.GetInteger(DicomTag.PixelRepresentation) ?? 0), (int)(ds.GetInteger(new DicomTag(0x00280006)) ?? 0),
        ds.GetString(new DicomTag(0x00280004)) ?? "", (int)Math.Max(1, ds.GetInteger(DicomTag.NumberOfFrames) ?? 1));

    /// <summary>Bytes of one native frame (PS3.5 §8.1.1; 1-bit data packed).</summary>
    public long FrameBytes => BitsAllocated == 1 ? ((long)Rows * Columns * SamplesPerPixel + 7) / 8 : (long)Rows * Columns * SamplesPerPixel * (BitsAllocated / 8);
}

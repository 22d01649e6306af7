using System.Buffers.Binary;

namespace Casebook.Extract.Dicom;

/// <summary>
/// Reads data elements (PS3.5 §7) from a byte source. Every length is checked against the bytes that remain
/// in the enclosing value before anything is allocated, so a lying length becomes a <see cref="DicomParseException"/>.
/// </summary>
internal sealed class DicomParser(DicomByteSource source, DicomReadOptions options)
{
    const uint Undefined = 0xFFFFFFFF;
    readonly DicomByteSource _src = source;
    readonly DicomReadOptions _options = options;

    /// <summary>Deviations the reader tolerated (PS3.5 violations that dcmtk and pydicom also accept).</summary>
    public List<string> Warnings { get; } = new();
    public bool StoppedAtPixelData { get; private set; }
    public long PixelDataOffset { get; private set; } = -1;

    /// <summary>Reads a dataset from <paramref name="start"/> to <paramref name="end"/>; returns the offset after the last element read.</summary>
    public long ReadDataset(DicomDataset ds, long start, long end, bool untilItemDelimiter, int depth, Func<DicomTag, bool>? stopAt = null)
    {
        if (depth > _options.MaxDepth) throw new DicomParseException($"sequences nested deeper than {_options.MaxDepth}", start);
        var pos = start;
        var be = ds.BigEndian;
        while (true)
        {
            if (pos >= end)
            {
                if (untilItemDelimiter && end >= _src.Length) throw new DicomParseException("item of undefined length ends without an item delimitation item (FFFE,E00D)", pos);
                return pos;
            }
            if (end - pos < 8)
            {
                // Trailing padding after the last element is tolerated at the top level (PS3.10 allows nothing, but writers pad to even sizes).
                if (depth == 0 && AllZero(pos, (int)(end - pos))) return end;
                throw new DicomParseException($"truncated element header: {end - pos} bytes left, 8 needed", pos);
            }
            var head = _src.Peek(pos, 8);
            var group = be ? BinaryPrimitives.ReadUInt16BigEndian(head) : BinaryPrimitives.ReadUInt16LittleEndian(head);
            var elem = be ? BinaryPrimitives.ReadUInt16BigEndian(head[2..]) : BinaryPrimitives.ReadUInt16LittleEndian(head[2..]);
            var tag = new DicomTag(group, elem);

            if (group == 0xFFFE)
            {
                // PS3.5 §7.5: item and delimitation tags always have a 4-byte length and no VR.
                var len = be ? BinaryPrimitives.ReadUInt32BigEndian(head[4..]) : BinaryPrimitives.ReadUInt32LittleEndian(head[4..]);
                if (tag == DicomTag.ItemDelimitationItem)
                {
                    if (untilItemDelimiter) return pos + 8;
                    pos += 8; // stray delimiter in a defined-length context: skip it
                    continue;
                }
                if (tag == DicomTag.SequenceDelimitationItem && untilItemDelimiter)
                    return pos; // missing item delimiter: let the sequence reader consume the sequence delimiter
                if (tag == DicomTag.SequenceDelimitationItem && depth == 0) { pos += 8; continue; }
                throw new DicomParseException($"unexpected {tag} (length {len}) inside a dataset", pos, tag);
            }

            if (stopAt != null && stopAt(tag)) return pos;
            if (depth == 0 && _options.StopBeforePixels && (tag == DicomTag.PixelData || tag == DicomTag.FloatPixelData || tag == DicomTag.DoubleFloatPixelData))
            {
                StoppedAtPixelData = true;
                PixelDataOffset = pos;
                return pos;
            }
            pos = ReadElement(ds, tag, pos, end, depth);
        }
    }

    bool AllZero(long pos, int count)
    {
        foreach (var b in _src.Peek(pos, count)) if (b != 0) return false;
        return true;
    }

    long ReadElement(DicomDataset ds, DicomTag tag, long pos, long end, int depth)
    {
        var be = ds.BigEndian;
        DicomVR vr;
        uint length;
        long valuePos;
        DicomVR? encodedVR = null;
        var head = _src.Peek(pos, 8);
        if (!ds.ImplicitVR)
        {
            vr = new DicomVR((ushort)((head[4] << 8) | head[5]));
            if (vr.HasLongLength)
            {
                // PS3.5 §7.1.2: VR, 2 reserved bytes, 32-bit length.
                if (end - pos < 12) throw new DicomParseException("truncated element header: 12 bytes needed", pos, tag);
                var h = _src.Peek(pos + 8, 4);
                length = be ? BinaryPrimitives.ReadUInt32BigEndian(h) : BinaryPrimitives.ReadUInt32LittleEndian(h);
                valuePos = pos + 12;
            }
            else
            {
                length = be ? BinaryPrimitives.ReadUInt16BigEndian(head[6..]) : BinaryPrimitives.ReadUInt16LittleEndian(head[6..]);
                valuePos = pos + 8;
                if (!vr.IsKnown)
                {
                    // Not a PS3.5 Table 6.2-1 VR: assume the 2-byte length of §7.1.2's short form (as dcmtk does)
                    // and read the value with the dictionary VR.
                    Warnings.Add($"non-standard VR bytes 0x{head[4]:X2}{head[5]:X2} at byte offset {pos} (tag {tag}); read with a 16-bit length and the dictionary VR");
                    encodedVR = vr;
                    var known = tag.IsPrivate ? null : DicomDictionary.Lookup(tag);
                    vr = known == null ? DicomVR.UN : known.IsAmbiguous ? ResolveAmbiguous(ds, tag, known, length) : known.PrimaryVR;
                    if (vr.HasLongLength && vr != DicomVR.UN) vr = DicomVR.UN;
                }
            }
        }
        else
        {
            // PS3.5 §7.1.3: implicit VR; the VR comes from the data dictionary.
            length = be ? BinaryPrimitives.ReadUInt32BigEndian(head[4..]) : BinaryPrimitives.ReadUInt32LittleEndian(head[4..]);
            valuePos = pos + 8;
            vr = ImplicitVR(ds, tag, length);
        }

        // Element without a dictionary VR stored as UN (explicit) gets the dictionary VR when it has one (PS3.5 §6.2.2).
        if (vr == DicomVR.UN && !tag.IsPrivate && DicomDictionary.Lookup(tag) is { } entry && entry.PrimaryVR != DicomVR.UN)
        {
            encodedVR = DicomVR.UN;
            vr = entry.IsAmbiguous ? ResolveAmbiguous(ds, tag, entry, length) : entry.PrimaryVR;
        }

        if (length == Undefined)
        {
            if (tag == DicomTag.PixelData || tag == DicomTag.FloatPixelData || tag == DicomTag.DoubleFloatPixelData)
                return ReadEncapsulated(ds, tag, vr, pos, valuePos, end);
            // PS3.5 §6.2.2 / §7.5.1: only SQ (and UN holding an implicit VR sequence) may have undefined length.
            var el = new DicomElement(ds, tag, DicomVR.SQ, pos, valuePos, 0, true) { EncodedVR = vr == DicomVR.SQ ? encodedVR : vr };
            ds.Add(el);
            var implicitItems = vr == DicomVR.UN || encodedVR == DicomVR.UN || ds.ImplicitVR;
            var after = ReadSequence(el, valuePos, end, undefinedLength: true, implicitItems, ds.BigEndian && !(vr == DicomVR.UN || encodedVR == DicomVR.UN), depth);
            return after;
        }

        if (length > end - valuePos)
            throw new DicomParseException($"value length {length} exceeds the {Math.Max(0, end - valuePos)} bytes that remain", pos, tag);

        if (vr == DicomVR.SQ)
        {
            var el = new DicomElement(ds, tag, vr, pos, valuePos, length, false) { EncodedVR = encodedVR };
            ds.Add(el);
            var implicitItems = ds.ImplicitVR || encodedVR == DicomVR.UN;
            try
            {
                    return ReadSequence(el, valuePos, valuePos + length, undefinedLength: false, implicitItems, ds.BigEndian && encodedVR != DicomVR.UN, depth, end);
            }
            catch (DicomParseException) when (encodedVR == DicomVR.UN)
            {
                // UN whose bytes are not an implicit VR sequence after all: keep it as opaque UN.
                ds.RemoveLast();
                var un = new DicomElement(ds, tag, DicomVR.UN, pos, valuePos, length, false);
                un.SetValue(_src.Read(valuePos, (int)length));
                ds.Add(un);
            }
            return valuePos + length;
        }

        var element = new DicomElement(ds, tag, vr, pos, valuePos, length, false) { EncodedVR = encodedVR };
        if (length > _options.DeferValuesLongerThan && !_src.IsInMemory) element.DeferValue(_src);
        else element.SetValue(_src.Read(valuePos, (int)length));
        ds.Add(element);
        return valuePos + length;
    }

    static bool IsUpper(byte b) => b >= (byte)'A' && b <= (byte)'Z';

    /// <summary>PS3.5 §7.1.3 and Annex A.1: VR of an implicit element (private creators LO, group lengths UL, unknown UN).</summary>
    static DicomVR ImplicitVR(DicomDataset ds, DicomTag tag, uint length)
    {
        if (tag.IsGroupLength) return DicomVR.UL;
        if (tag.IsPrivateCreator) return DicomVR.LO;
        if (tag.IsPrivate) return length == Undefined ? DicomVR.SQ : DicomVR.UN;
        var entry = DicomDictionary.Lookup(tag);
        if (entry == null) return length == Undefined ? DicomVR.SQ : DicomVR.UN;
        return entry.IsAmbiguous ? ResolveAmbiguous(ds, tag, entry, length) : entry.PrimaryVR;
    }

    /// <summary>Ambiguous dictionary VRs: "US or SS" by Pixel Representation (PS3.3 C.7.6.3), "OB or OW" is OW in implicit VR (PS3.5 A.1).</summary>
    static DicomVR ResolveAmbiguous(DicomDataset ds, DicomTag tag, DicomDictionaryEntry entry, uint length)
    {
        if (entry.VR == "US or SS")
        {
            for (var d = ds; d != null; d = d.Parent)
                if (d.Find(DicomTag.PixelRepresentation) is { } pr) return pr.GetDoubles() is [1] ? DicomVR.SS : DicomVR.US;
            return DicomVR.US;
        }
        if (entry.VR == "US or OW" && tag.Value == 0x00283006)
            return ds.Find(DicomTag.LUTDescriptor)?.GetDoubles() is [1, ..] ? DicomVR.US : DicomVR.OW;
        if (length == Undefined) return DicomVR.OB;
        return DicomVR.OW;
    }

    /// <summary>PS3.5 §7.5: items (FFFE,E000) of defined or undefined length, ended by the value length or (FFFE,E0DD).</summary>
    long ReadSequence(DicomElement seq, long start, long end, bool undefinedLength, bool implicitItems, bool bigEndian, int depth, long outerEnd = -1)
    {
        seq.Items = new List<DicomDataset>();
        var pos = start;
        while (true)
        {
            if (pos >= end)
            {
                if (undefinedLength) throw new DicomParseException("sequence of undefined length ends without a sequence delimitation item (FFFE,E0DD)", pos, seq.Tag);
                seq.Length = pos - start;
                return pos;
            }
            if (end - pos < 8) throw new DicomParseException($"truncated item header in sequence {seq.Tag}: {end - pos} bytes left", pos, seq.Tag);
            var head = _src.Peek(pos, 8);
            var tag = new DicomTag(bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(head) : BinaryPrimitives.ReadUInt16LittleEndian(head),
                                   bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(head[2..]) : BinaryPrimitives.ReadUInt16LittleEndian(head[2..]));
            var len = bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(head[4..]) : BinaryPrimitives.ReadUInt32LittleEndian(head[4..]);
            if (tag == DicomTag.SequenceDelimitationItem)
            {
                seq.Length = pos - start;
                return pos + 8;
            }
            if (tag != DicomTag.Item)
                throw new DicomParseException($"expected an item tag (FFFE,E000) in sequence {seq.Tag} but found {tag}", pos, tag);
            var item = new DicomDataset(seq.Parent, bigEndian, implicitItems, pos + 8);
            seq.Items.Add(item);
            if (len == Undefined)
            {
                pos = ReadDataset(item, pos + 8, end, untilItemDelimiter: true, depth + 1);
            }
            else
            {
                if (len > end - (pos + 8))
                {
                    // A sequence length too short for its last item, while the item fits the enclosing value:
                    // a writer miscounted the sequence (seen in DICOMDIRs). Follow the item lengths, and say so.
                    if (!undefinedLength && outerEnd > end && len <= outerEnd - (pos + 8))
                    {
                        Warnings.Add($"sequence {seq.Tag} declares {end - start} bytes but its item at byte offset {pos} runs to {pos + 8 + len}; followed the item length");
                        end = pos + 8 + len;
                    }
                    else
                    {
                        // The item claims more than its sequence holds: read its elements up to the sequence end (as dcmtk does);
                        // if they do not end cleanly there, the element reader reports where.
                        Warnings.Add($"item at byte offset {pos} in sequence {seq.Tag} claims {len} bytes but only {end - pos - 8} remain; read to the end of the sequence");
                        len = (uint)(end - pos - 8);
                    }
                }
                ReadDataset(item, pos + 8, pos + 8 + len, untilItemDelimiter: false, depth + 1);
                pos = pos + 8 + len;
            }
        }
    }

    /// <summary>PS3.5 §A.4: Basic Offset Table item, fragment items of defined length, then (FFFE,E0DD).</summary>
    long ReadEncapsulated(DicomDataset ds, DicomTag tag, DicomVR vr, long pos, long valuePos, long end)
    {
        var el = new DicomElement(ds, tag, vr, pos, valuePos, 0, true);
        ds.Add(el);
        var p = valuePos;
        DicomByteRange? bot = null;
        var fragments = new List<DicomByteRange>();
        var be = ds.BigEndian;
        try
        {
            while (true)
            {
                if (end - p < 8) throw new DicomParseException("encapsulated pixel data ends without a sequence delimitation item (FFFE,E0DD)", p, tag);
                var head = _src.Peek(p, 8);
                var t = new DicomTag(be ? BinaryPrimitives.ReadUInt16BigEndian(head) : BinaryPrimitives.ReadUInt16LittleEndian(head),
                                     be ? BinaryPrimitives.ReadUInt16BigEndian(head[2..]) : BinaryPrimitives.ReadUInt16LittleEndian(head[2..]));
                var len = be ? BinaryPrimitives.ReadUInt32BigEndian(head[4..]) : BinaryPrimitives.ReadUInt32LittleEndian(head[4..]);
                if (t == DicomTag.SequenceDelimitationItem)
                {
                    el.Length = p - valuePos;
                    return p + 8;
                }
                if (t != DicomTag.Item) throw new DicomParseException($"expected a fragment item (FFFE,E000) but found {t}", p, tag);
                if (len == Undefined || len > end - (p + 8))
                    throw new DicomParseException($"fragment length {(len == Undefined ? "undefined" : len.ToString())} exceeds the {end - p - 8} bytes that remain", p, tag);
                var range = new DicomByteRange(p + 8, len);
                if (bot == null) bot = range; else fragments.Add(range);
                p += 8 + len;
            }
        }
        finally
        {
            el.Length = Math.Max(el.Length, p - valuePos);
            el.Fragments = new DicomFragments(ds, _src, bot ?? new DicomByteRange(valuePos, 0), fragments);
        }
    }
}

using System.Buffers.Binary;
using System.Text;

namespace Casebook.Fuzz;

/// <summary>
/// A structure-aware byte mutator for DICOM: generic byte flips, insertions, deletions and splices, plus
/// mutations aimed where DICOM readers go wrong: element length fields (PS3.5 §7.1.2: 16-bit after most
/// explicit VRs, 32-bit after OB/OW/SQ/UN/UT… and in implicit VR), VR codes, item/delimiter tags (§7.5),
/// Image Pixel attributes (group 0028) and transfer syntax UIDs. Deterministic for a given <see cref="Random"/>.
/// Used by the in-process campaign (<c>mutate</c>) and by the CI smoke test; AFL++ uses its own mutators.
/// </summary>
public sealed class DicomMutator(Random rng)
{
    static readonly string[] Vrs = ["AE", "AS", "AT", "CS", "DA", "DS", "DT", "FL", "FD", "IS", "LO", "LT", "OB", "OD", "OF", "OL", "OV", "OW", "PN", "SH", "SL", "SQ", "SS", "ST", "SV", "TM", "UC", "UI", "UL", "UN", "UR", "US", "UT", "UV"];
    static readonly HashSet<string> LongVrs = ["OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"];
    static readonly uint[] Interesting32 = [0, 1, 2, 3, 4, 7, 8, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFE, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFE, 0xFFFFFFFF, 0x0FFFFFFF];
    static readonly ushort[] Interesting16 = [0, 1, 2, 3, 7, 8, 9, 11, 12, 15, 16, 17, 24, 31, 32, 33, 64, 0x7FFF, 0x8000, 0xFFFE, 0xFFFF];
    // (group, element) pairs that steer the parser: items, delimiters, pixel data, image pixel module, meta.
    static readonly (ushort G, ushort E)[] Tags =
    [
        (0xFFFE, 0xE000), (0xFFFE, 0xE00D), (0xFFFE, 0xE0DD), (0x7FE0, 0x0010), (0x7FE0, 0x0008), (0x7FE0, 0x0001), (0x7FE0, 0x0002),
        (0x0028, 0x0002), (0x0028, 0x0004), (0x0028, 0x0006), (0x0028, 0x0008), (0x0028, 0x0010), (0x0028, 0x0011),
        (0x0028, 0x0100), (0x0028, 0x0101), (0x0028, 0x0102), (0x0028, 0x0103), (0x0002, 0x0000), (0x0002, 0x0010),
        (0x0008, 0x0005), (0x0009, 0x0010), (0x0009, 0x1001), (0x0004, 0x1200), (0x0004, 0x1400), (0x0028, 0x1201), (0x0028, 0x1101),
    ];
    static readonly string[] Syntaxes =
    [
        "1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.5", "1.2.840.10008.1.2.1.99",
        "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70",
        "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81", "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91", "1.2.840.10008.1.2.1.98",
    ];
    static readonly string[] Photometrics = ["MONOCHROME1 ", "MONOCHROME2 ", "RGB ", "PALETTE COLOR ", "YBR_FULL", "YBR_FULL_422", "YBR_RCT ", "YBR_ICT "];
    static readonly string[] Charsets = ["ISO_IR 100", "ISO_IR 192", "GB18030 ", "ISO 2022 IR 87", "ISO 2022 IR 149", "ISO_IR 13", "ISO 2022 IR 159", "ISO_IR 166"];

    public byte[] Mutate(byte[] input, IReadOnlyList<byte[]> corpus)
    {
        var data = new List<byte>(input);
        var rounds = 1 + rng.Next(rng.Next(2) == 0 ? 2 : 8);
        for (var r = 0; r < rounds; r++) MutateOnce(data, corpus);
        return data.ToArray();
    }

    void MutateOnce(List<byte> d, IReadOnlyList<byte[]> corpus)
    {
        if (d.Count == 0) { d.Add((byte)rng.Next(256)); return; }
        switch (rng.Next(14))
        {
            case 0: d[rng.Next(d.Count)] ^= (byte)(1 << rng.Next(8)); break;
            case 1: d[rng.Next(d.Count)] = (byte)rng.Next(256); break;
            case 2: { var at = rng.Next(d.Count); var n = Math.Min(d.Count - at, 1 + rng.Next(rng.Next(2) == 0 ? 4 : 256)); d.RemoveRange(at, n); break; }
            case 3: { var at = rng.Next(d.Count + 1); var n = 1 + rng.Next(16); var b = new byte[n]; rng.NextBytes(b); d.InsertRange(at, b); break; }
            case 4: { var from = rng.Next(d.Count); var n = Math.Min(d.Count - from, 1 + rng.Next(64)); d.InsertRange(rng.Next(d.Count + 1), d.GetRange(from, n)); break; }
            case 5: { var cut = rng.Next(d.Count); d.RemoveRange(cut, d.Count - cut); break; } // truncation
            case 6: case 7: case 8: LengthField(d); break;
            case 9: VrCode(d); break;
            case 10: Tag(d); break;
            case 11: ImagePixelValue(d); break;
            case 12: ReplaceString(d); break;
            case 13: Splice(d, corpus[rng.Next(corpus.Count)]); break;
        }
    }

    /// <summary>Finds explicit VR element headers (tag, two VR letters) and rewrites the length that follows; else a random aligned 32-bit slot.</summary>
    void LengthField(List<byte> d)
    {
        var headers = ExplicitHeaders(d);
        if (headers.Count > 0 && rng.Next(4) != 0)
        {
            var (at, vr) = headers[rng.Next(headers.Count)];
            if (LongVrs.Contains(vr) && at + 12 <= d.Count) Write32(d, at + 8, PickLength(d, at + 8, Read32(d, at + 8)));
            else if (at + 8 <= d.Count) Write16(d, at + 6, (ushort)PickLength(d, at + 6, Read16(d, at + 6)));
            return;
        }
        // Implicit VR: tag (4 bytes) then a 32-bit length; aim at even offsets.
        var pos = rng.Next(Math.Max(1, d.Count - 8)) & ~1;
        if (pos + 8 <= d.Count) Write32(d, pos + 4, PickLength(d, pos + 4, Read32(d, pos + 4)));
    }

    uint PickLength(List<byte> d, int at, uint current) => rng.Next(5) switch
    {
        0 => current + (uint)rng.Next(-4, 5),
        1 => (uint)(d.Count - at + rng.Next(-8, 9)), // lengths that just reach past the end
        2 => current ^ (1u << rng.Next(32)),
        _ => Interesting32[rng.Next(Interesting32.Length)],
    };

    void VrCode(List<byte> d)
    {
        var headers = ExplicitHeaders(d);
        if (headers.Count == 0) return;
        var (at, _) = headers[rng.Next(headers.Count)];
        var vr = rng.Next(8) == 0 ? $"{(char)rng.Next(32, 127)}{(char)rng.Next(32, 127)}" : Vrs[rng.Next(Vrs.Length)];
        d[at + 4] = (byte)vr[0]; d[at + 5] = (byte)vr[1];
    }

    void Tag(List<byte> d)
    {
        var (g, e) = Tags[rng.Next(Tags.Length)];
        var headers = ExplicitHeaders(d);
        var at = headers.Count > 0 && rng.Next(3) != 0 ? headers[rng.Next(headers.Count)].At : rng.Next(Math.Max(1, d.Count - 4)) & ~1;
        if (at + 4 > d.Count) return;
        if (rng.Next(4) == 0)
        {
            // Insert a whole item/delimiter header rather than overwriting one.
            var b = new byte[8];
            BinaryPrimitives.WriteUInt16LittleEndian(b, g); BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(2), e);
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(4), rng.Next(2) == 0 ? 0xFFFFFFFF : (uint)rng.Next(64));
            d.InsertRange(at, b);
            return;
        }
        Write16(d, at, g); Write16(d, at + 2, e);
    }

    /// <summary>Overwrites the value of an Image Pixel attribute (0028,xxxx) found in the stream: rows, columns, bits, samples, frames.</summary>
    void ImagePixelValue(List<byte> d)
    {
        var hits = new List<int>();
        for (var i = 0; i + 10 <= d.Count; i++)
            if (d[i] == 0x28 && d[i + 1] == 0x00 && d[i + 3] == 0x00 || d[i] == 0x00 && d[i + 1] == 0x28 && d[i + 2] == 0x00) hits.Add(i);
        if (hits.Count == 0) return;
        var at = hits[rng.Next(hits.Count)];
        var explicitVr = char.IsAsciiLetterUpper((char)d[at + 4]) && char.IsAsciiLetterUpper((char)d[at + 5]);
        var value = at + 8;
        if (value + 2 > d.Count) return;
        if (explicitVr && (d[at + 4] == 'I' || d[at + 4] == 'C' || d[at + 4] == 'D'))
        {
            // IS/CS/DS: a short ASCII number or term.
            var s = rng.Next(3) == 0 ? Photometrics[rng.Next(Photometrics.Length)] : rng.Next(-2, 70000).ToString();
            var len = Read16(d, at + 6);
            for (var i = 0; i < len && value + i < d.Count; i++) d[value + i] = i < s.Length ? (byte)s[i] : (byte)' ';
            return;
        }
        Write16(d, value, Interesting16[rng.Next(Interesting16.Length)]);
    }

    /// <summary>Swaps a transfer syntax UID, photometric interpretation or character set for another of any length.</summary>
    void ReplaceString(List<byte> d)
    {
        var (pool, prefix) = rng.Next(3) switch
        {
            0 => (Syntaxes, "1.2.840.10008.1.2"),
            1 => (Photometrics, ""),
            _ => (Charsets, "ISO"),
        };
        var text = Encoding.Latin1.GetString(d.ToArray());
        var at = -1;
        if (prefix.Length > 0) at = text.IndexOf(prefix, rng.Next(2) == 0 ? 0 : rng.Next(text.Length), StringComparison.Ordinal);
        else foreach (var p in Photometrics) if ((at = text.IndexOf(p.Trim(), StringComparison.Ordinal)) >= 0) break;
        if (at < 0) return;
        var end = at;
        while (end < d.Count && d[end] is >= (byte)' ' and < 127 && end - at < 64) end++;
        var repl = Encoding.ASCII.GetBytes(pool[rng.Next(pool.Length)]);
        if (rng.Next(2) == 0)
        {
            // Same length (pad or cut), so the element length stays right.
            var fixedLen = new byte[end - at];
            for (var i = 0; i < fixedLen.Length; i++) fixedLen[i] = i < repl.Length ? repl[i] : (byte)0;
            repl = fixedLen;
        }
        d.RemoveRange(at, end - at);
        d.InsertRange(at, repl);
    }

    void Splice(List<byte> d, byte[] other)
    {
        if (other.Length == 0) return;
        var cut = rng.Next(d.Count);
        var from = rng.Next(other.Length);
        var n = Math.Min(other.Length - from, 1 + rng.Next(rng.Next(2) == 0 ? 512 : other.Length));
        if (rng.Next(2) == 0) { d.RemoveRange(cut, d.Count - cut); d.AddRange(other.AsSpan(from, n).ToArray()); }
        else d.InsertRange(cut, other.AsSpan(from, n).ToArray());
    }

    static List<(int At, string Vr)> ExplicitHeaders(List<byte> d)
    {
        var found = new List<(int, string)>();
        for (var i = 0; i + 8 <= d.Count; i += 2)
        {
            var a = d[i + 4]; var b = d[i + 5];
            if (a is < (byte)'A' or > (byte)'Z' || b is < (byte)'A' or > (byte)'Z') continue;
            var vr = $"{(char)a}{(char)b}";
            if (Array.IndexOf(Vrs, vr) >= 0) found.Add((i, vr));
        }
        return found;
    }

    static uint Read32(List<byte> d, int at) => (uint)(d[at] | d[at + 1] << 8 | d[at + 2] << 16 | d[at + 3] << 24);
    static ushort Read16(List<byte> d, int at) => (ushort)(d[at] | d[at + 1] << 8);
    static void Write32(List<byte> d, int at, uint v) { for (var i = 0; i < 4; i++) d[at + i] = (byte)(v >> (8 * i)); }
    static void Write16(List<byte> d, int at, ushort v) { d[at] = (byte)v; d[at + 1] = (byte)(v >> 8); }
}

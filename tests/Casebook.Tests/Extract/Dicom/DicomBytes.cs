using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Casebook.Tests.Extract.Dicom;

/// <summary>Builds DICOM byte streams by hand for edge cases (PS3.5 §7 encodings), so each test shows its bytes.</summary>
public sealed class DicomBytes(bool explicitVR = true, bool bigEndian = false)
{
    readonly MemoryStream _ms = new();
    public bool ExplicitVR { get; } = explicitVR;
    public bool BigEndian { get; } = bigEndian;
    public long Position => _ms.Position;

    public DicomBytes U16(int v) { Span<byte> b = stackalloc byte[2]; if (BigEndian) BinaryPrimitives.WriteUInt16BigEndian(b, (ushort)v); else BinaryPrimitives.WriteUInt16LittleEndian(b, (ushort)v); _ms.Write(b); return this; }
    public DicomBytes U32(uint v) { Span<byte> b = stackalloc byte[4]; if (BigEndian) BinaryPrimitives.WriteUInt32BigEndian(b, v); else BinaryPrimitives.WriteUInt32LittleEndian(b, v); _ms.Write(b); return this; }
    public DicomBytes Raw(params byte[] bytes) { _ms.Write(bytes); return this; }
    public DicomBytes Tag(uint tag) => U16((int)(tag >> 16)).U16((int)(tag & 0xFFFF));

    static readonly HashSet<string> Long = ["OB", "OD", "OF", "OL", "OV", "OW", "SQ", "UC", "UN", "UR", "UT", "SV", "UV"];

    /// <summary>An element header: explicit (PS3.5 §7.1.2) or implicit (§7.1.3).</summary>
    public DicomBytes Header(uint tag, string vr, uint length)
    {
        Tag(tag);
        if (!ExplicitVR) return U32(length);
        Raw((byte)vr[0], (byte)vr[1]);
        if (Long.Contains(vr)) return U16(0).U32(length);
        return U16((int)length);
    }

    public DicomBytes Element(uint tag, string vr, byte[] value) { Header(tag, vr, (uint)value.Length); return Raw(value); }
    public DicomBytes Text(uint tag, string vr, string value, byte pad = (byte)' ')
    {
        var b = Encoding.Latin1.GetBytes(value).ToList();
        if (b.Count % 2 == 1) b.Add(pad);
        return Element(tag, vr, b.ToArray());
    }
    public DicomBytes Item(uint length = 0xFFFFFFFF) => Tag(0xFFFEE000).U32(length);
    public DicomBytes ItemEnd() => Tag(0xFFFEE00D).U32(0);
    public DicomBytes SequenceEnd() => Tag(0xFFFEE0DD).U32(0);

    public byte[] ToArray() => _ms.ToArray();

    /// <summary>Preamble, "DICM" and a minimal explicit VR LE meta group (PS3.10 §7.1) naming <paramref name="transferSyntax"/>.</summary>
    public static byte[] Part10(string transferSyntax, byte[] dataset)
    {
        var meta = new DicomBytes();
        meta.Element(0x00020001, "OB", [0, 1]);
        meta.Text(0x00020002, "UI", "1.2.840.10008.5.1.4.1.1.7", 0);
        meta.Text(0x00020003, "UI", "1.2.3.4", 0);
        meta.Text(0x00020010, "UI", transferSyntax, 0);
        var body = meta.ToArray();
        var head = new DicomBytes().Element(0x00020000, "UL", BitConverter.GetBytes((uint)body.Length)).ToArray();
        return [.. new byte[128], .. "DICM"u8.ToArray(), .. head, .. body, .. dataset];
    }

    public static byte[] Deflate(byte[] data)
    {
        var ms = new MemoryStream();
        using (var d = new DeflateStream(ms, CompressionLevel.Optimal, leaveOpen: true)) d.Write(data);
        return ms.ToArray();
    }
}

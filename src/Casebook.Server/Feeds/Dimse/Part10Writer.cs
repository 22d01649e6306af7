using System.Buffers.Binary;
using System.Text;

namespace Casebook.Server.Feeds.Dimse;

/// <summary>
/// Writes the Part 10 header in front of a dataset received over the network (PS3.10 §7.1): 128-byte preamble, "DICM", and
/// the File Meta Information group in Explicit VR Little Endian naming the negotiated transfer syntax, the SOP class and
/// instance from the C-STORE-RQ and the sending AE. The dataset bytes follow exactly as received (in that transfer syntax).
/// </summary>
public static class Part10Writer
{
    public static byte[] Header(string sopClass, string sopInstance, string transferSyntax, string sourceAe)
    {
        var meta = new MemoryStream();
        Element(meta, 0x0001, "OB", [0x00, 0x01]); // File Meta Information Version
        Element(meta, 0x0002, "UI", Uid(sopClass));
        Element(meta, 0x0003, "UI", Uid(sopInstance));
        Element(meta, 0x0010, "UI", Uid(transferSyntax));
        Element(meta, 0x0012, "UI", Uid(AssociationNegotiation.ImplementationClassUid));
        Element(meta, 0x0013, "SH", Text(AssociationNegotiation.ImplementationVersion));
        if (sourceAe.Length > 0) Element(meta, 0x0016, "AE", Text(sourceAe));
        var group = meta.ToArray();
        var header = new MemoryStream();
        header.Write(new byte[128]);
        header.Write("DICM"u8);
        var length = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)group.Length);
        Element(header, 0x0000, "UL", length); // (0002,0000) group length
        header.Write(group);
        return header.ToArray();
    }

    static byte[] Uid(string s) { var b = Encoding.ASCII.GetBytes(s); return b.Length % 2 == 0 ? b : [.. b, 0]; }
    static byte[] Text(string s) { var b = Encoding.ASCII.GetBytes(s); return b.Length % 2 == 0 ? b : [.. b, (byte)' ']; }

    static void Element(Stream s, ushort element, string vr, byte[] value)
    {
        Span<byte> tag = stackalloc byte[4];
        BinaryPrimitives.WriteUInt16LittleEndian(tag, 0x0002);
        BinaryPrimitives.WriteUInt16LittleEndian(tag[2..], element);
        s.Write(tag);
        s.Write(Encoding.ASCII.GetBytes(vr));
        if (vr is "OB" or "OW" or "UN" or "SQ" or "UT")
        {
            // PS3.5 §7.1.2: these VRs have 2 reserved bytes and a 4-byte length.
            Span<byte> l = stackalloc byte[6];
            BinaryPrimitives.WriteUInt32LittleEndian(l[2..], (uint)value.Length);
            s.Write(l);
        }
        else
        {
            Span<byte> l = stackalloc byte[2];
            BinaryPrimitives.WriteUInt16LittleEndian(l, (ushort)value.Length);
            s.Write(l);
        }
        s.Write(value);
    }
}

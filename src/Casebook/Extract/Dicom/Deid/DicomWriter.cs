using System.Buffers.Binary;
using System.Text;

namespace Casebook.Extract.Dicom.Deid;

/// <summary>
/// Writes DICOM Part 10 files (PS3.10 §7): 128-byte zero preamble, "DICM", File Meta Information (group 0002,
/// explicit VR little endian, with a correct (0002,0000) group length), then the dataset in explicit VR little endian.
/// Native data is always written as Explicit VR Little Endian; encapsulated pixel data is written as-is, so the
/// original (compressed) transfer syntax is kept. Sequences and items are written with undefined length (PS3.5 §7.5.2).
/// </summary>
public static class DicomWriter
{
    /// <summary>Casebook's implementation class UID (PS3.7 D.3.3.2): a UUID-derived UID under the 2.25 root (PS3.5 §B.2).</summary>
    public const string ImplementationClassUid = "2.25.337863210504140273228534430161612182529";
    public const string ImplementationVersionName = "CASEBOOK_1";

    /// <summary>The transfer syntax a file read as <paramref name="source"/> is written in: encapsulated ones are kept, native ones become explicit VR little endian.</summary>
    public static string OutputTransferSyntax(DicomTransferSyntax source) =>
        source.Encapsulated ? source.Uid : DicomTransferSyntax.ExplicitVRLittleEndian.Uid;

    /// <summary>Builds group 0002 for a dataset: SOP class and instance from the dataset, Casebook's implementation identity.</summary>
    public static DicomOutputDataset BuildMeta(DicomOutputDataset dataset, string transferSyntaxUid)
    {
        var meta = new DicomOutputDataset();
        meta.SetBytes(new DicomTag(0x00020001), DicomVR.OB, new byte[] { 0x00, 0x01 });
        meta.SetString(DicomTag.MediaStorageSOPClassUID, DicomVR.UI, dataset.GetString(DicomTag.SOPClassUID) ?? "");
        meta.SetString(DicomTag.MediaStorageSOPInstanceUID, DicomVR.UI, dataset.GetString(DicomTag.SOPInstanceUID) ?? "");
        meta.SetString(DicomTag.TransferSyntaxUID, DicomVR.UI, transferSyntaxUid);
        meta.SetString(new DicomTag(0x00020012), DicomVR.UI, ImplementationClassUid);
        meta.SetString(new DicomTag(0x00020013), DicomVR.SH, ImplementationVersionName);
        return meta;
    }

    public static void Write(string path, DicomOutputDataset dataset, string transferSyntaxUid, DicomOutputDataset? meta = null)
    {
        var tmp = path + ".tmp";
        using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write))
            Write(fs, dataset, transferSyntaxUid, meta);
        File.Move(tmp, path, overwrite: true);
    }

    public static byte[] ToBytes(DicomOutputDataset dataset, string transferSyntaxUid, DicomOutputDataset? meta = null)
    {
        var ms = new MemoryStream();
        Write(ms, dataset, transferSyntaxUid, meta);
        return ms.ToArray();
    }

    public static void Write(Stream stream, DicomOutputDataset dataset, string transferSyntaxUid, DicomOutputDataset? meta = null)
    {
        var ts = DicomTransferSyntax.FromUid(transferSyntaxUid);
        if (ts.BigEndian || !ts.ExplicitVR || ts.Deflated)
            throw new NotSupportedException($"the writer writes explicit VR little endian (native or encapsulated), not {ts.Name}");
        if (!ts.Encapsulated && dataset[DicomTag.PixelData]?.Fragments != null)
            throw new InvalidOperationException("encapsulated pixel data needs an encapsulated transfer syntax");
        meta ??= BuildMeta(dataset, transferSyntaxUid);

        var w = new BufferedStream(stream, 1 << 16);
        w.Write(new byte[128]);
        w.Write("DICM"u8);
        // PS3.10 §7.1: (0002,0000) UL holds the byte count of the rest of group 0002.
        var metaBody = new MemoryStream();
        foreach (var e in meta.Elements)
            if (e.Tag.Group == 0x0002 && !e.Tag.IsGroupLength) WriteElement(metaBody, e);
        WriteElement(w, new DicomOutputElement(DicomTag.FileMetaInformationGroupLength, DicomVR.UL, LittleEndian.UInt32((uint)metaBody.Length)));
        metaBody.Position = 0;
        metaBody.CopyTo(w);
        WriteDataset(w, dataset);
        w.Flush();
    }

    static void WriteDataset(Stream w, DicomOutputDataset ds)
    {
        foreach (var e in ds.Elements) WriteElement(w, e);
    }

    static readonly byte[] Zero4 = new byte[4];

    static void WriteElement(Stream w, DicomOutputElement e)
    {
        if (e.Items != null)
        {
            WriteHeader(w, e.Tag, DicomVR.SQ, 0xFFFFFFFF);
            foreach (var item in e.Items)
            {
                WriteItemTag(w, DicomTag.Item, 0xFFFFFFFF);
                WriteDataset(w, item);
                WriteItemTag(w, DicomTag.ItemDelimitationItem, 0);
            }
            WriteItemTag(w, DicomTag.SequenceDelimitationItem, 0);
            return;
        }
        if (e.Fragments != null)
        {
            // PS3.5 §A.4: OB, undefined length, offset table item, one item per fragment, sequence delimiter.
            WriteHeader(w, e.Tag, DicomVR.OB, 0xFFFFFFFF);
            WriteItemTag(w, DicomTag.Item, (uint)e.Fragments.BasicOffsetTable.Length);
            w.Write(e.Fragments.BasicOffsetTable.Span);
            foreach (var f in e.Fragments.Fragments)
            {
                var odd = (f.Length & 1) == 1;
                WriteItemTag(w, DicomTag.Item, (uint)(f.Length + (odd ? 1 : 0)));
                w.Write(f.Span);
                if (odd) w.WriteByte(0);
            }
            WriteItemTag(w, DicomTag.SequenceDelimitationItem, 0);
            return;
        }
        var value = e.Value.Span;
        var pad = (value.Length & 1) == 1;
        var length = value.Length + (pad ? 1 : 0);
        var vr = e.VR;
        if (!vr.IsKnown) vr = DicomVR.UN;
        // A value too long for a 16-bit length field cannot keep its VR in explicit VR (PS3.5 §7.1.2); UN carries any length.
        if (!vr.HasLongLength && length > 0xFFFF) vr = DicomVR.UN;
        WriteHeader(w, e.Tag, vr, (uint)length);
        w.Write(value);
        if (pad) w.WriteByte(PadByte(vr));
    }

    /// <summary>PS3.5 §6.2: UI and binary values pad with NUL, text with a space.</summary>
    static byte PadByte(DicomVR vr) => vr == DicomVR.UI || vr.IsBinary || !vr.IsString ? (byte)0 : (byte)' ';

    static void WriteHeader(Stream w, DicomTag tag, DicomVR vr, uint length)
    {
        Span<byte> h = stackalloc byte[12];
        BinaryPrimitives.WriteUInt16LittleEndian(h, tag.Group);
        BinaryPrimitives.WriteUInt16LittleEndian(h[2..], tag.Element);
        h[4] = (byte)(vr.Code >> 8);
        h[5] = (byte)vr.Code;
        if (vr.HasLongLength)
        {
            h[6] = 0; h[7] = 0;
            BinaryPrimitives.WriteUInt32LittleEndian(h[8..], length);
            w.Write(h);
        }
        else
        {
            BinaryPrimitives.WriteUInt16LittleEndian(h[6..], (ushort)length);
            w.Write(h[..8]);
        }
    }

    static void WriteItemTag(Stream w, DicomTag tag, uint length)
    {
        Span<byte> h = stackalloc byte[8];
        BinaryPrimitives.WriteUInt16LittleEndian(h, tag.Group);
        BinaryPrimitives.WriteUInt16LittleEndian(h[2..], tag.Element);
        BinaryPrimitives.WriteUInt32LittleEndian(h[4..], length);
        w.Write(h);
    }

    internal static byte[] Ascii(string s) => Encoding.ASCII.GetBytes(s);
}

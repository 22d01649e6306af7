namespace Casebook.Extract.Dicom;

/// <summary>A transfer syntax (PS3.5 §10, PS3.6 Annex A): how the dataset after the meta header is encoded.</summary>
public sealed record DicomTransferSyntax(string Uid, string Name, bool ExplicitVR, bool BigEndian, bool Deflated, bool Encapsulated)
{
    public static readonly DicomTransferSyntax ImplicitVRLittleEndian = new("1.2.840.10008.1.2", "Implicit VR Little Endian", false, false, false, false);
    public static readonly DicomTransferSyntax ExplicitVRLittleEndian = new("1.2.840.10008.1.2.1", "Explicit VR Little Endian", true, false, false, false);
    public static readonly DicomTransferSyntax EncapsulatedUncompressedExplicitVRLittleEndian = new("1.2.840.10008.1.2.1.98", "Encapsulated Uncompressed Explicit VR Little Endian", true, false, false, true);
    public static readonly DicomTransferSyntax DeflatedExplicitVRLittleEndian = new("1.2.840.10008.1.2.1.99", "Deflated Explicit VR Little Endian", true, false, true, false);
    public static readonly DicomTransferSyntax ExplicitVRBigEndian = new("1.2.840.10008.1.2.2", "Explicit VR Big Endian (Retired)", true, true, false, false);

    static readonly Dictionary<string, string> EncapsulatedNames = new()
    {
        ["1.2.840.10008.1.2.4.50"] = "JPEG Baseline (Process 1)",
        ["1.2.840.10008.1.2.4.51"] = "JPEG Extended (Process 2 & 4)",
        ["1.2.840.10008.1.2.4.57"] = "JPEG Lossless, Non-Hierarchical (Process 14)",
        ["1.2.840.10008.1.2.4.70"] = "JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [Selection Value 1])",
        ["1.2.840.10008.1.2.4.80"] = "JPEG-LS Lossless Image Compression",
        ["1.2.840.10008.1.2.4.81"] = "JPEG-LS Lossy (Near-Lossless) Image Compression",
        ["1.2.840.10008.1.2.4.90"] = "JPEG 2000 Image Compression (Lossless Only)",
        ["1.2.840.10008.1.2.4.91"] = "JPEG 2000 Image Compression",
        ["1.2.840.10008.1.2.4.92"] = "JPEG 2000 Part 2 Multi-component Image Compression (Lossless Only)",
        ["1.2.840.10008.1.2.4.93"] = "JPEG 2000 Part 2 Multi-component Image Compression",
        ["1.2.840.10008.1.2.4.94"] = "JPIP Referenced",
        ["1.2.840.10008.1.2.4.100"] = "MPEG2 Main Profile / Main Level",
        ["1.2.840.10008.1.2.4.102"] = "MPEG-4 AVC/H.264 High Profile / Level 4.1",
        ["1.2.840.10008.1.2.4.201"] = "High-Throughput JPEG 2000 Image Compression (Lossless Only)",
        ["1.2.840.10008.1.2.4.202"] = "High-Throughput JPEG 2000 with RPCL Options Image Compression (Lossless Only)",
        ["1.2.840.10008.1.2.4.203"] = "High-Throughput JPEG 2000 Image Compression",
        ["1.2.840.10008.1.2.5"] = "RLE Lossless",
    };

    /// <summary>
    /// Resolves a UID. PS3.5 §10 (and Annex A.4): every transfer syntax other than the four native ones
    /// is explicit VR little endian with encapsulated pixel data, so unknown UIDs are read that way.
    /// </summary>
    public static DicomTransferSyntax FromUid(string uid)
    {
        uid = uid.Trim('\0', ' ');
        if (uid == ImplicitVRLittleEndian.Uid) return ImplicitVRLittleEndian;
        if (uid == ExplicitVRLittleEndian.Uid) return ExplicitVRLittleEndian;
        if (uid == DeflatedExplicitVRLittleEndian.Uid) return DeflatedExplicitVRLittleEndian;
        if (uid == ExplicitVRBigEndian.Uid) return ExplicitVRBigEndian;
        if (uid == EncapsulatedUncompressedExplicitVRLittleEndian.Uid) return EncapsulatedUncompressedExplicitVRLittleEndian;
        return new(uid, EncapsulatedNames.GetValueOrDefault(uid, "Unknown (read as encapsulated explicit VR little endian)"), true, false, false, true);
    }

    public override string ToString() => $"{Uid} ({Name})";
}

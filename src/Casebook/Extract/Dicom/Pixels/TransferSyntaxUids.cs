namespace Casebook.Extract.Dicom.Pixels;

/// <summary>Transfer syntax UIDs with pixel codecs (PS3.6 Annex A).</summary>
public static class TransferSyntaxUids
{
    public const string ImplicitVRLittleEndian = "1.2.840.10008.1.2";
    public const string ExplicitVRLittleEndian = "1.2.840.10008.1.2.1";
    public const string EncapsulatedUncompressed = "1.2.840.10008.1.2.1.98";
    public const string DeflatedExplicitVRLittleEndian = "1.2.840.10008.1.2.1.99";
    public const string ExplicitVRBigEndian = "1.2.840.10008.1.2.2";
    public const string JpegBaseline = "1.2.840.10008.1.2.4.50";
    public const string JpegExtended = "1.2.840.10008.1.2.4.51";
    public const string JpegLossless = "1.2.840.10008.1.2.4.57";
    public const string JpegLosslessSV1 = "1.2.840.10008.1.2.4.70";
    public const string JpegLsLossless = "1.2.840.10008.1.2.4.80";
    public const string JpegLsNearLossless = "1.2.840.10008.1.2.4.81";
    public const string Jpeg2000Lossless = "1.2.840.10008.1.2.4.90";
    public const string Jpeg2000 = "1.2.840.10008.1.2.4.91";
    public const string Jpeg2000Part2Lossless = "1.2.840.10008.1.2.4.92";
    public const string Jpeg2000Part2 = "1.2.840.10008.1.2.4.93";
    public const string HtJpeg2000Lossless = "1.2.840.10008.1.2.4.201";
    public const string HtJpeg2000RpclLossless = "1.2.840.10008.1.2.4.202";
    public const string HtJpeg2000 = "1.2.840.10008.1.2.4.203";
    public const string RleLossless = "1.2.840.10008.1.2.5";

    /// <summary>Syntaxes whose decoded values equal the original (lossy ones are compared by PSNR).</summary>
    public static bool IsLossless(string uid) => uid is not (JpegBaseline or JpegExtended or JpegLsNearLossless or Jpeg2000 or Jpeg2000Part2 or HtJpeg2000);
}

using System.Globalization;
using System.Numerics;

namespace Casebook.Ingest.Dicom;

/// <summary>
/// Deterministic, keyed remapping of DICOM UIDs: "2.25." + the first 128 bits of HMAC-SHA256(key, "dicom-uid|" + uid) as a
/// decimal integer (the UUID-derived UID form of PS3.5 §B.2). Same key file → same remapped UIDs, so studies still link
/// across databases that share a key, while the original UID (which often embeds an institution root and a timestamp)
/// is never stored.
/// </summary>
public static class DicomUidMap
{
    public const string Issuer = "dicom-uid";

    public static string Remap(PatientPseudonym key, string uid)
    {
        var hex = key.Pseudonymise(Issuer, uid.Trim().TrimEnd('\0'));
        var value = BigInteger.Parse("0" + hex[..32], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        return "2.25." + value.ToString(CultureInfo.InvariantCulture);
    }
}

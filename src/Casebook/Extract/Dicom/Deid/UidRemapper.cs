using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using Casebook.Ingest;

namespace Casebook.Extract.Dicom.Deid;

/// <summary>
/// Deterministic UID replacement (PS3.15 E.1 action U): "2.25." + the decimal of the first 128 bits of
/// HMAC(uid key, original UID) (PS3.5 §B.2 UUID-derived form, at most 44 characters). The same key file maps
/// the same original to the same new UID, so instances of a study keep linking, and nothing maps it back.
/// </summary>
public sealed class UidRemapper(PatientPseudonym key)
{
    readonly byte[] _key = key.DeriveKey("uid");

    public string Remap(string uid)
    {
        uid = uid.Trim(' ', '\0');
        if (uid.Length == 0) return uid;
        var mac = HMACSHA256.HashData(_key, Encoding.ASCII.GetBytes(uid));
        var n = new BigInteger(mac.AsSpan(0, 16), isUnsigned: true, isBigEndian: true);
        return "2.25." + n.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}

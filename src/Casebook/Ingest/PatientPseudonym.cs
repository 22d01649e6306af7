using System.Security.Cryptography;
using System.Text;

namespace Casebook.Ingest;

/// <summary>
/// Patient identifiers are never stored in the clear: patient_pseudo_id = HMAC-SHA256(key, issuer + '|' + id),
/// lowercase hex. The key lives in a key file outside the database directory by default, so a copy of the data
/// alone cannot be re-identified; databases that must join patients share one key file.
/// </summary>
public sealed class PatientPseudonym
{
    readonly byte[] _key;
    public string KeyFile { get; }

    PatientPseudonym(byte[] key, string keyFile) { _key = key; KeyFile = keyFile; }

    /// <summary>Default key file: $CASEBOOK_KEY_FILE, else ~/.config/casebook/patient.key.</summary>
    public static string DefaultKeyFile =>
        Environment.GetEnvironmentVariable("CASEBOOK_KEY_FILE") is { Length: > 0 } f ? f
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config", "casebook", "patient.key");

    /// <summary>Loads the key file, creating it (32 random bytes, hex, mode 600) when it does not exist.</summary>
    public static PatientPseudonym Load(string? keyFile = null)
    {
        keyFile = Path.GetFullPath(keyFile ?? DefaultKeyFile);
        if (!File.Exists(keyFile))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(keyFile)!);
            var fresh = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
            using (var fs = new FileStream(keyFile, FileMode.CreateNew, FileAccess.Write))
            {
                if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(keyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                fs.Write(Encoding.ASCII.GetBytes(fresh + "\n"));
            }
        }
        var text = File.ReadAllText(keyFile).Trim();
        byte[] key;
        try { key = Convert.FromHexString(text); }
        catch (FormatException) { throw new InvalidDataException($"key file '{keyFile}' does not hold a hex key"); }
        if (key.Length < 16) throw new InvalidDataException($"key file '{keyFile}' holds a key shorter than 128 bits");
        return new PatientPseudonym(key, keyFile);
    }

    /// <summary>
    /// A sub-key for one purpose (e.g. "uid", "date-shift", "device"): HMAC-SHA256(key, "casebook:" + purpose), so each use
    /// of the key file gets an independent key and no output of one use helps to reverse another.
    /// </summary>
    public byte[] DeriveKey(string purpose) => HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes("casebook:" + purpose));

    public string Pseudonymise(string issuer, string patientId)
    {
        if (string.IsNullOrWhiteSpace(patientId)) throw new ArgumentException("patient id is empty");
        return Convert.ToHexStringLower(HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(issuer + "|" + patientId)));
    }
}

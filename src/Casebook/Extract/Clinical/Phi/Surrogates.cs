using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Casebook.Extract.Clinical.Phi;

/// <summary>
/// Typed stand-ins for identifiers, chosen by a keyed hash of the original so the same value always gets the same
/// surrogate under one key (one patient): "Okafor" is "Keeling" in every note of that patient, and "Mr. Okafor" becomes
/// "Mr. Keeling". Names come from Bogus' name lists, streets and cities from Bogus' address generator; numbers keep
/// their layout with other digits and letters. Without the key the originals cannot be recovered from the surrogates.
/// </summary>
public sealed partial class Surrogates(byte[] key)
{
    ulong Hash(string purpose, string value)
    {
        var mac = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(purpose + "|" + value));
        return BinaryPrimitives.ReadUInt64BigEndian(mac);
    }

    byte[] Stream(string purpose, string value) => HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(purpose + "|" + value));

    Bogus.Faker Faker(string purpose, string value) => new("en") { Random = new Bogus.Randomizer((int)(Hash(purpose, value) & 0x7FFFFFFF)) };

    public string For(string type, string original) => type switch
    {
        PhiType.Name => Name(original),
        PhiType.Address => Address(original),
        PhiType.City => City(original),
        PhiType.Zip => Zip(original),
        PhiType.Facility => Facility(original),
        PhiType.Email => Email(original),
        PhiType.Url => "https://example.org/" + Convert.ToHexStringLower(Stream("url", original))[..8],
        PhiType.Ip => original.Contains(':') ? "2001:db8::" + (Hash("ip", original) % 0xFFFF).ToString("x") : "192.0.2." + (1 + Hash("ip", original) % 254),
        PhiType.Age => "90+",
        _ => Reshape(type, original),
    };

    [GeneratedRegex(@"[A-Za-z][A-Za-z'’]*(?:-[A-Za-z][A-Za-z'’]*)*")]
    private static partial Regex NameWord();

    /// <summary>Each word of a name separately (so "Maria Okafor" and "Mrs. Okafor" stay consistent); initials become another letter.</summary>
    string Name(string original) => NameWord().Replace(original, m =>
    {
        var w = m.Value;
        var lower = w.ToLowerInvariant();
        if (w.Length == 1) return ((char)('A' + (int)(Hash("initial", lower) % 26))).ToString();
        var first = PhiLexicon.FirstNameSet.Contains(lower) && !PhiLexicon.LastNameSet.Contains(lower);
        var list = first ? PhiLexicon.FirstNames : PhiLexicon.LastNames;
        var h = Hash("name", lower);
        var s = list[(int)(h % (ulong)list.Count)];
        if (s.Equals(w, StringComparison.OrdinalIgnoreCase)) s = list[(int)((h + 1) % (ulong)list.Count)];
        return MatchCase(w, s);
    });

    static string MatchCase(string like, string s) =>
        like.Length > 1 && like.All(c => !char.IsLetter(c) || char.IsUpper(c)) ? s.ToUpperInvariant()
        : like.All(c => !char.IsLetter(c) || char.IsLower(c)) ? s.ToLowerInvariant() : s;

    string Address(string original) =>
        original.Contains("Box", StringComparison.OrdinalIgnoreCase) ? "PO Box " + (100 + Hash("box", original) % 9900) : Faker("address", original).Address.StreetAddress();

    string City(string original) => MatchCase(original, Faker("city", original).Address.City());

    string Zip(string original) =>
        char.IsLetter(original[0]) ? Reshape(PhiType.Zip, original) : Faker("zip", original).Address.ZipCode(original.Length > 5 ? "#####-####" : "#####");

    [GeneratedRegex(@"(Hospital|Medical\s+Center|Medical\s+Centre|Health\s+Center|Health\s+Centre|Clinic|Infirmary|Health\s+System|Healthcare|Health\s+Care|Nursing\s+Home|Center|Centre|Hospice|Memorial|Institute|Practice|Pediatrics|Urgent\s+Care|Imaging|Radiology|Laboratories|Pharmacy|Group|Home|Living)\b.*$")]
    private static partial Regex FacilityHead();

    /// <summary>The distinctive part of a facility replaced, its kind kept: "Mercy Hospital" → "Keeling Hospital".</summary>
    string Facility(string original)
    {
        var head = FacilityHead().Match(original);
        var kind = head.Success ? head.Groups[1].Value : "Clinic";
        return Faker("facility", original).Name.LastName() + " " + kind;
    }

    string Email(string original)
    {
        var f = Faker("email", original);
        return (f.Name.FirstName() + "." + f.Name.LastName()).ToLowerInvariant().Replace("'", "") + "@example.com";
    }

    /// <summary>Same layout, other characters: digits stay digits, letters stay letters (and their case), separators stay.</summary>
    string Reshape(string type, string original)
    {
        var stream = Stream(type, original);
        var sb = new StringBuilder(original.Length);
        var n = 0;
        foreach (var c in original)
        {
            var r = stream[n++ % stream.Length] + n;
            if (char.IsAsciiDigit(c)) sb.Append((char)('0' + r % 10));
            else if (char.IsAsciiLetterUpper(c)) sb.Append((char)('A' + r % 26));
            else if (char.IsAsciiLetterLower(c)) sb.Append((char)('a' + r % 26));
            else sb.Append(c);
        }
        var s = sb.ToString();
        return s == original ? Reshape(type, original + "'") [..original.Length] : s;
    }
}

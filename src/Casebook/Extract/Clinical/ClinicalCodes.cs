namespace Casebook.Extract.Clinical;

/// <summary>ICD-10-CM code syntax: a letter, a digit, an alphanumeric (the category), then up to four more characters
/// after a dot. "E119", "e11.9" and "E11.9" are one code.</summary>
public static class ClinicalCodes
{
    /// <summary>Prefix of codes in <c>clinical_codes</c> (as FHIR-given codes carry "SNOMED:", "LOINC:").</summary>
    public const string Icd10Prefix = "ICD10:";

    /// <summary>The dotted upper-case form, or null when the text is not an ICD-10-CM code.</summary>
    public static string? Normalise(string? code)
    {
        if (code == null) return null;
        var s = code.Trim().ToUpperInvariant();
        if (s.StartsWith(Icd10Prefix, StringComparison.Ordinal)) s = s[Icd10Prefix.Length..];
        s = s.Replace(".", "");
        if (s.Length < 3 || s.Length > 7) return null;
        if (!char.IsAsciiLetterUpper(s[0]) || !char.IsAsciiDigit(s[1]) || !char.IsAsciiLetterOrDigit(s[2])) return null;
        for (int i = 3; i < s.Length; i++) if (!char.IsAsciiLetterOrDigit(s[i])) return null;
        return s.Length == 3 ? s : s[..3] + "." + s[3..];
    }

    /// <summary>The code and its ancestors, longest first: "E11.65" → E11.65, E11.6, E11.</summary>
    public static IEnumerable<string> Prefixes(string dotted)
    {
        for (int len = dotted.Length; len >= 3; len--)
        {
            if (len == 4) continue; // "E11." is not a code
            yield return dotted[..len];
        }
    }
}

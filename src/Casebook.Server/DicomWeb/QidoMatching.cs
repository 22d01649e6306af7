using System.Globalization;
using System.Text;

namespace Casebook.Server.DicomWeb;

/// <summary>
/// QIDO-RS attribute matching (PS3.4 §C.2.2.2, PS3.18 §8.3.4) on stored values:
/// <list type="bullet">
/// <item>empty value: universal matching (everything matches; the attribute is returned);</item>
/// <item>UI: single value or a list separated by commas or backslashes (list of UID matching);</item>
/// <item>DA/TM/DT: single value or a range <c>A-B</c>, <c>-B</c>, <c>A-</c> (inclusive; TM colons ignored);</item>
/// <item>other strings: <c>*</c> (any run) and <c>?</c> (one character) wildcards, else exact single-value matching.
///   CS may be a comma-separated list. PN is matched case-insensitively on the whole value, and with
///   <c>fuzzymatching=true</c> every word of the query must be a prefix of, or within one edit of, some
///   component of the name (accents and case ignored), in any order;</item>
/// <item>a multi-valued attribute (ModalitiesInStudy) matches when any of its values does.</item>
/// </list>
/// </summary>
public static class QidoMatching
{
    public static bool Matches(string vr, string query, string stored, bool fuzzy)
    {
        if (query.Length == 0) return true;
        var values = vr is "LT" or "ST" or "UT" ? [stored] : stored.Split('\\');
        return values.Any(v => MatchesOne(vr, query, v, fuzzy));
    }

    static bool MatchesOne(string vr, string query, string value, bool fuzzy)
    {
        switch (vr)
        {
            case "UI":
                return query.Split(',', '\\').Any(u => u.Trim() == value);
            case "DA" or "TM" or "DT":
                return InRange(vr, query, value);
            case "PN":
                if (HasWildcard(query)) return Wildcard(query, value, ignoreCase: true);
                if (fuzzy) return FuzzyName(query, value);
                return string.Equals(Normalise(query), Normalise(value), StringComparison.Ordinal);
            case "CS" when query.Contains(','):
                return query.Split(',').Any(q => MatchesOne(vr, q.Trim(), value, fuzzy));
            default:
                return HasWildcard(query) ? Wildcard(query, value, ignoreCase: false) : query == value;
        }
    }

    static bool HasWildcard(string s) => s.Contains('*') || s.Contains('?');

    /// <summary>Range matching: "A-B", "-B", "A-" or a single value; values compared as digit strings of equal precision.</summary>
    public static bool InRange(string vr, string query, string value)
    {
        if (value.Length == 0) return false;
        var v = Digits(vr, value);
        var dash = query.IndexOf('-');
        if (dash < 0) return Compare(v, Digits(vr, query)) == 0;
        var from = query[..dash].Trim();
        var to = query[(dash + 1)..].Trim();
        if (from.Length > 0 && Compare(v, Digits(vr, from)) < 0) return false;
        if (to.Length > 0 && Compare(v, Digits(vr, to)) > 0) return false;
        return true;
    }

    /// <summary>A date/time compared only to the precision the query gives (TM 10 matches 101500, DT dates match any time).</summary>
    static int Compare(string value, string bound) => string.CompareOrdinal(value.Length > bound.Length ? value[..bound.Length] : value, bound);

    static string Digits(string vr, string s) => new(s.Where(char.IsAsciiDigit).ToArray()); // TM "10:15" = "1015"; fractions compare digit by digit

    /// <summary>PS3.4 C.2.2.2.4: '*' any sequence (including none), '?' exactly one character.</summary>
    public static bool Wildcard(string pattern, string value, bool ignoreCase)
    {
        if (ignoreCase) { pattern = Normalise(pattern); value = Normalise(value); }
        int p = 0, v = 0, star = -1, mark = 0;
        while (v < value.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || pattern[p] == value[v])) { p++; v++; }
            else if (p < pattern.Length && pattern[p] == '*') { star = p++; mark = v; }
            else if (star >= 0) { p = star + 1; v = ++mark; }
            else return false;
        }
        while (p < pattern.Length && pattern[p] == '*') p++;
        return p == pattern.Length;
    }

    /// <summary>
    /// Fuzzy person-name matching: each query word (split at '^', spaces and commas) must match some component of the
    /// name — a prefix of it, or within one edit (Damerau–Levenshtein) of it when the word has four letters or more.
    /// Case and accents are ignored. "joh do", "Doe John" and "Jhon^Doe" all match "Doe^John".
    /// </summary>
    public static bool FuzzyName(string query, string name)
    {
        var words = Words(query);
        var parts = Words(name);
        if (words.Count == 0) return true;
        return words.All(w => parts.Any(p => p.StartsWith(w, StringComparison.Ordinal) || (w.Length >= 4 && EditDistance(w, p) <= 1)));
    }

    static List<string> Words(string s) =>
        Normalise(s).Split(['^', ' ', ',', '='], StringSplitOptions.RemoveEmptyEntries).ToList();

    /// <summary>Upper case without diacritics, trailing spaces trimmed (PN matching ignores both).</summary>
    public static string Normalise(string s)
    {
        var d = s.Trim().Normalize(NormalizationForm.FormD);
        var sb = new StringBuilder(d.Length);
        foreach (var c in d)
            if (CharUnicodeInfo.GetUnicodeCategory(c) != UnicodeCategory.NonSpacingMark) sb.Append(char.ToUpperInvariant(c));
        return sb.ToString().Normalize(NormalizationForm.FormC);
    }

    /// <summary>Optimal string alignment distance (insertions, deletions, substitutions, adjacent transpositions).</summary>
    public static int EditDistance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (var j = 0; j <= b.Length; j++) d[0, j] = j;
        for (var i = 1; i <= a.Length; i++)
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        return d[a.Length, b.Length];
    }
}

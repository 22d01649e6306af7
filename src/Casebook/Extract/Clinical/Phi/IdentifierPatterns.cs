using System.Text.RegularExpressions;

namespace Casebook.Extract.Clinical.Phi;

/// <summary>
/// The identifiers with a shape: contact details (phone, fax, e-mail, URL, IP), numbers named by a label (MRN, SSN,
/// health plan, account, licence, vehicle, device) and ages over 89. A number counts as an identifier of a kind when
/// its label says so ("MRN: 1234567", "Policy # XJ-88213"); unlabelled long numbers are Safe Harbor (R), "any other
/// unique identifying number" (type ID), unless a unit follows ("250000 cells").
/// </summary>
public static partial class IdentifierPatterns
{
    // The value after a label: starts with a letter or digit, holds at least one digit, may hold '-', '/', '.' or a UDI's parentheses.
    const string Value = @"(?<v>\(?[A-Za-z0-9][A-Za-z0-9()\-/.]*[0-9][A-Za-z0-9()\-]*|[0-9])";
    const string Sep = @"[\s:#.=\-]*(?:(?:(?:is|was|number|no\.?|num|ID)(?![A-Za-z0-9])|#)[\s:#.=\-]*)*";

    static readonly (string Type, Regex Label)[] Labels =
    [
        (PhiType.Vehicle, Lbl(@"(?:licen[cs]e|registration|tag|vehicle|car)\s+plates?|plates?\s*(?:number|no\.?|#)|VIN|vehicle\s+identification(?:\s+number)?|vehicle\s+(?:ID|number|reg(?:istration)?)")),
        (PhiType.Ssn, Lbl(@"SSN|SS\s*#|social\s+security(?:\s+(?:number|no\.?|#))?|social\s+insurance\s+number|SIN")),
        (PhiType.Mrn, Lbl(@"MRN|MR\s*#|MR\s+(?:number|no\.?)|medical\s+record(?:\s+(?:number|no\.?|#))?|record\s*(?:#|number|no\.?)|chart\s*(?:#|number|no\.?|ID)|patient\s+(?:ID|identifier|number|#)|pt\.?\s+(?:ID|#)|hospital\s+(?:#|number|no\.?|ID)|unit\s+(?:number|no\.?)|NHS\s+(?:number|no\.?)|case\s+(?:number|no\.?|#)")),
        (PhiType.HealthPlan, Lbl(@"member\s*(?:ID|#|number|no\.?)|policy(?:\s*(?:#|number|no\.?|ID))?|subscriber\s*(?:ID|#|number|no\.?)|insurance\s*(?:ID|#|number|no\.?)|health\s+plan(?:\s+(?:ID|#|number|no\.?|beneficiary\s+number))?|beneficiary\s*(?:ID|#|number|no\.?)|medicare(?:\s+(?:ID|#|number|no\.?))?|medicaid(?:\s+(?:ID|#|number|no\.?))?|group\s*(?:#|number|no\.?)|plan\s*(?:ID|#)|MBI|HICN")),
        (PhiType.Account, Lbl(@"account(?:\s*(?:#|number|no\.?))?|acct\.?(?:\s*(?:#|number|no\.?))?|billing\s*(?:#|number|no\.?|ID)|FIN|financial\s+(?:#|number)|encounter\s*(?:#|number|no\.?|ID)|visit\s*(?:#|number|no\.?|ID)|invoice\s*(?:#|number|no\.?)|claim\s*(?:#|number|no\.?|ID)")),
        (PhiType.License, Lbl(@"licen[cs]e(?:\s*(?:#|number|no\.?))?|lic\.?\s*(?:#|no\.?)|DEA(?:\s*(?:#|number|no\.?))?|NPI(?:\s*(?:#|number|no\.?))?|driver'?s\s+licen[cs]e(?:\s*(?:#|number|no\.?))?|DL\s*#|certificate\s*(?:#|number|no\.?)|GMC(?:\s*(?:#|number|no\.?))?|registration\s+(?:#|number|no\.?)")),
        (PhiType.Device, Lbl(@"serial(?:\s*(?:#|number|no\.?))?|S/N|SN|device\s*(?:ID|#|identifier|serial|number)|UDI|implant\s*(?:ID|#|serial|number)|pacemaker\s+(?:serial|ID)|IMEI|MAC\s+address")),
        (PhiType.Id, Lbl(@"ID|identifier|ref(?:erence)?\s*(?:#|number|no\.?)|accession\s*(?:#|number|no\.?)?|specimen\s*(?:#|number|no\.?|ID)|order\s*(?:#|number|no\.?)|requisition\s*(?:#|number|no\.?)")),
    ];

    static Regex Lbl(string label) => new(@"\b(?:" + label + @")(?![A-Za-z0-9])" + Sep + Value, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.Compiled);

    [GeneratedRegex(@"(?<![\d-])\d{3}-\d{2}-\d{4}(?![\d-])")]
    private static partial Regex SsnShape();

    // North American numbers: (555) 123-4567, 555-123-4567, 555.123.4567, +1 555 123 4567, with an optional extension.
    [GeneratedRegex(@"(?<![\d\w/-])(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}(?:\s*(?:x|ext\.?|extension)\s*\d{1,5})?(?![\d/-])", RegexOptions.IgnoreCase)]
    private static partial Regex NanpPhone();

    // UK numbers (PriMock57 is a UK corpus): 07700 900123, 020 7946 0958, +44 20 7946 0958, 01632 960 001.
    [GeneratedRegex(@"(?<![\d\w/.-])(?:\+44\s?(?:\(0\)\s?)?[1-9]\d{1,3}|0[1-9]\d{1,3})[\s-]?\d{3,4}[\s-]?\d{3,4}(?![\d/-])")]
    private static partial Regex UkPhone();

    // A seven-digit local number with a phone word before it: "pager 555-0134", "ext 4-5567".
    [GeneratedRegex(@"\b(?:phone|tel|telephone|cell|mobile|pager|beeper|fax|call|contact|ext)\b[^\n\d]{0,20}?(?<v>(?<![\d-])\d{3}-\d{4}(?![\d-]))", RegexOptions.IgnoreCase)]
    private static partial Regex LocalPhone();

    [GeneratedRegex(@"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")]
    private static partial Regex Email();

    [GeneratedRegex(@"\b(?:(?:https?|ftp)://|www\.)[^\s<>""'\]\)]+", RegexOptions.IgnoreCase)]
    private static partial Regex Url();

    [GeneratedRegex(@"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?!\d|\.\d)")]
    private static partial Regex Ipv4();

    [GeneratedRegex(@"(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}(?![\w:])|(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){1,6}:(?:[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4}){0,5})?(?![\w:])")]
    private static partial Regex Ipv6();

    // Vehicle identification number (ISO 3779): 17 characters, no I, O or Q.
    [GeneratedRegex(@"\b[A-HJ-NPR-Z0-9]{17}\b")]
    private static partial Regex Vin();

    // Long bare numbers (Safe Harbor R); numbers followed by a unit are measurements.
    [GeneratedRegex(@"(?<![\w.,/:-])(?>\d{6,})(?![.,]\d|\s*(?:(?:mg|mcg|g|kg|ml|l|units?|iu|cells|copies|per|cm|mm)\b|/|%))", RegexOptions.IgnoreCase)]
    private static partial Regex LongNumber();

    // Ages: "92-year-old", "92 year old", "92 yo", "92 y/o", "aged 92", "age: 92", "92 years of age", "92M".
    [GeneratedRegex(@"\b(?<n>\d{2,3})(?:\s*-?\s*(?:years?|yrs?|y)\s*-?\s*old\b|\s*-?\s*(?:y/o|y\.o\.|yo|yoa)\b|\s+years?\s+of\s+age\b|\s*(?-i:M|F)\b(?=[\s,.;)]))|\b(?:age|aged)\s*:?\s*(?<n>\d{2,3})\b", RegexOptions.IgnoreCase)]
    private static partial Regex Age();

    [GeneratedRegex(@"\b(?<n>(?:ninety|one\s+hundred(?:\s+and)?)(?:[\s-](?:one|two|three|four|five|six|seven|eight|nine|ten))?)(?=[\s-]+(?:years?[\s-]+old|years?\s+of\s+age|year-old))", RegexOptions.IgnoreCase)]
    private static partial Regex AgeWords();

    /// <summary>Candidates (start, end, type) in <paramref name="text"/>; the detector resolves overlaps.</summary>
    public static IEnumerable<(int Start, int End, string Type)> Find(string text)
    {
        foreach (var (type, label) in Labels)
            foreach (Match m in label.Matches(text))
            {
                var v = m.Groups["v"];
                var (s, e) = TrimValue(text, v.Index, v.Index + v.Length);
                if (e - s < (type == PhiType.Id ? 4 : 3)) continue;
                yield return (s, e, type);
            }
        foreach (Match m in SsnShape().Matches(text)) yield return (m.Index, m.Index + m.Length, PhiType.Ssn);
        foreach (Match m in NanpPhone().Matches(text)) yield return (m.Index, m.Index + m.Length, PhoneOrFax(text, m.Index));
        foreach (Match m in UkPhone().Matches(text))
        {
            var digits = m.Value.Count(char.IsAsciiDigit);
            if (m.Value.StartsWith('+') ? digits is >= 11 and <= 13 : digits is 10 or 11) yield return (m.Index, m.Index + m.Length, PhoneOrFax(text, m.Index));
        }
        foreach (Match m in LocalPhone().Matches(text)) yield return (m.Groups["v"].Index, m.Groups["v"].Index + m.Groups["v"].Length, PhoneOrFax(text, m.Groups["v"].Index));
        foreach (Match m in Email().Matches(text)) yield return (m.Index, m.Index + m.Length, PhiType.Email);
        foreach (Match m in Url().Matches(text))
        {
            var (s, e) = TrimValue(text, m.Index, m.Index + m.Length);
            yield return (s, e, PhiType.Url);
        }
        foreach (Match m in Ipv4().Matches(text)) yield return (m.Index, m.Index + m.Length, PhiType.Ip);
        foreach (Match m in Ipv6().Matches(text))
            if (m.Value.Contains("::") || m.Value.Any(char.IsLetter)) yield return (m.Index, m.Index + m.Length, PhiType.Ip);
        foreach (Match m in Vin().Matches(text))
            if (m.Value.Count(char.IsAsciiDigit) >= 3 && m.Value.Count(char.IsAsciiLetter) >= 3) yield return (m.Index, m.Index + m.Length, PhiType.Vehicle);
        foreach (Match m in LongNumber().Matches(text)) yield return (m.Index, m.Index + m.Length, PhiType.Id);
        foreach (Match m in Age().Matches(text))
        {
            var n = m.Groups["n"];
            if (int.TryParse(n.Value, out var age) && age is >= 90 and < 130) yield return (n.Index, n.Index + n.Length, PhiType.Age);
        }
        foreach (Match m in AgeWords().Matches(text)) yield return (m.Groups["n"].Index, m.Groups["n"].Index + m.Groups["n"].Length, PhiType.Age);
    }

    static string PhoneOrFax(string text, int at)
    {
        var from = Math.Max(0, at - 24);
        var before = text.AsSpan(from, at - from);
        var nl = before.LastIndexOf('\n');
        if (nl >= 0) before = before[(nl + 1)..];
        return before.Contains("fax", StringComparison.OrdinalIgnoreCase) ? PhiType.Fax : PhiType.Phone;
    }

    // A value ends before sentence punctuation: "MRN 1234567." keeps the number, not the full stop.
    static (int, int) TrimValue(string text, int s, int e)
    {
        while (e > s && text[e - 1] is '.' or ',' or ';' or ':' or '-' or '/' or '(' ) e--;
        if (e > s && text[e - 1] == ')' && text.AsSpan(s, e - s).Count('(') < text.AsSpan(s, e - s).Count(')')) e--;
        if (e > s && text[s] == '(' && !text.AsSpan(s, e - s).Contains(')')) s++;
        return (s, e);
    }
}

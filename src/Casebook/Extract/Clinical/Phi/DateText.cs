using System.Globalization;
using System.Text.RegularExpressions;

namespace Casebook.Extract.Clinical.Phi;

/// <summary>
/// Dates in free text (Safe Harbor C: every element of a date except the year). Finds them and shifts them by a number
/// of days, keeping the written form ("03/14/2019" stays m/d/yyyy, "14-Mar-2019" stays d-Mon-yyyy). A bare year is
/// not an identifier and is never matched. Two-part numeric forms ("3/14") count only after a temporal cue ("on",
/// "since", "DOB") because "120/80", "5/5 strength" and "2/6 murmur" are measurements.
/// </summary>
public static partial class DateText
{
    const string MonthNames = "January|February|March|April|May|June|July|August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec";
    const string M = @"(?<mon>(?:" + MonthNames + @")\b\.?)";
    const string Day = @"(?<d>[0-3]?\d)(?<ord>st|nd|rd|th)?";

    // Month-first: "March 14th, 2019", "Mar 14 2019", "March 14".
    [GeneratedRegex(@"\b" + M + @"\s+" + Day + @"\b(?:,?\s+(?<y>(?:19|20)\d{2}|'\d{2})\b)?", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex MonthDay();

    // Day-first: "14 March 2019", "14th of March", "14-Mar-2019", "14-MAR-19", "14 Mar".
    [GeneratedRegex(@"\b" + Day + @"(?<sep1>\s+(?:of\s+)?|-|/)" + M + @"(?:(?<sep2>,?\s+|-|/)(?<y>(?:19|20)\d{2}|\d{2})\b)?", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex DayMonth();

    // Month and year: "March 2019", "Mar. 2019", "March of 2019".
    [GeneratedRegex(@"\b" + M + @",?\s+(?:of\s+)?(?<y>(?:19|20)\d{2})\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex MonthYear();

    // ISO and year-first: "2019-03-14", "2019/03/14", "2019.03.14" (a time after it is kept).
    [GeneratedRegex(@"(?<![\d/.-])(?<y>(?:19|20)\d{2})(?<s>[-/.])(?<m>[01]?\d)\k<s>(?<d>[0-3]?\d)(?![\d/])", RegexOptions.CultureInvariant)]
    private static partial Regex YearFirst();

    // Numeric m/d/y (US) or d/m/y when the first part cannot be a month: "03/14/2019", "3-14-19", "14.03.2019".
    [GeneratedRegex(@"(?<![\d/.-])(?<a>[0-3]?\d)(?<s>[-/.])(?<b>[0-3]?\d)\k<s>(?<y>(?:19|20)\d{2}|\d{2})(?![\d/]|\.\d)", RegexOptions.CultureInvariant)]
    private static partial Regex Numeric();

    // Compact yyyymmdd after a birth-date cue: "DOB: 19610304".
    [GeneratedRegex(@"\b(?:DOB|D\.O\.B\.?|date\s+of\s+birth|birth\s*date|born)\s*[:#]?\s*(?<v>(?<y>(?:19|20)\d{2})(?<m>[01]\d)(?<d>[0-3]\d))\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Compact();

    // Month/day only after a temporal cue: "on 3/14", "since 12/2", "DOB 3/4".
    [GeneratedRegex(@"\b(?:on|since|from|until|till|thru|through|by|dated?|DOB|seen|admitted|discharged|before|after|as\s+of|starting|effective|last|next|between)\s*:?\s+(?<v>(?<a>[01]?\d)/(?<b>[0-3]?\d))(?![\d/]|\.\d)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex CuedMonthDay();

    // Day-of-month after a temporal cue: "on the 14th", "since the 3rd of March".
    [GeneratedRegex(@"\b(?:on|since|until|till|by|before|after|starting|dated)\s+(?<v>the\s+(?<d>[0-3]?\d)(?<ord>st|nd|rd|th)\b(?:\s+of\s+" + M + @"|(?!\s+(?:of\s+)?[a-z])))", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex CuedDayOfMonth();

    // A month on its own after a temporal cue: "in March", "since last December" (full names, capitalised).
    [GeneratedRegex(@"\b(?:in|since|during|until|till|by|of|early|late|mid|last|next|this|before|after|around|through)[\s-]+(?<v>(?:January|February|March|April|May|June|July|August|September|October|November|December))\b(?!\s+\d)", RegexOptions.CultureInvariant)]
    private static partial Regex CuedMonth();

    /// <summary>The year (or a leap year when none is written) and month a date span names; null when it names no month.</summary>
    public static (int Year, int Month)? MonthOfSpan(string span)
    {
        Match m;
        if ((m = YearFirst().Match(span)).Success && m.Length == span.Length) return (int.Parse(m.Groups["y"].Value), int.Parse(m.Groups["m"].Value));
        if ((m = Numeric().Match(span)).Success && m.Length == span.Length && ParseNumeric(m.Groups["a"].Value, m.Groups["b"].Value, out var month, out _))
            return (YearOf(m.Groups["y"].Value), month);
        foreach (var r in new[] { MonthDay(), DayMonth(), MonthYear() })
            if ((m = r.Match(span)).Success && m.Length == span.Length)
                return (m.Groups["y"].Success ? YearOf(m.Groups["y"].Value) : NoYear, MonthOf(m.Groups["mon"].Value));
        return null;
    }

    /// <summary>Every date in <paramref name="text"/> as (start, end); overlapping matches are left to the caller to resolve.</summary>
    public static IEnumerable<(int Start, int End)> Find(string text)
    {
        foreach (Match m in MonthDay().Matches(text))
            if (ValidMonthWord(m.Groups["mon"].Value) && ValidDay(m.Groups["d"].Value) && !FollowedByUnit(text, m)) yield return (m.Index, m.Index + m.Length);
        foreach (Match m in DayMonth().Matches(text))
            if (ValidMonthWord(m.Groups["mon"].Value) && ValidDay(m.Groups["d"].Value) && SeparatorsAgree(m)) yield return (m.Index, m.Index + m.Length);
        foreach (Match m in MonthYear().Matches(text))
            if (ValidMonthWord(m.Groups["mon"].Value)) yield return (m.Index, m.Index + m.Length);
        foreach (Match m in YearFirst().Matches(text))
            if (ValidMonth(m.Groups["m"].Value) && ValidDay(m.Groups["d"].Value)) yield return (m.Index, m.Index + m.Length);
        foreach (Match m in Numeric().Matches(text))
            if (ParseNumeric(m.Groups["a"].Value, m.Groups["b"].Value, out _, out _) && (m.Groups["s"].Value != "." || m.Groups["y"].Length == 4))
                yield return (m.Index, m.Index + m.Length);
        foreach (Match m in Compact().Matches(text))
            if (ValidMonth(m.Groups["m"].Value) && ValidDay(m.Groups["d"].Value)) yield return Span(m.Groups["v"]);
        foreach (Match m in CuedMonthDay().Matches(text))
            if (ValidMonth(m.Groups["a"].Value) && ValidDay(m.Groups["b"].Value)) yield return Span(m.Groups["v"]);
        foreach (Match m in CuedDayOfMonth().Matches(text))
            if (ValidDay(m.Groups["d"].Value)) yield return Span(m.Groups["v"]);
        foreach (Match m in CuedMonth().Matches(text)) yield return Span(m.Groups["v"]);
    }

    static (int, int) Span(Group g) => (g.Index, g.Index + g.Length);

    // "may" and "march" in lower case are a verb and a noun far more often than a month.
    static bool ValidMonthWord(string mon)
    {
        var w = mon.TrimEnd('.');
        return !(w is "may" or "march" or "mar" or "dec" or "jan" or "sept" or "sep" or "oct" or "nov" or "aug" or "apr" or "jun" or "jul" or "feb");
    }

    static bool ValidMonth(string s) => int.TryParse(s, out var m) && m is >= 1 and <= 12;
    static bool ValidDay(string s) => int.TryParse(s, out var d) && d is >= 1 and <= 31;

    // "14 Mar" / "14-Mar-2019" / "14/Mar/2019": the separators after the day and after the month must agree.
    static bool SeparatorsAgree(Match m)
    {
        var s1 = m.Groups["sep1"].Value.Trim();
        if (!m.Groups["y"].Success) return s1.Length == 0 || s1.Equals("of", StringComparison.OrdinalIgnoreCase);
        var s2 = m.Groups["sep2"].Value.Trim().TrimStart(',');
        if (s1 is "-" or "/") return s2 == s1;
        return s2.Length == 0 && (m.Groups["y"].Length == 4);
    }

    // "May 5 mg" is not a date; "Jan 3 cm" neither.
    static bool FollowedByUnit(string text, Match m)
    {
        if (m.Groups["y"].Success) return false;
        var rest = text.AsSpan(m.Index + m.Length).TrimStart(' ');
        foreach (var u in (ReadOnlySpan<string>)["mg", "mcg", "ml", "mm", "cm", "kg", "units", "tablets", "times", "%", "mmHg"])
            if (rest.StartsWith(u, StringComparison.OrdinalIgnoreCase) && (rest.Length == u.Length || !char.IsLetter(rest[u.Length]))) return true;
        return false;
    }

    /// <summary>US order month/day first; day/month when the first part exceeds 12.</summary>
    static bool ParseNumeric(string a, string b, out int month, out int day)
    {
        month = day = 0;
        if (!int.TryParse(a, out var x) || !int.TryParse(b, out var y)) return false;
        if (x is >= 1 and <= 12 && y is >= 1 and <= 31) { month = x; day = y; return true; }
        if (y is >= 1 and <= 12 && x is >= 13 and <= 31) { month = y; day = x; return true; }
        return false;
    }

    static readonly string[] Full = CultureInfo.InvariantCulture.DateTimeFormat.MonthNames;

    static int MonthOf(string word)
    {
        var w = word.TrimEnd('.').ToLowerInvariant();
        for (var i = 0; i < 12; i++) if (Full[i].ToLowerInvariant().StartsWith(w.Length >= 3 ? w[..3] : w, StringComparison.Ordinal)) return i + 1;
        return 0;
    }

    static string MonthLike(string original, int month)
    {
        var w = original.TrimEnd('.');
        var dot = original.EndsWith('.') ? "." : "";
        var full = Full[month - 1];
        var wasFull = Full.Any(f => f.Length > 0 && f.Equals(w, StringComparison.OrdinalIgnoreCase));
        var name = wasFull ? full : full[..3];
        if (w.Length > 1 && w.All(char.IsUpper)) name = name.ToUpperInvariant();
        else if (w.All(char.IsLower)) name = name.ToLowerInvariant();
        return name + dot;
    }

    static string Ordinal(int d) => (d % 100) is 11 or 12 or 13 ? "th" : (d % 10) switch { 1 => "st", 2 => "nd", 3 => "rd", _ => "th" };

    static string Pad(string original, int value) => original.Length >= 2 ? value.ToString("00", CultureInfo.InvariantCulture) : value.ToString(CultureInfo.InvariantCulture);

    static string YearLike(string original, int year) =>
        original.StartsWith('\'') ? "'" + (year % 100).ToString("00", CultureInfo.InvariantCulture)
        : original.Length == 2 ? (year % 100).ToString("00", CultureInfo.InvariantCulture) : year.ToString(CultureInfo.InvariantCulture);

    static int YearOf(string y) =>
        y.StartsWith('\'') ? 2000 + int.Parse(y[1..], CultureInfo.InvariantCulture) is var v && v > DateTime.UtcNow.Year + 1 ? v - 100 : 2000 + int.Parse(y[1..], CultureInfo.InvariantCulture)
        : y.Length == 2 ? (int.Parse(y, CultureInfo.InvariantCulture) is var t && 2000 + t > DateTime.UtcNow.Year + 1 ? 1900 + t : 2000 + t)
        : int.Parse(y, CultureInfo.InvariantCulture);

    // Dates without a year are shifted as if in a leap year, so "Feb 29" stays valid.
    const int NoYear = 2000;

    static DateOnly? Make(int y, int m, int d) => m is >= 1 and <= 12 && d >= 1 && d <= DateTime.DaysInMonth(y, m) ? new DateOnly(y, m, d) : null;

    /// <summary>
    /// The date written in <paramref name="span"/> moved by <paramref name="days"/>, in the same form; null when the
    /// span is not a date this class can read (the caller then writes a tag). A month without a day shifts its 15th.
    /// </summary>
    public static string? Shift(string span, int days) => Shift(span, days, null);

    /// <summary>
    /// As <see cref="Shift(string, int)"/>; a day without a month ("the 21st") is read in <paramref name="contextMonth"/>
    /// (year, month) — the month of the date written before it — so "March 14th … the 21st" moves both by the same days.
    /// </summary>
    public static string? Shift(string span, int days, (int Year, int Month)? contextMonth)
    {
        Match m;
        if ((m = Compact().Match("DOB " + span)).Success && m.Groups["v"].Value == span)
            return Make(int.Parse(m.Groups["y"].Value), int.Parse(m.Groups["m"].Value), int.Parse(m.Groups["d"].Value))?.AddDays(days).ToString("yyyyMMdd", CultureInfo.InvariantCulture);
        if ((m = YearFirst().Match(span)).Success && m.Length == span.Length)
        {
            if (Make(int.Parse(m.Groups["y"].Value), int.Parse(m.Groups["m"].Value), int.Parse(m.Groups["d"].Value)) is not { } d) return null;
            var s = d.AddDays(days);
            var sep = m.Groups["s"].Value;
            return s.Year.ToString(CultureInfo.InvariantCulture) + sep + Pad(m.Groups["m"].Value, s.Month) + sep + Pad(m.Groups["d"].Value, s.Day);
        }
        if ((m = Numeric().Match(span)).Success && m.Length == span.Length)
        {
            if (!ParseNumeric(m.Groups["a"].Value, m.Groups["b"].Value, out var month, out var day)) return null;
            var yText = m.Groups["y"].Value;
            if (Make(YearOf(yText), month, day) is not { } d) return null;
            var s = d.AddDays(days);
            var sep = m.Groups["s"].Value;
            var monthFirst = int.Parse(m.Groups["a"].Value) is >= 1 and <= 12; // what ParseNumeric chose
            return monthFirst
                ? Pad(m.Groups["a"].Value, s.Month) + sep + Pad(m.Groups["b"].Value, s.Day) + sep + YearLike(yText, s.Year)
                : Pad(m.Groups["a"].Value, s.Day) + sep + Pad(m.Groups["b"].Value, s.Month) + sep + YearLike(yText, s.Year);
        }
        if ((m = MonthDay().Match(span)).Success && m.Length == span.Length)
        {
            var month = MonthOf(m.Groups["mon"].Value);
            var hasYear = m.Groups["y"].Success;
            if (Make(hasYear ? YearOf(m.Groups["y"].Value) : NoYear, month, int.Parse(m.Groups["d"].Value)) is not { } d) return null;
            var s = d.AddDays(days);
            var between = span[(m.Groups["mon"].Index + m.Groups["mon"].Length - m.Index)..(m.Groups["d"].Index - m.Index)];
            var result = MonthLike(m.Groups["mon"].Value, s.Month) + between + s.Day.ToString(CultureInfo.InvariantCulture) + (m.Groups["ord"].Success ? Ordinal(s.Day) : "");
            if (hasYear)
            {
                var y = m.Groups["y"];
                var afterDay = m.Groups["ord"].Success ? m.Groups["ord"].Index + m.Groups["ord"].Length : m.Groups["d"].Index + m.Groups["d"].Length;
                result += span[(afterDay - m.Index)..(y.Index - m.Index)] + YearLike(y.Value, s.Year);
            }
            return result;
        }
        if ((m = DayMonth().Match(span)).Success && m.Length == span.Length)
        {
            var month = MonthOf(m.Groups["mon"].Value);
            var hasYear = m.Groups["y"].Success;
            if (Make(hasYear ? YearOf(m.Groups["y"].Value) : NoYear, month, int.Parse(m.Groups["d"].Value)) is not { } d) return null;
            var s = d.AddDays(days);
            var result = Pad(m.Groups["d"].Value, s.Day) + (m.Groups["ord"].Success ? Ordinal(s.Day) : "") + m.Groups["sep1"].Value + MonthLike(m.Groups["mon"].Value, s.Month);
            if (hasYear) result += m.Groups["sep2"].Value + YearLike(m.Groups["y"].Value, s.Year);
            return result;
        }
        if ((m = MonthYear().Match(span)).Success && m.Length == span.Length)
        {
            var month = MonthOf(m.Groups["mon"].Value);
            var s = new DateOnly(int.Parse(m.Groups["y"].Value), month, 15).AddDays(days);
            var between = span[(m.Groups["mon"].Index + m.Groups["mon"].Length - m.Index)..(m.Groups["y"].Index - m.Index)];
            return MonthLike(m.Groups["mon"].Value, s.Month) + between + s.Year.ToString(CultureInfo.InvariantCulture);
        }
        if ((m = Regex.Match(span, @"^(?<a>[01]?\d)/(?<b>[0-3]?\d)$")).Success)
        {
            if (Make(NoYear, int.Parse(m.Groups["a"].Value), int.Parse(m.Groups["b"].Value)) is not { } d) return null;
            var s = d.AddDays(days);
            return Pad(m.Groups["a"].Value, s.Month) + "/" + Pad(m.Groups["b"].Value, s.Day);
        }
        if ((m = Regex.Match(span, @"^the\s+(?<d>[0-3]?\d)(?<ord>st|nd|rd|th)(?<rest>\s+of\s+(?<mon>\w+)\.?)?$", RegexOptions.IgnoreCase)).Success)
        {
            var month = m.Groups["mon"].Success ? MonthOf(m.Groups["mon"].Value) : contextMonth?.Month ?? 1;
            if (month == 0 || Make(contextMonth?.Year ?? NoYear, month, int.Parse(m.Groups["d"].Value)) is not { } d) return null;
            var s = d.AddDays(days);
            var head = span[..m.Groups["d"].Index] + s.Day.ToString(CultureInfo.InvariantCulture) + Ordinal(s.Day);
            return m.Groups["mon"].Success ? head + " of " + MonthLike(m.Groups["mon"].Value, s.Month) : head;
        }
        if (MonthOf(span) is var only and > 0 && span.Length >= 3 && char.IsLetter(span[0]))
            return MonthLike(span, new DateOnly(NoYear, only, 15).AddDays(days).Month);
        return null;
    }
}

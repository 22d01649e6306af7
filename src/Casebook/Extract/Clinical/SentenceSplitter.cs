namespace Casebook.Extract.Clinical;

/// <summary>A sentence (or heading, or list item) as a span of the input: [Start, End).</summary>
public readonly record struct SentenceSpan(int Start, int End);

/// <summary>
/// Splits clinical text into sentences with exact offsets. Clinical text breaks general-purpose splitters, so it knows:
/// <list type="bullet">
/// <item>abbreviations that end in a period ("Dr.", "Mr.", "vs.", "e.g.", "approx.", "b.i.d.", "p.o.", "q.d.", single
///   initials) and never end a sentence there; nor does a period followed by a lower-case word or a digit;</item>
/// <item>decimals, vitals and shorthand stay whole ("38.5", "BP 120/80", "s/p", "r/o");</item>
/// <item>list markers ("1.", "2)", "-", "*", "•") at a line start begin a new item, and "1." is not a sentence end;</item>
/// <item>headings: an ALL-CAPS label with a colon ("IMPRESSION:", "FINDINGS:") is its own span, as is a line ending in a colon;</item>
/// <item>line breaks: a blank line always ends a sentence; a single break ends one only before a list item or a
///   heading, or after a heading (lines wrapped inside a paragraph stay together).</item>
/// </list>
/// </summary>
public static class SentenceSplitter
{
    static readonly HashSet<string> Abbreviations = new(StringComparer.OrdinalIgnoreCase)
    {
        "dr", "mr", "mrs", "ms", "prof", "sr", "jr", "st", "vs", "v", "e.g", "i.e", "etc", "approx", "appt", "apt", "fig", "figs",
        "no", "nos", "vol", "ca", "cf", "al", "inc", "dept", "univ", "mt", "ft", "lt", "rt", "pt", "pts", "hx", "dx", "tx", "sx", "fx",
        "b.i.d", "t.i.d", "q.i.d", "q.d", "q.h.s", "p.o", "p.r.n", "q.o.d", "a.m", "p.m", "h.s", "b.i.w", "q", "bid", "tid", "qid", "prn",
        "mg", "mcg", "ml", "cm", "mm", "kg", "lb", "lbs", "oz", "min", "hr", "hrs", "sec", "wk", "wks", "mo", "mos", "yr", "yrs",
        "inf", "sup", "ant", "post", "lat", "med", "est", "incl", "resp", "temp", "max", "neg", "pos", "abd", "ext", "ref",
    };

    public static List<SentenceSpan> Split(string text) => Split(text, 0, text.Length);

    public static List<SentenceSpan> Split(string text, int start, int end)
    {
        var cuts = new List<int>(); // positions where a new sentence starts
        int i = start;
        while (i < end)
        {
            char c = text[i];
            if (c == '\n')
            {
                // Blank line, or a line break before a list item / heading, or after a heading.
                int next = i + 1;
                bool blank = false;
                while (next < end && text[next] is ' ' or '\t' or '\r' or '\n') { if (text[next] == '\n') blank = true; next++; }
                if (next >= end) break;
                if (blank || StartsListItem(text, next, end) || StartsHeading(text, next, end) || EndsHeadingLine(text, start, i))
                    cuts.Add(next);
                i = next;
                continue;
            }
            if (c is '.' or '?' or '!')
            {
                int j = i + 1;
                while (j < end && text[j] is '.' or '?' or '!' or '"' or '\'' or ')' or ']') j++;
                if (j < end && !char.IsWhiteSpace(text[j])) { i = j; continue; } // "2.5", "b.i.d", "e.g.," stay inside a word
                if (c == '.' && IsAbbreviationBefore(text, start, i)) { i = j; continue; }
                if (c == '.' && IsListNumberBefore(text, start, i)) { i = j; continue; }
                int k = j;
                while (k < end && char.IsWhiteSpace(text[k]) && text[k] != '\n') k++;
                if (k >= end) break;
                // A period before a lower-case word is an abbreviation we do not know ("approx. two", "a.m. today").
                if (c == '.' && char.IsLower(text[k])) { i = j; continue; }
                if (text[k] != '\n') cuts.Add(k);
                i = j;
                continue;
            }
            if (c == ':' && IsHeadingLabelBefore(text, start, i))
            {
                int k = i + 1;
                while (k < end && text[k] is ' ' or '\t' or ',') k++;
                if (k < end && text[k] != '\n' && text[k] != '\r') cuts.Add(k);
            }
            i++;
        }
        var spans = new List<SentenceSpan>();
        int from = start;
        foreach (var cut in cuts) { AddTrimmed(text, from, cut, spans); from = cut; }
        AddTrimmed(text, from, end, spans);
        return spans;
    }

    static void AddTrimmed(string text, int s, int e, List<SentenceSpan> spans)
    {
        while (s < e && (char.IsWhiteSpace(text[s]) || text[s] == ',')) s++;
        while (e > s && (char.IsWhiteSpace(text[e - 1]) || text[e - 1] == ',')) e--;
        if (e > s) spans.Add(new SentenceSpan(s, e));
    }

    /// <summary>The word before a period at <paramref name="dot"/> is a known abbreviation, an initial or dotted shorthand.</summary>
    static bool IsAbbreviationBefore(string text, int start, int dot)
    {
        int s = dot;
        while (s > start && (char.IsLetterOrDigit(text[s - 1]) || text[s - 1] == '.')) s--;
        if (s == dot) return false;
        var word = text[s..dot];
        // "No. 3" is a number sign; "No." alone ends a sentence ("Pneumothorax: No.").
        if (word.Equals("no", StringComparison.OrdinalIgnoreCase) || word.Equals("nos", StringComparison.OrdinalIgnoreCase))
            return dot + 2 < text.Length && char.IsDigit(text[dot + 1] == ' ' ? text[dot + 2] : text[dot + 1]);
        if (Abbreviations.Contains(word)) return true;
        // An initial ("J. Smith"), unless it is a unit after a number ("38.5 C.").
        if (word.Length == 1 && char.IsLetter(word[0]) && char.IsUpper(word[0])) return !(s >= 2 && text[s - 1] == ' ' && char.IsDigit(text[s - 2]));
        return word.Contains('.') && word.Replace(".", "").Length <= 5 && !word.Any(char.IsDigit); // "b.i.d", "p.r.n", "u.s"
    }

    /// <summary>"1." or "12." alone at the start of a line (or of the text): a list number, not a sentence end.</summary>
    static bool IsListNumberBefore(string text, int start, int dot)
    {
        int s = dot;
        while (s > start && char.IsDigit(text[s - 1])) s--;
        if (s == dot || dot - s > 2) return false;
        int p = s;
        while (p > start && text[p - 1] is ' ' or '\t') p--;
        return p == start || text[p - 1] is '\n' or ',' or ':';
    }

    static bool StartsListItem(string text, int at, int end)
    {
        char c = text[at];
        if (c is '-' or '*' or '•' or '·' or '–') return true;
        int d = at;
        while (d < end && char.IsDigit(text[d])) d++;
        return d > at && d - at <= 2 && d < end && text[d] is '.' or ')';
    }

    /// <summary>A line that starts with an ALL-CAPS label and a colon ("IMPRESSION:", "HISTORY OF PRESENT ILLNESS:").</summary>
    static bool StartsHeading(string text, int at, int end)
    {
        int colon = text.IndexOf(':', at, Math.Min(60, end - at));
        return colon > at && IsCapsLabel(text, at, colon);
    }

    static bool EndsHeadingLine(string text, int start, int newline)
    {
        int e = newline;
        while (e > start && char.IsWhiteSpace(text[e - 1])) e--;
        return e > start && text[e - 1] == ':';
    }

    /// <summary>The colon at <paramref name="colon"/> closes an ALL-CAPS label that starts a line, the text or a clause.</summary>
    static bool IsHeadingLabelBefore(string text, int start, int colon)
    {
        int s = colon;
        while (s > start && text[s - 1] != '\n' && text[s - 1] != ',' && text[s - 1] != '.' && colon - s < 60) s--;
        return IsCapsLabel(text, s, colon);
    }

    static bool IsCapsLabel(string text, int s, int e)
    {
        while (s < e && char.IsWhiteSpace(text[s])) s++;
        if (e - s < 2) return false;
        int letters = 0, words = 1;
        for (int i = s; i < e; i++)
        {
            char c = text[i];
            if (char.IsLetter(c)) { if (!char.IsUpper(c)) return false; letters++; }
            else if (c == ' ') words++;
            else if (!(c is '/' or '&' or '-' or '(' or ')' or '\'')) return false;
        }
        return letters >= 2 && words <= 6;
    }
}

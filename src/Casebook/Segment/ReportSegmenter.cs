namespace Casebook.Segment;

/// <summary>
/// Splits a radiology report or clinical note into sections and paragraphs with exact character offsets.
/// <para>Headers recognised (canonical names in <see cref="ReportSections"/>):</para>
/// <list type="bullet">
/// <item>"FINDINGS:" / "Findings: …" at a line start or after a sentence; ALL-CAPS labels with a colon after a comma,
///   as in MTSamples' flattened notes ("…flaring up.,MEDICATIONS: , Her only…"); unknown ALL-CAPS labels with a colon
///   ("ESTIMATED BLOOD LOSS:") become sections of that name, except exam labels such as "HEENT:" or "Neck:".</item>
/// <item>"Findings - …" (a dash) and "IMPRESSION" alone on its line, for known headers.</item>
/// <item>Markdown headings ("## Findings").</item>
/// <item>"PREOPERATIVE DIAGNOSES,1. …" (MTSamples: known ALL-CAPS header, comma, then a list).</item>
/// </list>
/// Text without any header is one section, <see cref="ReportSections.Body"/>; text before the first header is too.
/// Paragraphs are blank-line separated blocks; a block longer than <c>maxWords</c> is cut into groups of whole
/// sentences (a single overlong sentence at word boundaries). Every span is trimmed of whitespace and of the
/// commas MTSamples uses for line breaks, and never rewritten.
/// </summary>
public static class ReportSegmenter
{
    public const int DefaultMaxWords = 120;
    const int MaxLabelLength = 60;
    const int MaxLabelWords = 8;

    enum Boundary { Line, Comma, Sentence }

    readonly record struct Header(string Name, int Start, int ContentStart);

    /// <summary>Sections in document order; never empty for non-blank text.</summary>
    public static IReadOnlyList<ReportSection> FindSections(string? text)
    {
        var sections = new List<ReportSection>();
        if (string.IsNullOrWhiteSpace(text)) return sections;
        var headers = FindHeaders(text);
        if (headers.Count == 0 || HasContent(text, 0, headers[0].Start))
            sections.Add(new ReportSection(ReportSections.Body, 0, 0, headers.Count == 0 ? text.Length : headers[0].Start));
        for (int i = 0; i < headers.Count; i++)
        {
            var end = i + 1 < headers.Count ? headers[i + 1].Start : text.Length;
            sections.Add(new ReportSection(headers[i].Name, headers[i].Start, headers[i].ContentStart, end));
        }
        return sections;
    }

    /// <summary>Paragraphs of every section, in document order. Sections with no content give no paragraph.</summary>
    public static IReadOnlyList<ReportParagraph> Segment(string? text, int maxWords = DefaultMaxWords)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxWords, 1);
        var paragraphs = new List<ReportParagraph>();
        if (string.IsNullOrWhiteSpace(text)) return paragraphs;
        foreach (var section in FindSections(text))
            foreach (var (start, end) in Blocks(text, section.ContentStart, section.ContentEnd))
                foreach (var (s, e) in SplitLong(text, start, end, maxWords))
                    paragraphs.Add(new ReportParagraph(section.Name, text[s..e], s, e));
        return paragraphs;
    }

    // ---- headers ----

    static List<Header> FindHeaders(string text)
    {
        var headers = new List<Header>();
        int p = 0;
        while (p < text.Length)
        {
            Boundary? boundary = p == 0 || text[p - 1] is '\n' or '\r' ? Boundary.Line
                : text[p - 1] == ',' ? Boundary.Comma
                : text[p - 1] is '.' or ';' or '!' or '?' ? Boundary.Sentence
                : null;
            if (boundary is { } b && TryHeader(text, p, b, out var h))
            {
                headers.Add(h);
                p = Math.Max(h.ContentStart, p + 1);
                continue;
            }
            p++;
        }
        return headers;
    }

    static bool TryHeader(string text, int p, Boundary boundary, out Header header)
    {
        header = default;
        int n = text.Length, q = p;
        while (q < n && text[q] is ' ' or '\t') q++;
        if (boundary == Boundary.Sentence && q == p) return false; // "e.g.Findings" is not a header
        int start = q;
        bool markdown = false;
        if (boundary == Boundary.Line && q < n && text[q] == '#')
        {
            int hashes = 0;
            while (q < n && text[q] == '#') { q++; hashes++; }
            if (hashes > 6 || q >= n || text[q] is not (' ' or '\t')) return false;
            while (q < n && text[q] is ' ' or '\t') q++;
            markdown = true;
        }
        int labelStart = q;
        if (q >= n || !char.IsLetter(text[q])) return false;
        int words = 1;
        while (q < n && q - labelStart <= MaxLabelLength)
        {
            char c = text[q];
            if (char.IsLetter(c) || c is '/' or '&' or '(' or ')') { q++; continue; }
            if (c == '-' && q + 1 < n && char.IsLetter(text[q + 1]) && char.IsLetter(text[q - 1])) { q++; continue; }
            if (c is ' ' or '\t')
            {
                int r2 = q;
                while (r2 < n && text[r2] is ' ' or '\t') r2++;
                if (r2 - q <= 2 && r2 < n && (char.IsLetter(text[r2]) || text[r2] is '(' or '&' or '/')) { q = r2; words++; continue; }
            }
            break;
        }
        if (q - labelStart > MaxLabelLength || words > MaxLabelWords) return false;
        var label = text[labelStart..q];
        var norm = ReportSections.Normalize(label);
        var canonical = ReportSections.Canonical(norm);
        bool allCaps = IsAllCaps(label);
        int r = q;
        while (r < n && text[r] is ' ' or '\t') r++;
        bool atLineEnd = r >= n || text[r] is '\n' or '\r';

        if (r < n && text[r] == ':')
        {
            bool accept;
            if (markdown) accept = true;
            else if (canonical != null) accept = boundary != Boundary.Comma || allCaps;
            else accept = allCaps && boundary != Boundary.Sentence && LetterCount(label) >= 4 && !ReportSections.IsSubLabel(norm);
            if (!accept) return false;
            int c = r + 1;
            while (c < n && text[c] is ' ' or '\t') c++;
            if (c < n && text[c] == ',') c++; // MTSamples: "MEDICATIONS: , Her only…"
            header = new Header(canonical ?? norm, start, c);
            return true;
        }
        if (markdown && atLineEnd)
        {
            header = new Header(canonical ?? norm, start, r);
            return true;
        }
        if (canonical == null || ReportSections.IsColonOnly(norm)) return false;
        if (boundary == Boundary.Line && atLineEnd)
        {
            header = new Header(canonical, start, r);
            return true;
        }
        if (boundary == Boundary.Line && r > q && r + 1 < n && text[r] is '-' or '–' or '—' && text[r + 1] is ' ' or '\t')
        {
            int c = r + 1;
            while (c < n && text[c] is ' ' or '\t') c++;
            header = new Header(canonical, start, c);
            return true;
        }
        if (boundary != Boundary.Sentence && allCaps && r == q && r < n && text[r] == ',')
        {
            int c = r + 1;
            while (c < n && text[c] is ' ' or '\t') c++;
            if (c < n && (char.IsAsciiDigit(text[c]) || char.IsUpper(text[c])))
            {
                header = new Header(canonical, start, r + 1);
                return true;
            }
        }
        return false;
    }

    static bool IsAllCaps(string s)
    {
        int letters = 0;
        foreach (var c in s)
        {
            if (char.IsLower(c)) return false;
            if (char.IsLetter(c)) letters++;
        }
        return letters >= 2;
    }

    static int LetterCount(string s)
    {
        int k = 0;
        foreach (var c in s) if (char.IsLetter(c)) k++;
        return k;
    }

    static bool HasContent(string text, int start, int end)
    {
        for (int i = start; i < end; i++) if (char.IsLetterOrDigit(text[i])) return true;
        return false;
    }

    // ---- paragraphs ----

    /// <summary>Blank-line separated blocks of [start, end), trimmed; blocks without letters or digits are dropped.</summary>
    static IEnumerable<(int Start, int End)> Blocks(string text, int start, int end)
    {
        int blockStart = start, i = start;
        while (i < end)
        {
            if (text[i] == '\n')
            {
                int j = i + 1;
                while (j < end && text[j] is ' ' or '\t' or '\r') j++;
                if (j < end && text[j] == '\n')
                {
                    if (Trim(text, blockStart, i) is { } b) yield return b;
                    while (j < end && text[j] is '\n' or ' ' or '\t' or '\r') j++;
                    blockStart = i = j;
                    continue;
                }
            }
            i++;
        }
        if (Trim(text, blockStart, end) is { } last) yield return last;
    }

    static (int, int)? Trim(string text, int start, int end)
    {
        while (start < end && (char.IsWhiteSpace(text[start]) || text[start] is ',' or ':' or ';')) start++; // MTSamples "PROCEDURE:,:  The…"
        while (end > start && (char.IsWhiteSpace(text[end - 1]) || text[end - 1] == ',')) end--;
        return HasContent(text, start, end) ? (start, end) : null;
    }

    static int CountWords(string text, int start, int end)
    {
        int words = 0;
        bool inWord = false;
        for (int i = start; i < end; i++)
        {
            bool ws = char.IsWhiteSpace(text[i]);
            if (!ws && !inWord) words++;
            inWord = !ws;
        }
        return words;
    }

    static IEnumerable<(int Start, int End)> SplitLong(string text, int start, int end, int maxWords)
    {
        if (CountWords(text, start, end) <= maxWords) { yield return (start, end); yield break; }
        int groupStart = -1, groupEnd = -1, groupWords = 0;
        foreach (var (s, e) in Sentences(text, start, end))
        {
            int w = CountWords(text, s, e);
            if (groupStart >= 0 && groupWords + w > maxWords)
            {
                yield return (groupStart, groupEnd);
                groupStart = -1;
                groupWords = 0;
            }
            if (w > maxWords)
            {
                foreach (var piece in WordChunks(text, s, e, maxWords)) yield return piece;
                continue;
            }
            if (groupStart < 0) groupStart = s;
            groupEnd = e;
            groupWords += w;
        }
        if (groupStart >= 0) yield return (groupStart, groupEnd);
    }

    static readonly HashSet<string> Abbreviations = new(StringComparer.OrdinalIgnoreCase)
    {
        "dr", "mr", "mrs", "ms", "st", "vs", "etc", "e.g", "i.e", "approx", "no", "fig", "cf", "al", "pt", "sr", "jr",
    };

    /// <summary>Sentence spans of [start, end): ends at . ! ? before whitespace, a comma or the end, and at line breaks.</summary>
    static IEnumerable<(int Start, int End)> Sentences(string text, int start, int end)
    {
        int s = start;
        for (int i = start; i < end; i++)
        {
            bool cut = false;
            int next = i + 1;
            if (text[i] == '\n') cut = true;
            else if (text[i] is '.' or '!' or '?' && (next >= end || char.IsWhiteSpace(text[next]) || text[next] == ','))
                cut = text[i] != '.' || !IsAbbreviationOrNumber(text, s, i);
            if (!cut) continue;
            if (Trim(text, s, next) is { } span) yield return span;
            s = next;
        }
        if (Trim(text, s, end) is { } tail) yield return tail;
    }

    // "Dr." or the "1." of a numbered list does not end a sentence.
    static bool IsAbbreviationOrNumber(string text, int sentenceStart, int dot)
    {
        int w = dot;
        while (w > sentenceStart && !char.IsWhiteSpace(text[w - 1]) && text[w - 1] != ',') w--;
        var word = text[w..dot];
        if (word.Length == 0) return false;
        if (word.All(char.IsAsciiDigit) && word.Length <= 3) return true;
        if (word.Length == 1 && char.IsLetter(word[0])) return true;
        return Abbreviations.Contains(word);
    }

    static IEnumerable<(int Start, int End)> WordChunks(string text, int start, int end, int maxWords)
    {
        int i = start;
        while (i < end)
        {
            while (i < end && char.IsWhiteSpace(text[i])) i++;
            if (i >= end) yield break;
            int chunkStart = i, words = 0, chunkEnd = i;
            while (i < end && words < maxWords)
            {
                while (i < end && !char.IsWhiteSpace(text[i])) i++;
                chunkEnd = i;
                words++;
                while (i < end && char.IsWhiteSpace(text[i])) i++;
            }
            if (Trim(text, chunkStart, chunkEnd) is { } span) yield return span;
        }
    }
}

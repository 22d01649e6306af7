using System.Globalization;
using System.Text;

namespace Casebook.Search.Text;

/// <summary>A word of analysed text: <see cref="Term"/> is lower-cased and diacritic-free (not stemmed);
/// <see cref="Surface"/> is the original spelling; Start/End are UTF-16 offsets into the input.</summary>
public readonly record struct TextToken(string Term, string Surface, int Start, int End);

/// <summary>
/// The one tokeniser shared by keyword search, query building and sparse terms. It mirrors SQLite FTS5's
/// <c>unicode61</c> tokenizer (token characters are Unicode letters, digits and private-use characters;
/// everything else separates; case folded; diacritics removed) so that terms produced here are the terms
/// FTS5 indexes, and <see cref="Stem"/> mirrors FTS5's <c>porter</c> wrapper.
/// </summary>
public static class TextAnalyzer
{
    /// <summary>FTS5's porter wrapper passes tokens longer than this many UTF-8 bytes through unstemmed.</summary>
    public const int PorterMaxTokenBytes = 64;

    /// <summary>Splits text into tokens. Never throws; empty or null text gives no tokens.</summary>
    public static List<TextToken> Tokenize(string? text)
    {
        var tokens = new List<TextToken>();
        if (string.IsNullOrEmpty(text)) return tokens;
        var term = new StringBuilder();
        int start = -1, i = 0;
        while (i < text.Length)
        {
            var status = Rune.DecodeFromUtf16(text.AsSpan(i), out var rune, out var used);
            if (status != System.Buffers.OperationStatus.Done) { rune = Rune.ReplacementChar; used = Math.Max(used, 1); }
            if (IsTokenRune(rune))
            {
                if (start < 0) start = i;
                AppendFolded(term, rune);
            }
            else if (IsDiacritic(rune) && start >= 0)
            {
                // A combining mark inside a word belongs to it (unicode61 remove_diacritics drops it).
            }
            else if (start >= 0)
            {
                Emit(tokens, term, text, start, i);
                start = -1;
            }
            i += used;
        }
        if (start >= 0) Emit(tokens, term, text, start, text.Length);
        return tokens;
    }

    static void Emit(List<TextToken> tokens, StringBuilder term, string text, int start, int end)
    {
        if (term.Length > 0) tokens.Add(new TextToken(term.ToString(), text[start..end], start, end));
        term.Clear();
    }

    static bool IsTokenRune(Rune r)
    {
        var cat = Rune.GetUnicodeCategory(r);
        return cat is UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
            or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter
            or UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber
            or UnicodeCategory.PrivateUse;
    }

    static bool IsDiacritic(Rune r) => Rune.GetUnicodeCategory(r) == UnicodeCategory.NonSpacingMark;

    static void AppendFolded(StringBuilder sb, Rune r)
    {
        if (r.IsAscii) { sb.Append(char.ToLowerInvariant((char)r.Value)); return; }
        var lower = Rune.ToLowerInvariant(r);
        // unicode61's remove_diacritics: "é" -> "e". The app runs with invariant globalization (no ICU
        // normalisation), so Latin letters with diacritics are folded through an explicit table.
        if (lower.Value < 0x250)
        {
            var k = FoldFrom.IndexOf((char)lower.Value);
            if (k >= 0) { sb.Append(FoldTo[k]); return; }
        }
        sb.Append(lower.ToString());
    }

    const string FoldFrom = "àáâãäåçèéêëìíîïñòóôõöùúûüýÿāăąćĉċčďēĕėęěĝğġģĥĩīĭįĵķĺļľńņňōŏőŕŗřśŝşšţťũūŭůűųŵŷźżžơưǎǐǒǔǖǘǚǜǟǡǧǩǫǭǰǵǹǻȁȃȅȇȉȋȍȏȑȓȕȗșțȟȧȩȫȭȯȱȳ";
    const string FoldTo = "aaaaaaceeeeiiiinooooouuuuyyaaaccccdeeeeegggghiiiijklllnnnooorrrssssttuuuuuuwyzzzouaiouuuuuaagkoojgnaaaeeiioorruusthaeooooy";

    /// <summary>Porter stem of a folded term, exactly as FTS5's porter tokenizer would index it.</summary>
    public static string Stem(string term)
    {
        var bytes = Encoding.UTF8.GetByteCount(term);
        if (bytes < 3 || bytes > PorterMaxTokenBytes) return term;
        return PorterStemmer.Stem(term);
    }

    /// <summary>Tokens minus stop words and placeholders, stemmed: the terms keyword search ranks on.</summary>
    public static IEnumerable<string> IndexTerms(string? text)
    {
        foreach (var t in Tokenize(text))
            if (!StopWords.IsStopWord(t.Term)) yield return Stem(t.Term);
    }
}

using System.Globalization;
using System.Text;

namespace Casebook.Embed;

/// <summary>
/// BERT tokenizer (HuggingFace <c>BertTokenizer</c> semantics): basic tokenisation (clean control characters,
/// space out CJK ideographs, split on whitespace and punctuation, optionally lower-case and strip accents),
/// then greedy longest-match-first WordPiece with the "##" continuation prefix. Immutable and thread-safe.
/// </summary>
public sealed class WordPieceTokenizer
{
    const int MaxCharsPerWord = 100; // as BERT: longer words become [UNK]

    readonly Dictionary<string, int> _vocab;
    readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _lookup;

    public bool LowerCase { get; }
    public int VocabularySize => _vocab.Count;
    public int PadId { get; }
    public int UnknownId { get; }
    public int ClsId { get; }
    public int SepId { get; }

    public WordPieceTokenizer(IEnumerable<string> vocabLines, bool lowerCase = true)
    {
        _vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        var id = 0;
        foreach (var raw in vocabLines)
        {
            var token = raw.TrimEnd('\r', '\n');
            _vocab.TryAdd(token, id); // later duplicates keep the first id, as HF does
            id++;
        }
        _lookup = _vocab.GetAlternateLookup<ReadOnlySpan<char>>();
        LowerCase = lowerCase;
        UnknownId = Require("[UNK]");
        ClsId = Require("[CLS]");
        SepId = Require("[SEP]");
        PadId = _vocab.TryGetValue("[PAD]", out var pad) ? pad : 0;
    }

    /// <summary>Reads a vocab.txt (one token per line, line number = id).</summary>
    public static WordPieceTokenizer FromFile(string vocabPath, bool lowerCase = true)
    {
        if (!File.Exists(vocabPath)) throw new FileNotFoundException($"vocabulary file not found: {vocabPath}", vocabPath);
        return new WordPieceTokenizer(File.ReadLines(vocabPath), lowerCase);
    }

    public static WordPieceTokenizer FromStream(Stream stream, bool lowerCase = true)
    {
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var lines = new List<string>(32000);
        while (reader.ReadLine() is { } line) lines.Add(line);
        return new WordPieceTokenizer(lines, lowerCase);
    }

    int Require(string token) => _vocab.TryGetValue(token, out var id)
        ? id
        : throw new InvalidDataException($"vocabulary lacks the special token {token}");

    public bool TryGetId(string token, out int id) => _vocab.TryGetValue(token, out id);

    /// <summary>WordPiece ids of <paramref name="text"/> without [CLS]/[SEP].</summary>
    public List<int> Encode(string text)
    {
        var ids = new List<int>(text.Length / 4 + 4);
        Encode(text, ids);
        return ids;
    }

    /// <summary>Appends the WordPiece ids of <paramref name="text"/> (no special tokens) to <paramref name="ids"/>.</summary>
    public void Encode(string text, List<int> ids)
    {
        var prepared = Prepare(text);
        Span<char> pieceBuffer = stackalloc char[MaxCharsPerWord + 2];
        var wordStart = -1;
        var i = 0;
        while (i < prepared.Length)
        {
            Rune.DecodeFromUtf16(prepared.AsSpan(i), out var rune, out var used);
            if (IsWhitespace(rune) || IsPunctuation(rune))
            {
                if (wordStart >= 0) { AppendWord(prepared.AsSpan(wordStart, i - wordStart), ids, pieceBuffer); wordStart = -1; }
                if (!IsWhitespace(rune)) AppendWord(prepared.AsSpan(i, used), ids, pieceBuffer);
            }
            else if (wordStart < 0) wordStart = i;
            i += used;
        }
        if (wordStart >= 0) AppendWord(prepared.AsSpan(wordStart), ids, pieceBuffer);
    }

    /// <summary>
    /// Cleans the text (drops NUL, U+FFFD and control characters, maps whitespace to spaces), spaces out CJK
    /// ideographs and, for uncased models, lower-cases and removes combining marks after NFD decomposition.
    /// </summary>
    string Prepare(string text)
    {
        if (IsPlainAscii(text)) return LowerCase ? text.ToLowerInvariant() : text;
        var sb = new StringBuilder(text.Length + 8);
        var allAscii = true;
        foreach (var rune in text.EnumerateRunes())
        {
            var cp = rune.Value;
            if (cp == 0 || cp == 0xFFFD || IsControl(rune)) continue;
            if (cp > 127) allAscii = false;
            if (IsWhitespace(rune)) { sb.Append(' '); continue; }
            if (IsCjk(cp)) { sb.Append(' ').Append(rune.ToString()).Append(' '); continue; }
            sb.Append(rune.ToString());
        }
        var cleaned = sb.ToString();
        if (!LowerCase) return cleaned;
        if (allAscii) return cleaned.ToLowerInvariant();
        var lowered = cleaned.ToLowerInvariant();
        var decomposed = Decompose(lowered);
        sb.Clear();
        foreach (var rune in decomposed.EnumerateRunes())
            if (Rune.GetUnicodeCategory(rune) != UnicodeCategory.NonSpacingMark) sb.Append(rune.ToString());
        return sb.ToString();
    }

    static bool IsPlainAscii(string text)
    {
        foreach (var c in text)
            if (c > 126 || (c < 32 && c is not ('\t' or '\n' or '\r'))) return false;
        return true;
    }

    static string Decompose(string s)
    {
        // Invariant-globalisation builds (this project's) may leave non-ASCII text un-decomposed, so fold common
        // Latin accents by table first; NFD then handles whatever the runtime can decompose.
        s = LatinFold.StripAccents(s);
        try { return s.Normalize(NormalizationForm.FormD); }
        catch (PlatformNotSupportedException) { return s; }
    }

    void AppendWord(ReadOnlySpan<char> word, List<int> ids, Span<char> buffer)
    {
        if (word.Length > MaxCharsPerWord) { ids.Add(UnknownId); return; }
        if (_lookup.TryGetValue(word, out var whole)) { ids.Add(whole); return; }
        var mark = ids.Count;
        var start = 0;
        buffer[0] = '#'; buffer[1] = '#';
        while (start < word.Length)
        {
            var end = word.Length;
            var found = -1;
            while (start < end)
            {
                ReadOnlySpan<char> piece;
                if (start == 0) piece = word[..end];
                else
                {
                    word[start..end].CopyTo(buffer[2..]);
                    piece = buffer[..(end - start + 2)];
                }
                if (_lookup.TryGetValue(piece, out var id)) { found = id; break; }
                end--;
                if (end > start && char.IsLowSurrogate(word[end])) end--; // never split a surrogate pair
            }
            if (found < 0)
            {
                ids.RemoveRange(mark, ids.Count - mark);
                ids.Add(UnknownId);
                return;
            }
            ids.Add(found);
            start = end;
        }
    }

    static bool IsWhitespace(Rune r) => r.Value is ' ' or '\t' or '\n' or '\r' || Rune.GetUnicodeCategory(r) == UnicodeCategory.SpaceSeparator;

    static bool IsControl(Rune r)
    {
        if (r.Value is '\t' or '\n' or '\r') return false;
        var cat = Rune.GetUnicodeCategory(r);
        return cat is UnicodeCategory.Control or UnicodeCategory.Format;
    }

    /// <summary>BERT treats all non-alphanumeric ASCII as punctuation, plus Unicode P* categories.</summary>
    static bool IsPunctuation(Rune r)
    {
        var cp = r.Value;
        if (cp is >= 33 and <= 47 or >= 58 and <= 64 or >= 91 and <= 96 or >= 123 and <= 126) return true;
        return Rune.GetUnicodeCategory(r) is UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation
            or UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
            or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation;
    }

    static bool IsCjk(int cp) =>
        cp is >= 0x4E00 and <= 0x9FFF or >= 0x3400 and <= 0x4DBF or >= 0x20000 and <= 0x2A6DF or >= 0x2A700 and <= 0x2B73F
            or >= 0x2B740 and <= 0x2B81F or >= 0x2B820 and <= 0x2CEAF or >= 0xF900 and <= 0xFAFF or >= 0x2F800 and <= 0x2FA1F;
}

/// <summary>Accent stripping for Latin letters when the runtime cannot NFD-normalise (invariant globalisation).</summary>
static class LatinFold
{
    const string From = "àáâãäåçèéêëìíîïñòóôõöùúûüýÿāăąćĉċčďēĕėęěĝğġģĥĩīĭįĵķĺļľńņňōŏőŕŗřśŝşšţťũūŭůűųŵŷźżž";
    const string To   = "aaaaaaceeeeiiiinooooouuuuyyaaaccccdeeeeegggghiiiijklllnnnooorrrssssttuuuuuuwyzzz";

    public static string StripAccents(string s)
    {
        var chars = s.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            var k = From.IndexOf(chars[i]);
            if (k >= 0) chars[i] = To[k];
        }
        return new string(chars);
    }
}

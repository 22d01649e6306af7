namespace Casebook.Extract.Clinical;

/// <summary>
/// A word or punctuation mark of clinical text. <see cref="Norm"/> is the lower-cased form that lexicons match
/// ("r/o", "s/p", "120/80", "not" for the "n't" of "don't"); Start/End are UTF-16 offsets into the input.
/// </summary>
public readonly record struct ClinicalToken(string Norm, int Start, int End, bool IsPunctuation)
{
    public bool IsWord => !IsPunctuation;
}

/// <summary>
/// The tokeniser shared by the sentence splitter, the concept matcher and ConText. Unlike the search tokeniser it keeps
/// clinical shorthand whole ("r/o", "s/p", "h/o", "w/o", "120/80", "2.5"), keeps the punctuation that ends a trigger's
/// scope (, ; : . ? ! ( )), splits hyphenated words ("x-ray" → x, ray) and turns "n't" into a "not" token so that
/// "doesn't have" meets the trigger "not have".
/// </summary>
public static class ClinicalTokenizer
{
    public static List<ClinicalToken> Tokenize(string text, int start = 0, int end = -1)
    {
        if (end < 0) end = text.Length;
        var tokens = new List<ClinicalToken>();
        int i = start;
        while (i < end)
        {
            char c = text[i];
            if (char.IsLetterOrDigit(c))
            {
                int s = i;
                i++;
                while (i < end)
                {
                    char d = text[i];
                    if (char.IsLetterOrDigit(d)) { i++; continue; }
                    // Joiners inside a word: "r/o", "120/80", "2.5", "patient's".
                    if (i + 1 < end && char.IsLetterOrDigit(text[i + 1]))
                    {
                        if (d == '/' ) { i++; continue; }
                        if (d == '.' && char.IsDigit(text[i - 1]) && char.IsDigit(text[i + 1])) { i++; continue; }
                        // Dotted shorthand: "b.i.d", "e.g", "p.o" (single letters between the dots).
                        if (d == '.' && char.IsLetter(text[i - 1]) && (i - 1 == s || text[i - 2] == '.') && (i + 2 >= end || !char.IsLetterOrDigit(text[i + 2]))) { i++; continue; }
                        if (d is '\'' or '’' && char.IsLetter(text[i - 1])) { i++; continue; }
                    }
                    break;
                }
                var word = text[s..i].ToLowerInvariant().Replace('’', '\'');
                if (word.EndsWith("n't", StringComparison.Ordinal) && word.Length > 3)
                {
                    // "don't" → "do" + "not"; "can't" → "can" + "not"; "won't" → "will" + "not".
                    var stem = word[..^3];
                    if (stem == "ca") stem = "can"; else if (stem == "wo") stem = "will";
                    tokens.Add(new ClinicalToken(stem, s, i - 3, false));
                    tokens.Add(new ClinicalToken("not", i - 3, i, false));
                }
                else tokens.Add(new ClinicalToken(word, s, i, false));
                continue;
            }
            if (c is ',' or ';' or ':' or '.' or '?' or '!' or '(' or ')' or '[' or ']')
                tokens.Add(new ClinicalToken(c.ToString(), i, i + 1, true));
            i++;
        }
        return tokens;
    }

    /// <summary>Lower-cased word tokens of a lexicon phrase ("r/o" stays whole, "x-ray" is two words).</summary>
    public static string[] Words(string phrase)
    {
        var list = new List<string>();
        foreach (var t in Tokenize(phrase)) if (t.IsWord) list.Add(t.Norm);
        return list.ToArray();
    }
}

using System.Text;

namespace Casebook.Search.Text;

/// <summary>
/// Builds a safe SQLite FTS5 MATCH expression from free text. User text is never passed through: it is tokenised
/// with the index's own rules (<see cref="TextAnalyzer"/>), so every term is letters and digits only, and each term
/// or expansion phrase is emitted as a double-quoted FTS5 string. FTS5 operators typed by the user (NEAR, AND, OR,
/// NOT, column filters "col:", '*', '^', '+', parentheses, quotes) therefore become plain words or vanish.
/// Terms are OR-ed for recall; bm25() does the ranking. FTS5's bm25 cannot weight query terms, so the weights of
/// <see cref="Phrases"/> are for a ranker that can (<see cref="SparseTerms.ComputeQuery"/>).
/// </summary>
public static class Fts5Query
{
    /// <summary>At most this many distinct original terms are kept (the first ones), so a pasted report stays cheap.</summary>
    public const int MaxTerms = 32;
    /// <summary>At most this many expansion phrases are added.</summary>
    public const int MaxExpansions = 32;

    /// <summary>The MATCH expression, e.g. <c>"sob" OR "shortness of breath"</c>; null when the text has no searchable
    /// word (an empty MATCH is an FTS5 error, so callers skip keyword search instead).</summary>
    public static string? Build(string? userText, QueryExpansion? expansion = null)
    {
        var expression = ToMatchExpression(Phrases(userText, expansion));
        return expression.Length == 0 ? null : expression;
    }

    /// <summary>The weighted phrases a query searches for: the user's words (stop words dropped unless nothing else
    /// is left), weight 1, then expansions from <paramref name="expansion"/> with their lower weights.</summary>
    public static IReadOnlyList<QueryPhrase> Phrases(string? userText, QueryExpansion? expansion = null)
    {
        var tokens = TextAnalyzer.Tokenize(userText);
        var phrases = new List<QueryPhrase>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        bool allStop = tokens.TrueForAll(t => StopWords.IsStopWord(t.Term));
        var kept = new List<TextToken>();
        foreach (var t in tokens)
        {
            if (phrases.Count >= MaxTerms) break;
            kept.Add(t);
            if (!allStop && StopWords.IsStopWord(t.Term)) continue;
            if (seen.Add(TextAnalyzer.Stem(t.Term))) phrases.Add(new QueryPhrase([t.Term], 1f, false));
        }
        if (expansion != null && kept.Count > 0)
        {
            int added = 0;
            foreach (var p in expansion.Expand(kept))
            {
                if (added >= MaxExpansions) break;
                if (p.Tokens.Count == 0 || p.Tokens.Any(string.IsNullOrEmpty)) continue;
                if (p.Tokens.Count == 1 && !seen.Add(TextAnalyzer.Stem(p.Tokens[0]))) continue;
                phrases.Add(p with { IsExpansion = true, Weight = Math.Clamp(p.Weight, 0f, 1f) });
                added++;
            }
        }
        return phrases;
    }

    /// <summary>OR of quoted phrases ("" when there are none). Tokens are re-tokenised here too, so phrases from any expansion are safe.</summary>
    public static string ToMatchExpression(IEnumerable<QueryPhrase> phrases)
    {
        var sb = new StringBuilder();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in phrases)
        {
            var safe = string.Join(' ', p.Tokens.SelectMany(t => TextAnalyzer.Tokenize(t)).Select(t => t.Term));
            if (safe.Length == 0 || !seen.Add(safe)) continue;
            if (sb.Length > 0) sb.Append(" OR ");
            // Tokens hold only letters and digits; doubling quotes is defence in depth (FTS5 string escaping).
            sb.Append('"').Append(safe.Replace("\"", "\"\"")).Append('"');
        }
        return sb.ToString();
    }
}

namespace Casebook.Search.Text;

/// <summary>
/// Sparse lexical vectors (the <c>sparse_terms</c> column): Porter stem → weight, over the same analysis as the
/// FTS5 index (<see cref="TextAnalyzer"/>), stop words removed. Document weights are BM25's saturated term
/// frequency, tf·(k1+1) / (tf + k1·(1 − b + b·len/avgLen)), with a fixed nominal length since a single document
/// has no corpus; IDF belongs to the ranker, which knows the corpus. Query weights come from
/// <see cref="ComputeQuery"/> (1 for the user's words, less for expansions).
/// </summary>
public static class SparseTerms
{
    public const float K1 = 1.2f;
    public const float B = 0.75f;
    /// <summary>Nominal document length in terms (a typical report paragraph or short report).</summary>
    public const float AverageLength = 100f;

    public static Dictionary<string, float> Compute(string? text)
    {
        var tf = new Dictionary<string, int>(StringComparer.Ordinal);
        int length = 0;
        foreach (var term in TextAnalyzer.IndexTerms(text))
        {
            tf[term] = tf.GetValueOrDefault(term) + 1;
            length++;
        }
        var weights = new Dictionary<string, float>(tf.Count, StringComparer.Ordinal);
        float norm = K1 * (1 - B + B * length / AverageLength);
        foreach (var (term, f) in tf)
            weights[term] = MathF.Round(f * (K1 + 1) / (f + norm), 4);
        return weights;
    }

    /// <summary>Query vector: each phrase's stems at the phrase's weight (the highest when several phrases share a stem).</summary>
    public static Dictionary<string, float> ComputeQuery(string? userText, QueryExpansion? expansion = null)
    {
        var weights = new Dictionary<string, float>(StringComparer.Ordinal);
        foreach (var phrase in Fts5Query.Phrases(userText, expansion))
            foreach (var token in phrase.Tokens)
            {
                if (StopWords.IsStopWord(token) && phrase.IsExpansion) continue;
                var stem = TextAnalyzer.Stem(token);
                if (phrase.Weight > weights.GetValueOrDefault(stem)) weights[stem] = phrase.Weight;
            }
        return weights;
    }

    /// <summary>Dot product of a query vector and a document vector (optionally scaled per term by IDF).</summary>
    public static float Score(IReadOnlyDictionary<string, float> query, IReadOnlyDictionary<string, float> document, Func<string, float>? idf = null)
    {
        float score = 0;
        foreach (var (term, qw) in query)
            if (document.TryGetValue(term, out var dw)) score += qw * dw * (idf?.Invoke(term) ?? 1f);
        return score;
    }
}

namespace Casebook.Search.Text;

/// <summary>
/// English function words dropped from queries and sparse terms. Deliberately short (Lucene's English set plus
/// a few auxiliaries): clinical words such as "no", "without" or "left" carry meaning and are handled by
/// negation detection, not by the stop list. De-identification placeholders ("XXXX") are dropped too.
/// </summary>
public static class StopWords
{
    static readonly HashSet<string> Words = new(StringComparer.Ordinal)
    {
        "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it",
        "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these", "they",
        "this", "to", "was", "will", "with", "were", "been", "being", "has", "have", "had", "from", "which",
        "who", "whom", "what", "its", "than", "so", "do", "does", "did", "can", "could", "would", "should",
        "may", "also", "any", "all", "some", "i", "we", "you", "he", "she", "his", "her", "our",
    };

    /// <summary>True for a folded (lower-case) term that carries no search meaning.</summary>
    public static bool IsStopWord(string term) => Words.Contains(term) || IsPlaceholder(term);

    // Indiana (IU X-ray) reports replace redacted words with "XXXX".
    static bool IsPlaceholder(string term)
    {
        if (term.Length < 3) return false;
        foreach (var c in term) if (c != 'x') return false;
        return true;
    }
}

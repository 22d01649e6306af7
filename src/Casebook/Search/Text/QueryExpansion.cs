namespace Casebook.Search.Text;

/// <summary>
/// A phrase to search for: folded, unstemmed tokens (FTS5 stems them itself) and a weight. The user's own words
/// weigh 1; expansions weigh less, so a ranker that honours weights (<see cref="SparseTerms.ComputeQuery"/>)
/// prefers documents that use the user's words. <see cref="Source"/> names what produced an expansion.
/// </summary>
public sealed record QueryPhrase(IReadOnlyList<string> Tokens, float Weight, bool IsExpansion, string? Source = null)
{
    /// <summary>Tokens joined by single spaces.</summary>
    public string Text => string.Join(' ', Tokens);
}

/// <summary>Adds phrases to a query: abbreviations, synonyms, spelling variants.</summary>
public abstract class QueryExpansion
{
    /// <summary>Extra phrases for a query's tokens (stop words included, in order). Never returns the tokens themselves.</summary>
    public abstract IReadOnlyList<QueryPhrase> Expand(IReadOnlyList<TextToken> tokens);
}

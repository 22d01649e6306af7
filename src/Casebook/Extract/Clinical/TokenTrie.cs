namespace Casebook.Extract.Clinical;

/// <summary>
/// A trie over normalised word tokens: phrases of the concept lexicon and of the ConText trigger lexicon are added as
/// token sequences, and <see cref="LongestAt"/> finds the longest phrase starting at a token in time proportional to
/// the phrase length (not to the lexicon size). Scanning a sentence left to right with it is the longest-match,
/// non-overlapping tagging that dictionary matchers (NegEx, ConText, MetaMap's lexical lookup) use.
/// </summary>
public sealed class TokenTrie<T>
{
    sealed class Node
    {
        public Dictionary<string, Node>? Next;
        public List<T>? Values;
    }

    readonly Node _root = new();
    public int Count { get; private set; }

    public void Add(IReadOnlyList<string> words, T value)
    {
        if (words.Count == 0) return;
        var node = _root;
        foreach (var w in words)
        {
            node.Next ??= new Dictionary<string, Node>(StringComparer.Ordinal);
            if (!node.Next.TryGetValue(w, out var child)) node.Next[w] = child = new Node();
            node = child;
        }
        node.Values ??= new List<T>();
        node.Values.Add(value);
        Count++;
    }

    /// <summary>The longest phrase starting at token <paramref name="start"/> (word tokens only; punctuation ends a
    /// phrase; tokens at or past <paramref name="limit"/> are not used): its length in tokens and values, or 0.</summary>
    public int LongestAt(IReadOnlyList<ClinicalToken> tokens, int start, int limit, out IReadOnlyList<T> values)
    {
        values = [];
        var node = _root;
        int best = 0;
        for (int i = start; i < limit; i++)
        {
            if (tokens[i].IsPunctuation || node.Next == null || !node.Next.TryGetValue(tokens[i].Norm, out var child)) break;
            node = child;
            if (node.Values != null) { best = i - start + 1; values = node.Values; }
        }
        return best;
    }

    /// <summary>Same as <see cref="LongestAt(IReadOnlyList{ClinicalToken},int,int,out IReadOnlyList{T})"/> over a
    /// sequence of normalised strings produced by <paramref name="norm"/>.</summary>
    public int LongestAt(int count, Func<int, string?> norm, int start, out IReadOnlyList<T> values)
    {
        values = [];
        var node = _root;
        int best = 0;
        for (int i = start; i < count; i++)
        {
            var w = norm(i);
            if (w == null || node.Next == null || !node.Next.TryGetValue(w, out var child)) break;
            node = child;
            if (node.Values != null) { best = i - start + 1; values = node.Values; }
        }
        return best;
    }
}

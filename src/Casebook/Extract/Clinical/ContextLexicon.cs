using System.Reflection;

namespace Casebook.Extract.Clinical;

/// <summary>One action of a trigger phrase: the feature it sets, which way its scope runs and how far (0 = to the end of
/// the sentence or the next termination term).</summary>
public readonly record struct TriggerAction(AssertionFeatures Feature, TriggerDirection Direction, int Window);

/// <summary>A phrase of the ConText lexicon: its trigger actions, whether it is a pseudo-trigger, and the features whose
/// scope it terminates.</summary>
public sealed class ContextPhrase(string phrase)
{
    public string Phrase { get; } = phrase;
    public List<TriggerAction> Actions { get; } = new();
    public bool IsPseudo { get; set; }
    public AssertionFeatures Terminates { get; set; }
}

/// <summary>
/// The ConText trigger lexicon (<c>context-triggers.tsv</c>, embedded): pre- and post-concept triggers for negation,
/// uncertainty, historical, hypothetical and other-experiencer, pseudo-triggers and termination terms, in a
/// <see cref="TokenTrie{T}"/> so a sentence is tagged in one longest-match pass.
/// </summary>
public sealed class ContextLexicon
{
    /// <summary>Default scope of a post-concept (backward) trigger in words when the lexicon gives none: "pneumonia,
    /// which was initially suspected, was ruled out" reaches back; a trigger at the end of a long clause list does not.</summary>
    public const int DefaultBackwardWindow = 8;

    public TokenTrie<ContextPhrase> Trie { get; } = new();
    public int PhraseCount { get; }

    static readonly Lazy<ContextLexicon> DefaultInstance = new(() => Load(OpenResource("context-triggers.tsv"), "context-triggers.tsv"));
    public static ContextLexicon Default => DefaultInstance.Value;

    ContextLexicon(Dictionary<string, ContextPhrase> phrases)
    {
        foreach (var p in phrases.Values) Trie.Add(ClinicalTokenizer.Words(p.Phrase), p);
        PhraseCount = phrases.Count;
    }

    internal static Stream OpenResource(string name) =>
        typeof(ContextLexicon).Assembly.GetManifestResourceStream("Casebook.Extract.Clinical." + name)
        ?? throw new InvalidOperationException($"embedded resource {name} is missing from the Casebook assembly");

    /// <summary>Reads a lexicon in the TSV format of <c>context-triggers.tsv</c>; a malformed line is an error naming it.</summary>
    public static ContextLexicon Load(Stream stream, string name)
    {
        var phrases = new Dictionary<string, ContextPhrase>(StringComparer.Ordinal);
        using var reader = new StreamReader(stream);
        int lineNo = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNo++;
            if (line.Length == 0 || line[0] == '#') continue;
            var f = line.Split('\t');
            var phrase = f[0].Trim().ToLowerInvariant();
            if (phrase.Length == 0 || f.Length < 2) throw new FormatException($"{name}:{lineNo}: expected 'phrase<TAB>action[<TAB>direction[<TAB>window]]'");
            var key = string.Join(' ', ClinicalTokenizer.Words(phrase));
            if (!phrases.TryGetValue(key, out var entry)) phrases[key] = entry = new ContextPhrase(phrase);
            var action = f[1].Trim();
            if (action == "pseudo") { entry.IsPseudo = true; continue; }
            if (action.StartsWith("terminate:", StringComparison.Ordinal))
            {
                foreach (var feature in action["terminate:".Length..].Split(','))
                    entry.Terminates |= feature == "all" ? AssertionFeatures.All : ParseFeature(feature, name, lineNo);
                continue;
            }
            var direction = f.Length > 2 && f[2].Trim().Length > 0 ? f[2].Trim() switch
            {
                "forward" => TriggerDirection.Forward, "backward" => TriggerDirection.Backward, "both" => TriggerDirection.Both,
                var d => throw new FormatException($"{name}:{lineNo}: unknown direction '{d}' (forward, backward, both)"),
            } : TriggerDirection.Forward;
            var window = 0;
            if (f.Length > 3 && f[3].Trim().Length > 0 && !int.TryParse(f[3].Trim(), out window))
                throw new FormatException($"{name}:{lineNo}: window '{f[3]}' is not a number");
            entry.Actions.Add(new TriggerAction(ParseFeature(action, name, lineNo), direction, window));
        }
        return new ContextLexicon(phrases);
    }

    static AssertionFeatures ParseFeature(string s, string name, int line) => s.Trim() switch
    {
        "negated" => AssertionFeatures.Negated,
        "uncertain" => AssertionFeatures.Uncertain,
        "historical" => AssertionFeatures.Historical,
        "hypothetical" => AssertionFeatures.Hypothetical,
        "other" => AssertionFeatures.Other,
        var x => throw new FormatException($"{name}:{line}: unknown feature '{x}' (negated, uncertain, historical, hypothetical, other)"),
    };
}

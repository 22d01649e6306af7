using System.Text.RegularExpressions;
using Casebook.Search.Text;

namespace Casebook.Extract.Clinical;

/// <summary>A concept mention in analysed text: character span, the lexicon concept, its ConText assertion and laterality.</summary>
public sealed record ConceptMention(int Start, int End, string Text, ClinicalConceptEntry Concept, Assertion Assertion, string? Laterality, int Sentence)
{
    public string Term => Concept.Term;
    public string Category => Concept.Category;
    public IReadOnlyList<string> Codes => Concept.Codes;
}

/// <summary>Result of <see cref="ClinicalAnalyzer.Analyze"/>: sentences, concept mentions and PHI spans.</summary>
public sealed record ClinicalAnalysis(IReadOnlyList<SentenceSpan> Sentences, IReadOnlyList<ConceptMention> Concepts, IReadOnlyList<PhiSpan> Phi);

/// <summary>
/// The clinical NLP pipeline over one text: sentences (<see cref="SentenceSplitter"/>), concepts of the curated lexicon
/// (<see cref="ConceptLexicon"/>, abbreviations included), ConText assertion for every concept
/// (<see cref="ConTextAssertion"/>), laterality, and PHI spans from an <see cref="IPhiDetector"/>. Stateless and
/// thread-safe; the lexicons are loaded once per process.
/// </summary>
public sealed class ClinicalAnalyzer(IPhiDetector? phi = null, ConceptLexicon? concepts = null, ContextLexicon? triggers = null)
{
    static readonly Lazy<ClinicalAnalyzer> DefaultInstance = new(() => new ClinicalAnalyzer());
    public static ClinicalAnalyzer Default => DefaultInstance.Value;

    readonly IPhiDetector _phi = phi ?? NullPhiDetector.Instance;
    readonly ConceptLexicon _concepts = concepts ?? ConceptLexicon.Default;
    readonly ContextLexicon _triggers = triggers ?? ContextLexicon.Default;

    public ClinicalAnalysis Analyze(string text)
    {
        var sentences = SentenceSplitter.Split(text);
        var mentions = new List<ConceptMention>();
        for (int s = 0; s < sentences.Count; s++)
        {
            var span = sentences[s];
            // Triggers see the headings before the sentence; concepts are the sentence's own.
            var context = WithHeadings(text, sentences, s, followingToo: false);
            var tokens = ClinicalTokenizer.Tokenize(text, context.Start, span.End);
            int own = tokens.FindIndex(t => t.Start >= span.Start);
            if (own < 0) continue;
            var found = _concepts.Match(text, tokens, own, tokens.Count);
            if (found.Count == 0) continue;
            var inConcept = new bool[tokens.Count];
            foreach (var (a, b, _) in found) for (int k = a; k < b; k++) inConcept[k] = true;
            var triggers = ConTextAssertion.FindTriggers(tokens, 0, tokens.Count, k => inConcept[k], _triggers);
            foreach (var (a, b, concept) in found)
            {
                var assertion = ConTextAssertion.Assess(tokens, 0, tokens.Count, a, b, triggers);
                var laterality = concept.Category == ConceptCategory.RiskFactor ? null : Clinical.Laterality.Of(tokens, 0, tokens.Count, a, b);
                int start = tokens[a].Start, end = tokens[b - 1].End;
                mentions.Add(new ConceptMention(start, end, text[start..end], concept, assertion, laterality, s));
            }
        }
        return new ClinicalAnalysis(sentences, mentions, _phi.Find(text));
    }

    /// <summary>
    /// ConText assertion of the phrase <paramref name="target"/> within <paramref name="sentence"/> (the <c>nlp assert</c>
    /// contract): the target is found case-insensitively with any whitespace between its words (first occurrence), else
    /// word by word with plural tolerance, else as the best partial match (most of its words, in a short window); only
    /// the sentence holding it is in scope. A target not found at all is taken to end the text.
    /// </summary>
    public Assertion Assert(string sentence, string target)
    {
        var (cs, ce) = Locate(sentence, target);
        var spans = SentenceSplitter.Split(sentence);
        int at = spans.FindIndex(s => s.Start <= cs && cs < s.End);
        var span = at < 0 ? new SentenceSpan(0, sentence.Length) : WithHeadings(sentence, spans, at, followingToo: true);
        if (ce <= cs) span = new SentenceSpan(Math.Min(span.Start, cs), Math.Max(span.End, cs));
        var tokens = ClinicalTokenizer.Tokenize(sentence, span.Start, span.End);
        int ts = tokens.FindIndex(t => t.End > cs), te = tokens.FindLastIndex(t => t.Start < ce) + 1;
        if (ts < 0) ts = tokens.Count;
        if (te < ts || ce <= cs) te = ts;
        int a = ts, b = te;
        var triggers = ConTextAssertion.FindTriggers(tokens, 0, tokens.Count, k => k >= a && k < b, _triggers);
        return ConTextAssertion.Assess(tokens, 0, tokens.Count, a, b, triggers);
    }

    /// <summary>
    /// The sentence at <paramref name="at"/> joined with the heading spans before it ("PAST MEDICAL HISTORY:" sets the
    /// context of what follows, as ConText's section-heading triggers do) and, when the sentence is itself a heading
    /// and <paramref name="followingToo"/>, with the span after it ("ESTIMATED BLOOD LOSS: None.").
    /// </summary>
    static SentenceSpan WithHeadings(string text, List<SentenceSpan> spans, int at, bool followingToo)
    {
        int first = at, last = at;
        while (first > 0 && text[spans[first - 1].End - 1] == ':') first--;
        if (followingToo) while (last + 1 < spans.Count && text[spans[last].End - 1] == ':') last++;
        return new SentenceSpan(spans[first].Start, spans[last].End);
    }

    /// <summary>Character span of <paramref name="target"/> in <paramref name="text"/>; (n, n) at the end when absent.</summary>
    public static (int Start, int End) Locate(string text, string target)
    {
        var words = target.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (words.Length > 0)
        {
            var pattern = string.Join(@"\s+", words.Select(Regex.Escape));
            var m = Regex.Match(text, pattern, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
            if (m.Success) return (m.Index, m.Index + m.Length);
        }
        var targetWords = ClinicalTokenizer.Words(target).Select(Key).ToArray();
        var tokens = ClinicalTokenizer.Tokenize(text).Where(t => t.IsWord).ToList();
        if (targetWords.Length == 0 || tokens.Count == 0) return (text.Length, text.Length);
        var keys = tokens.Select(t => Key(t.Norm)).ToArray();
        // Best window: the most target words in order within target-length + 2 tokens; ties go to the first.
        int bestCount = 0, bestStart = -1, bestEnd = -1;
        for (int i = 0; i < keys.Length; i++)
        {
            int matched = 0, next = 0, first = -1, last = -1;
            for (int k = i; k < Math.Min(keys.Length, i + targetWords.Length + 2) && next < targetWords.Length; k++)
            {
                int at = Array.IndexOf(targetWords, keys[k], next);
                if (at < 0) continue;
                matched++; next = at + 1;
                if (first < 0) first = k;
                last = k;
            }
            if (matched > bestCount) { bestCount = matched; bestStart = first; bestEnd = last; }
        }
        return bestCount == 0 ? (text.Length, text.Length) : (tokens[bestStart].Start, tokens[bestEnd].End);
    }

    static string Key(string word) => TextAnalyzer.Stem(word);
}

namespace Casebook.Extract.Clinical;

/// <summary>A lexicon phrase found in a sentence: tokens [Start, End).</summary>
public readonly record struct TriggerMatch(int Start, int End, ContextPhrase Phrase);

/// <summary>
/// The ConText algorithm (Chapman, Chu, Dowling 2007; Harkema et al. 2009) over one sentence:
/// <list type="number">
/// <item>tag the sentence's trigger, pseudo-trigger and termination phrases left to right, longest match first, so a
///   pseudo-trigger ("no increase", "gram negative", "not ruled out") hides the trigger inside it; words of the
///   concepts themselves are never triggers;</item>
/// <item>a pre-concept trigger's scope runs forward to the end of the sentence, stopping at a termination term for its
///   feature ("but", "however", "which", "aside from", "secondary to" …) or at ';' (a period inside a sentence is an abbreviation's, the splitter decided); a post-concept trigger's scope runs
///   back over at most <see cref="ContextLexicon.DefaultBackwardWindow"/> words, with the same stops; a trigger with its
///   own window ("prior": 3 words) reaches no further;</item>
/// <item>a concept inside the scope of a trigger takes its feature.</item>
/// </list>
/// </summary>
public static class ConTextAssertion
{
    /// <summary>Tags the triggers of tokens [from, to); tokens where <paramref name="blocked"/> is true (concept words)
    /// are never part of a trigger.</summary>
    public static List<TriggerMatch> FindTriggers(IReadOnlyList<ClinicalToken> tokens, int from, int to, Func<int, bool>? blocked = null, ContextLexicon? lexicon = null)
    {
        lexicon ??= ContextLexicon.Default;
        var matches = new List<TriggerMatch>();
        int i = from;
        while (i < to)
        {
            if (tokens[i].IsPunctuation || (blocked != null && blocked(i))) { i++; continue; }
            var len = lexicon.Trie.LongestAt(to - i, k => tokens[i + k].IsPunctuation || (blocked != null && blocked(i + k)) ? null : tokens[i + k].Norm, 0, out var values);
            if (len == 0) { i++; continue; }
            var phrase = values[0];
            // "5/7 hx of", "3-day history of": a duration before "history" dates the current complaint, not a past one.
            if (i > from && IsDuration(tokens[i - 1].Norm) && phrase.Actions.Any(a => a.Feature == AssertionFeatures.Historical))
                phrase = DurationPseudo;
            matches.Add(new TriggerMatch(i, i + len, phrase));
            i += len;
        }
        return matches;
    }

    static readonly ContextPhrase DurationPseudo = new("(duration) history") { IsPseudo = true };

    static bool IsDuration(string w) =>
        w is "day" or "days" or "week" or "weeks" or "month" or "months" or "year" or "years" or "hour" or "hours" or "minute"
        || (w.Length >= 3 && w.IndexOf('/') is > 0 and var slash && slash < w.Length - 1 && w.All(c => char.IsDigit(c) || c == '/'));

    /// <summary>The features of the concept at tokens [conceptStart, conceptEnd) of a sentence spanning tokens [from, to).</summary>
    public static Assertion Assess(IReadOnlyList<ClinicalToken> tokens, int from, int to, int conceptStart, int conceptEnd, List<TriggerMatch> triggers)
    {
        var features = AssertionFeatures.None;
        foreach (var m in triggers)
        {
            if (m.Phrase.IsPseudo || m.Phrase.Actions.Count == 0) continue;
            foreach (var a in m.Phrase.Actions)
            {
                if ((features & a.Feature) != 0) continue;
                if (m.End <= conceptStart && a.Direction != TriggerDirection.Backward)
                {
                    if (a.Window > 0 && Words(tokens, m.End, conceptStart) > a.Window) continue;
                    if (Terminated(tokens, triggers, m.End, conceptStart, a.Feature)) continue;
                    if (Countered(tokens, triggers, m.End, conceptStart, a.Feature)) continue;
                    features |= a.Feature;
                }
                else if (m.Start >= conceptEnd && a.Direction != TriggerDirection.Forward)
                {
                    var window = a.Window > 0 ? a.Window : ContextLexicon.DefaultBackwardWindow;
                    if (Words(tokens, conceptEnd, m.Start) > window) continue;
                    if (Terminated(tokens, triggers, conceptEnd, m.Start, a.Feature)) continue;
                    features |= a.Feature;
                }
            }
        }
        return new Assertion(
            (features & AssertionFeatures.Negated) != 0,
            (features & AssertionFeatures.Uncertain) != 0,
            (features & AssertionFeatures.Historical) != 0,
            (features & AssertionFeatures.Hypothetical) != 0,
            (features & AssertionFeatures.Other) != 0);
    }

    static int Words(IReadOnlyList<ClinicalToken> tokens, int from, int to)
    {
        int n = 0;
        for (int i = from; i < to; i++) if (tokens[i].IsWord) n++;
        return n;
    }

    /// <summary>
    /// Negation and uncertainty end each other's forward scope: in "No fever, possible pneumonia" the pneumonia is
    /// possible, not denied, and in "Possible effusion, without consolidation" the consolidation is denied, not possible.
    /// A trigger right after the first one modifies it instead ("not suspicious for": still negated).
    /// </summary>
    static bool Countered(IReadOnlyList<ClinicalToken> tokens, List<TriggerMatch> triggers, int from, int to, AssertionFeatures feature)
    {
        var opposite = feature switch { AssertionFeatures.Negated => AssertionFeatures.Uncertain, AssertionFeatures.Uncertain => AssertionFeatures.Negated, _ => AssertionFeatures.None };
        if (opposite == AssertionFeatures.None) return false;
        foreach (var t in triggers)
            if (t.Start >= from && t.End <= to && !t.Phrase.IsPseudo && Words(tokens, from, t.Start) > 0
                && t.Phrase.Actions.Any(a => a.Feature == opposite && a.Direction != TriggerDirection.Backward))
                return true;
        return false;
    }

    /// <summary>A termination term for <paramref name="feature"/>, or a clause-ending mark, lies in tokens [from, to).</summary>
    static bool Terminated(IReadOnlyList<ClinicalToken> tokens, List<TriggerMatch> triggers, int from, int to, AssertionFeatures feature)
    {
        for (int i = from; i < to; i++)
            if (tokens[i].IsPunctuation && tokens[i].Norm == ";") return true; // sentence ends are already the range's ends
        foreach (var t in triggers)
            if (t.Start >= from && t.End <= to && (t.Phrase.Terminates & feature) != 0) return true;
        return false;
    }
}

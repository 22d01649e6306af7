using System.Collections.Frozen;
using System.Text.RegularExpressions;

namespace Casebook.Extract.Clinical.Phi;

/// <summary>
/// Person names (patients, relatives, clinicians). A capitalised word is a name only with evidence: a title
/// ("Dr.", "Mrs."), a label ("Patient:", "Dictated by", "Dear"), a credential after it (", MD"), a relative before it
/// ("his wife, Mary"), an age or clinical verb after it ("Okafor is a 54-year-old", "Jane presents"), or the
/// name lexicon (a known first name followed by a capitalised word). Words found as names are then looked for
/// everywhere else in the document ("Mr. Okafor" later makes "Okafor" alone a name). Medical words, headings and
/// eponyms ("Parkinson disease", "Murphy sign", "Kerley B lines") are kept out by <see cref="PhiLexicon"/>.
/// </summary>
public static partial class NameFinder
{
    readonly record struct Token(int Start, int End, string Text, bool Possessive = false)
    {
        public string Lower => Text.ToLowerInvariant();
    }

    [GeneratedRegex(@"[A-Za-z][A-Za-z'’]*(?:-[A-Za-z][A-Za-z'’]*)*")]
    private static partial Regex Word();

    static readonly FrozenSet<string> Titles = new[] { "dr", "mr", "mrs", "ms", "miss", "mx", "prof", "professor", "doctor", "dra", "mister", "madam", "mme", "mlle", "sir", "dame" }.ToFrozenSet();

    static readonly FrozenSet<string> Particles = new[] { "van", "von", "de", "der", "den", "del", "della", "da", "di", "du", "la", "le", "bin", "ibn", "al", "el", "ter", "ten", "y", "dos", "das" }.ToFrozenSet();

    /// <summary>Nouns that follow a person's possessive ("Sharma's wound") and not an eponym's ("Parkinson's disease", "Driver's license").</summary>
    static readonly FrozenSet<string> PersonalNouns = """
        wife husband son daughter mother father brother sister partner spouse children child kids family parents friend boyfriend girlfriend
        caregiver carer house home apartment room bed car job work employer school teacher doctor physician nurse pcp gp appointment visit
        visits admission stay discharge medications meds medication insurance chart record records labs results wound wounds incision
        symptoms pain condition health care case history story concerns concern questions question wishes goals preference preferences
        consent signature phone number address birthday surgery procedure recovery course progress mood sleep appetite weight diet
        blood pressure sugar sugars vitals exam examination daughter-in-law son-in-law granddaughter grandson
        """.Split([' ', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries).ToFrozenSet(StringComparer.Ordinal);

    /// <summary>Words that end a name right after a title ("Dr. The…" is not a name); looser than <see cref="PhiLexicon.NotName"/>.</summary>
    static readonly FrozenSet<string> FunctionWords = new[]
    {
        "a", "an", "the", "and", "or", "of", "in", "on", "at", "to", "for", "with", "by", "from", "his", "her", "their", "our", "my", "your",
        "he", "she", "they", "it", "is", "was", "were", "has", "had", "have", "will", "would", "said", "says", "who", "which", "that", "this",
        "office", "note", "notes", "clinic", "if", "but", "so", "as", "reviewed", "electronically", "signed", "thank", "thanks", "dictated", "service", "team", "group", "recommended", "recommends", "saw", "sees", "md", "do", "rn",
    }.ToFrozenSet();

    const string Relations = @"(?:(?:older|younger|elder|eldest|late|ex-?|step-?|twin|adult|adoptive|foster)\s*)?(?:wife|husband|son|daughter|mother|mom|mum|father|dad|brother|sister|partner|spouse|friend|fianc[eé]e?|boyfriend|girlfriend|caregiver|carer|niece|nephew|aunt|uncle|grandson|granddaughter|grandmother|grandfather|grandma|grandpa|cousin|neighbou?r|roommate|guardian|child|sibling|sister-in-law|brother-in-law|mother-in-law|father-in-law|son-in-law|daughter-in-law)";

    // Labels after which a name follows: "Patient: …", "Dictated by …", "Dear …", "cc: …".
    [GeneratedRegex(@"(?:^|(?<=[\s;|(\[]))(?<!(?:model|brand|product|trade|generic|drug|device|file|user|study|test|procedure)\s)(?:(?:patient|pt|client|resident)(?:'s)?(?:\s+(?:full\s+)?name)?|name|full\s+name|attending(?:\s+(?:physician|doctor|surgeon|radiologist))?|physician|provider|surgeon|primary\s+surgeon|assistant(?:\s+surgeon)?|co-?surgeon|referring(?:\s+(?:physician|doctor|provider|clinician))?|ordering(?:\s+(?:physician|provider|clinician))?|pcp|gp|primary\s+care(?:\s+(?:physician|provider|doctor))?|consultant|consulting\s+physician|radiologist|pathologist|anesthesiologist|anaesthetist|cardiologist|oncologist|resident|fellow|intern|nurse|rn|np|technologist|tech|sonographer|therapist|clinician|doctor|author|interpreter|contact|emergency\s+contact|next\s+of\s+kin|nok|guardian|caregiver|mother|father|spouse|parent|informant|historian|witness|attn|to|from)\s*:\s*(?=\S)|(?:^|(?<=[\s;(]))(?-i:cc)\s*:\s*|\b" + Relations + @"\s*:\s*(?=[A-Z])|\b(?:dictated|signed|electronically\s+signed|e-?signed|transcribed|reviewed|verified|read|interpreted|reported|co-?signed|approved|authenticated|seen|evaluated|examined|referred|attended|assisted|accompanied|performed|prepared|written|entered|ordered|cared\s+for|supervised|covered|staffed|interviewed|counseled|counselled|treated|managed)\s+by\s*:?\s*|\b(?:discussed|spoke|spoken|talked|consulted|met|conferred|communicated|reviewed|staffed)\s+with\s+(?:(?:his|her|their|the\s+patient's)\s+" + Relations + @"\s*,?\s*)?|\b(?:Dear|Attn\.?|Thanks|Thank\s+you|Regards|Sincerely|Cheers),?\s+(?=[A-Z])|(?:^|(?<=\n))\s*/s/\s*|(?-i:\b(?:Dr|dr|DR)[ \t]*\.?[ \t]*(?=[A-Z])|\b(?:Mr|Mrs|Ms|Mx|Prof)\.?\s+(?=[A-Z])|\b(?:MR|MRS|MS)\.\s*(?=[A-Z])|\b(?:Miss|Professor|Doctor|Mister)\s+(?=[A-Z]))", RegexOptions.IgnoreCase | RegexOptions.Multiline)]
    private static partial Regex LabelCue();

    [GeneratedRegex(@"\b(?:call|called|calling|phone|phoned|e-?mail|e-?mailed|text|texted|notify|notified|inform|informed|tell|told|ask|asked|remind|reminded|thank|thanked|reassure|reassured|counsel|counseled|counselled|advise|advised|instruct|instructed|update|updated|meet|met|introduced)\s+(?=[A-Z])")]
    private static partial Regex ObjectVerb();

    [GeneratedRegex(@"\b(?:his|her|their|the\s+patient's|patient's|pt's|my|your|whose|a|the)\s+" + Relations + @"\s*,?\s*(?:\(\s*)?(?:named\s+|is\s+|was\s+)?(?=[A-Z])", RegexOptions.IgnoreCase)]
    private static partial Regex RelativeBefore();

    // After a name: a credential (", MD"), a relation ("(daughter)", ", her husband"), an age or a clinical verb.
    [GeneratedRegex(@"^(?:,?\s*(?:M\.?D\.?|D\.?O\.?|R\.?N\.?|N\.?P\.?|FNP(?:-[A-Z]+)?|ANP|APRN|DNP|PA-C|P\.?A\.?|Ph\.?D\.?|MBBS|MBChB|MRCGP|FRCR|FRCP|FRCS|MRCP|FACP|FACS|FACC|FACR|FAAP|CNM|CRNA|LPN|LVN|PharmD|DPM|DDS|DMD|MSW|LCSW|DPT|OTR|RRT|MPH|MSN|BSN|CNP|RPA-C)(?![A-Za-z])|\s*\(\s*" + Relations + @"\s*[:)]|,\s+(?:his|her|their|the\s+patient's)\s+" + Relations + @"\b|,?\s+(?:is|was)\s+an?\s+\d{1,3}[- ](?:year|yr|month|week|day)|,\s+an?\s+\d{1,3}[- ]?(?:year|yr|y/o|yo)|,\s+(?:age|aged)\s+\d|\s+\(\s*(?:DOB|D\.O\.B|age|MRN|\d{1,3}\s*(?:yo|y/o|years?|M|F)\b)|\s+(?:presents|presented|reports|reported|states|stated|returns|returned|comes|came|was\s+seen|is\s+seen|was\s+admitted|is\s+admitted|is\s+here|was\s+here|denies|denied|complains|complained|arrived|underwent|was\s+referred|is\s+referred|agrees|agreed|understands|verbalized|verbalizes|lives|lived|works|worked|admits|visited|called|telephoned|phoned|is\s+a\s+pleasant|is\s+an?\s+(?:\d|male|female|man|woman|boy|girl|gentleman|lady|retired|married|single|widowed)|has\s+a\s+history|has\s+had|had\s+a\s+history|will\s+follow|will\s+return|was\s+discharged|is\s+discharged|wishes|wants|requests|requested|declined|declines|consented|consents|signed)\b)", RegexOptions.IgnoreCase)]
    private static partial Regex EvidenceAfter();

    /// <summary>Name spans (start, end) in <paramref name="text"/>, possibly overlapping; the detector merges them.</summary>
    public static List<(int Start, int End)> Find(string text)
    {
        var tokens = new List<Token>();
        foreach (Match m in Word().Matches(text))
        {
            var end = m.Index + m.Length;
            // "Smith's" → "Smith": the possessive is not part of the name.
            var possessive = m.Length > 3 && (m.Value.EndsWith("'s", StringComparison.Ordinal) || m.Value.EndsWith("’s", StringComparison.Ordinal));
            if (possessive) end -= 2;
            else if (m.Length > 2 && m.Value[^1] is '\'' or '’') end -= 1;
            tokens.Add(new Token(m.Index, end, text[m.Index..end], possessive));
        }
        var found = new List<(int, int)>();
        if (tokens.Count == 0) return found;
        var starts = tokens.Select(t => t.Start).ToArray();

        int TokenAt(int offset)
        {
            var i = Array.BinarySearch(starts, offset);
            return i >= 0 ? i : -1;
        }
        // Label cues, titles, relatives before a name.
        foreach (Match m in LabelCue().Matches(text))
        {
            var at = m.Index + m.Length;
            while (at < text.Length && text[at] is ' ' or '\t') at++;
            var i = TokenAt(at);
            if (i < 0) continue;
            var isTitle = IsTitleCue(m.Value);
            if (isTitle && Titles.Contains(tokens[i].Lower)) continue; // "with Dr  Mrs. Smith": the next title starts its own cue
            if (!isTitle && Titles.Contains(tokens[i].Lower) && i + 1 < tokens.Count)
            {
                // "Dictated by Dr. Smith": skip the title and its dot.
                i++;
                isTitle = true;
            }
            var allCaps = !isTitle || m.Value.Any(char.IsUpper);
            if (ReadRun(text, tokens, i, isTitle ? Strictness.AfterTitle : Strictness.AfterLabel, allowCaps: true, allowLastFirst: !isTitle) is { } run)
                found.Add(run);
        }
        foreach (Match m in RelativeBefore().Matches(text))
        {
            var i = TokenAt(m.Index + m.Length);
            if (i >= 0 && ReadRun(text, tokens, i, Strictness.Strict, allowCaps: false, allowLastFirst: false) is { } run) found.Add(run);
        }
        // A person as the object of a verb of speaking or contact: "Will call Agnieszka", "told Okonkwo".
        foreach (Match m in ObjectVerb().Matches(text))
        {
            var i = TokenAt(m.Index + m.Length);
            if (i >= 0 && ReadRun(text, tokens, i, Strictness.Strict, allowCaps: false, allowLastFirst: false) is { } run) found.Add(run);
        }
        // A possessive before a common noun: "Sharma's wound", "Okafor's daughter" (but "Parkinson's disease", "Ringer's lactate").
        for (var i = 0; i + 1 < tokens.Count; i++)
        {
            var t = tokens[i];
            if (!t.Possessive || !IsTitleCase(t.Text) || PhiLexicon.NotName.Contains(t.Lower) || PhiLexicon.Eponyms.Contains(t.Lower)) continue;
            var next = tokens[i + 1];
            if (next.Start - t.End > 4 || !PersonalNouns.Contains(next.Text) || WeakSingleWord(t, "")) continue;
            var first = i;
            if (i > 0 && JoinsName(text, tokens[i - 1], t) && IsTitleCase(tokens[i - 1].Text) && IsNameWord(tokens[i - 1], Strictness.Strict, false)) first = i - 1;
            found.Add((tokens[first].Start, t.End));
        }
        // Evidence after a run of capitalised words: credentials, relations, ages, clinical verbs.
        for (var i = 0; i < tokens.Count; i++)
        {
            if (!IsCapitalised(tokens[i].Text) || PhiLexicon.NotName.Contains(tokens[i].Lower)) continue;
            var j = i;
            while (j + 1 < tokens.Count && j - i < 3 && JoinsName(text, tokens[j], tokens[j + 1]) && IsNameWord(tokens[j + 1], Strictness.Strict, false)) j++;
            // Try the longest run first, then shorter ones ending earlier, so "Jane Doe presents" and "Jane presents" both work.
            for (var k = j; k >= i; k--)
            {
                var after = text.AsSpan(tokens[k].End);
                if (after.Length > 160) after = after[..160];
                var evidence = EvidenceAfter().Match(after.ToString());
                if (!evidence.Success) continue;
                var run = TrimRun(tokens, i, k, Strictness.Strict);
                if (run is { } r && !IsEponymUse(text, tokens, r.First, r.Last) && !(r.First == r.Last && WeakSingleWord(tokens[r.First], evidence.Value)))
                    found.Add((tokens[r.First].Start, tokens[r.Last].End));
                break;
            }
        }
        // Lexicon: a known first name followed by a capitalised word ("Maria Okafor", "Maria J. Okafor").
        for (var i = 0; i + 1 < tokens.Count; i++)
        {
            var t = tokens[i];
            if (!IsTitleCase(t.Text) || !PhiLexicon.FirstNameSet.Contains(t.Lower) || PhiLexicon.NotName.Contains(t.Lower)) continue;
            var k = i + 1;
            if (IsInitial(text, tokens[k]) && k + 1 < tokens.Count && JoinsName(text, tokens[i], tokens[k])) k++;
            var prev = k - 1;
            if (!JoinsName(text, tokens[prev], tokens[k]) || !IsTitleCase(tokens[k].Text) || !IsNameWord(tokens[k], Strictness.Strict, false)) continue;
            if (PhiLexicon.Eponyms.Contains(t.Lower) && PhiLexicon.Eponyms.Contains(tokens[k].Lower)) continue; // "Jackson Pratt drain"
            if (PhiLexicon.EponymHeads.Contains(tokens[k].Lower)) continue; // "Blake Drain"
            if (IsEponymUse(text, tokens, i, k)) continue;
            found.Add((t.Start, tokens[k].End));
        }
        Propagate(text, tokens, found);
        return found;
    }

    /// <summary>
    /// One capitalised word before a verb ("Calcification is seen", "Occasionally has had") is a name only if it is in the
    /// name lexicon or does not look like an English word by its ending (-ly, -tion, -ment, …); credentials and ages are strong enough alone.
    /// </summary>
    static bool WeakSingleWord(Token t, string evidence)
    {
        var e = evidence.TrimStart();
        var strong = e.Length > 0 && (e[0] is ',' or '(' || char.IsUpper(e[0]));
        if (strong) return false;
        if (PhiLexicon.FirstNameSet.Contains(t.Lower) || PhiLexicon.LastNameSet.Contains(t.Lower)) return false;
        if (PhiLexicon.Eponyms.Contains(t.Lower) || IsAllCaps(t.Text)) return true;
        foreach (var end in (ReadOnlySpan<string>)["ly", "tion", "sion", "ment", "ness", "ity", "ous", "ive", "ing", "ed", "al", "ic", "ure", "ence", "ance", "ism", "ist", "ary", "ory", "ful", "less", "able", "ible", "ize", "ise", "ate"])
            if (t.Lower.Length > end.Length + 2 && t.Lower.EndsWith(end, StringComparison.Ordinal)) return true;
        return false;
    }

    static bool IsTitleCue(string cue)
    {
        var c = cue.Trim().TrimEnd('.').Trim().ToLowerInvariant();
        return Titles.Contains(c);
    }

    enum Strictness { AfterTitle, AfterLabel, Strict }

    static bool IsTitleCase(string w) => w.Length >= 2 && char.IsUpper(w[0]) && w.Skip(1).Any(char.IsLower) && !w.Skip(1).All(char.IsUpper);
    static bool IsAllCaps(string w) => w.Length >= 2 && w.All(c => !char.IsLetter(c) || char.IsUpper(c));
    static bool IsCapitalised(string w) => w.Length >= 1 && char.IsUpper(w[0]);
    static bool IsInitial(string text, Token t) => t.Text.Length == 1 && char.IsUpper(t.Text[0]) && t.End < text.Length && text[t.End] == '.';

    static bool IsNameWord(Token t, Strictness s, bool allowCaps)
    {
        var w = t.Text;
        if (!(IsTitleCase(w) || (allowCaps && IsAllCaps(w)) || (w.Length == 1 && char.IsUpper(w[0])))) return false;
        return s == Strictness.AfterTitle ? !FunctionWords.Contains(t.Lower) : !PhiLexicon.NotName.Contains(t.Lower);
    }

    // Two tokens belong to one name when only spaces (or an initial's full stop) separate them, on one line.
    static bool JoinsName(string text, Token a, Token b)
    {
        var gap = text.AsSpan(a.End, b.Start - a.End);
        if (gap.Length == 0 || gap.Length > 3) return false;
        if (gap.IndexOfAny("\n\r,;:") >= 0) return false;
        var dots = gap.Count('.');
        if (dots > 0 && !(dots == 1 && gap[0] == '.' && (a.Text.Length == 1 || a.Text.Length == 2 && char.IsUpper(a.Text[1])))) return false;
        return gap.Trim(". ").Length == 0 && gap.Contains(' ');
    }

    /// <summary>A run of name words from token <paramref name="i"/>: up to 4 words (particles and initials allowed), or "Last, First".</summary>
    static (int, int)? ReadRun(string text, List<Token> tokens, int i, Strictness s, bool allowCaps, bool allowLastFirst)
    {
        if (i >= tokens.Count || !IsNameWord(tokens[i], s, allowCaps)) return null;
        var j = i;
        var words = 1;
        while (j + 1 < tokens.Count && words < 4)
        {
            var next = tokens[j + 1];
            if (!JoinsName(text, tokens[j], next)) break;
            if (Particles.Contains(next.Text) && j + 2 < tokens.Count && JoinsName(text, next, tokens[j + 2]) && IsNameWord(tokens[j + 2], s, allowCaps)) { j += 2; words++; continue; }
            if (!IsNameWord(next, s == Strictness.AfterTitle ? Strictness.AfterLabel : s, allowCaps)) break;
            j++;
            words++;
        }
        // "Patient: Okafor, Maria" — surname, comma, given name(s).
        if (allowLastFirst && j == i && j + 1 < tokens.Count)
        {
            var gap = text.AsSpan(tokens[j].End, tokens[j + 1].Start - tokens[j].End);
            if (gap.Trim(' ').SequenceEqual(",") && IsNameWord(tokens[j + 1], s, allowCaps) && !LooksLikePlace(text, tokens[j + 1]))
            {
                j++;
                while (j + 1 < tokens.Count && JoinsName(text, tokens[j], tokens[j + 1]) && IsNameWord(tokens[j + 1], s, allowCaps) && j - i < 3) j++;
            }
        }
        if (s != Strictness.AfterTitle && (IsEponymUse(text, tokens, i, j) || i == j && PhiLexicon.Eponyms.Contains(tokens[i].Lower))) return null;
        // A label followed by one all-caps word ("Name: CHEST") needs a second word to count.
        if (j == i && IsAllCaps(tokens[i].Text) && s != Strictness.AfterTitle && !PhiLexicon.FirstNameSet.Contains(tokens[i].Lower) && !PhiLexicon.LastNameSet.Contains(tokens[i].Lower)) return null;
        return (tokens[i].Start, tokens[j].End);
    }

    static bool LooksLikePlace(string text, Token t) => LocationPatterns.AboveStateLevel.Contains(t.Text) || t.Text.Length == 2 && IsAllCaps(t.Text);

    static (int First, int Last)? TrimRun(List<Token> tokens, int i, int k, Strictness s)
    {
        while (i <= k && !IsNameWord(tokens[i], s, false)) i++;
        return i <= k ? (i, k) : null;
    }

    /// <summary>"Parkinson disease", "Murphy's sign", "Kerley B lines": a capitalised run followed by an eponym head noun.</summary>
    static bool IsEponymUse(string text, List<Token> tokens, int first, int last)
    {
        var n = last + 1;
        // Skip a single capital letter ("Kerley B lines") and a possessive already cut from the token.
        if (n < tokens.Count && tokens[n].Text.Length == 1 && n + 1 < tokens.Count) n++;
        if (n < tokens.Count && tokens[n].Start - tokens[n - 1].End <= 4 && PhiLexicon.EponymHeads.Contains(tokens[n].Lower)) return true;
        // "Guillain-Barré" style pairs, "Chiari I": both words eponyms.
        for (var i = first; i <= last; i++)
            if (!PhiLexicon.Eponyms.Contains(tokens[i].Lower)) return false;
        return last > first;
    }

    /// <summary>Every other occurrence of a word already found in a name (same capitalisation) is that name again.</summary>
    static void Propagate(string text, List<Token> tokens, List<(int Start, int End)> found)
    {
        if (found.Count == 0) return;
        var words = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (s, e) in found)
            foreach (Match w in Word().Matches(text[s..e]))
            {
                var v = w.Value.EndsWith("'s") || w.Value.EndsWith("’s") ? w.Value[..^2] : w.Value;
                if (v.Length < 2 || Titles.Contains(v.ToLowerInvariant()) || PhiLexicon.NotName.Contains(v.ToLowerInvariant()) || Particles.Contains(v)) continue;
                if (!IsTitleCase(v) && !IsAllCaps(v)) continue;
                if (v.All(c => c is 'X' or 'x')) continue; // "XXXX": a redaction mark, not a name to look for
                words.Add(v.ToLowerInvariant());
            }
        if (words.Count == 0) return;
        for (var i = 0; i < tokens.Count; i++)
        {
            var t = tokens[i];
            if (!words.Contains(t.Lower) || !(IsTitleCase(t.Text) || IsAllCaps(t.Text))) continue;
            if (IsEponymUse(text, tokens, i, i) && PhiLexicon.Eponyms.Contains(t.Lower)) continue;
            found.Add((t.Start, t.End));
        }
    }
}

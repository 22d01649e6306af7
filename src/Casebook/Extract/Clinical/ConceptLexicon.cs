namespace Casebook.Extract.Clinical;

/// <summary>Category of a lexicon concept; the string form is the study field it fills.</summary>
public static class ConceptCategory
{
    public const string Finding = "finding";
    public const string Anatomy = "anatomy";
    public const string RiskFactor = "risk_factor";
}

/// <summary>A concept of the curated lexicon: preferred term, category, ICD-10-CM codes (dotted) and SNOMED CT id.</summary>
public sealed record ClinicalConceptEntry(string Term, string Category, IReadOnlyList<string> Codes, string? Snomed, IReadOnlyList<string> Synonyms);

/// <summary>A surface form of a concept: <see cref="RequiresCapitals"/> for short abbreviations ("PE", "MI", "AF") that
/// are ordinary words or other senses in lower case.</summary>
public readonly record struct ConceptSurface(ClinicalConceptEntry Concept, bool RequiresCapitals);

/// <summary>
/// The curated concept lexicon (<c>concepts.tsv</c>, embedded, written for Casebook): pathology findings, anatomical
/// regions and risk factors with synonyms, ICD-10-CM codes and SNOMED CT ids where well known, plus the clinical
/// abbreviations of <see cref="ClinicalAbbreviations"/> whose long form is a concept. Surface forms are stored as
/// token sequences in a <see cref="TokenTrie{T}"/>; matching is longest-match over normalised tokens, with a plural
/// "s"/"es" tolerated on the last word.
/// </summary>
public sealed class ConceptLexicon
{
    public IReadOnlyList<ClinicalConceptEntry> Concepts { get; }
    public TokenTrie<ConceptSurface> Trie { get; } = new();

    static readonly Lazy<ConceptLexicon> DefaultInstance = new(() => Load(ContextLexicon.OpenResource("concepts.tsv"), "concepts.tsv"));
    public static ConceptLexicon Default => DefaultInstance.Value;

    ConceptLexicon(List<ClinicalConceptEntry> concepts)
    {
        Concepts = concepts;
        var byForm = new Dictionary<string, ClinicalConceptEntry>(StringComparer.Ordinal);
        foreach (var c in concepts)
            foreach (var form in c.Synonyms.Prepend(c.Term))
            {
                var words = ClinicalTokenizer.Words(form);
                if (words.Length == 0) continue;
                var key = string.Join(' ', words);
                if (!byForm.TryAdd(key, c)) continue; // the first concept listing a form owns it
                Trie.Add(words, new ConceptSurface(c, IsShortAbbreviation(words)));
            }
        // Abbreviations from the shared table whose expansion is a known form ("cxr" is not a concept; "sob" is dyspnea).
        foreach (var (abbreviation, expansions) in ClinicalAbbreviations.Default.Entries)
        {
            if (byForm.ContainsKey(abbreviation)) continue;
            foreach (var e in expansions)
                if (byForm.TryGetValue(string.Join(' ', ClinicalTokenizer.Words(e)), out var c))
                {
                    byForm[abbreviation] = c;
                    Trie.Add(ClinicalTokenizer.Words(abbreviation), new ConceptSurface(c, true));
                    break;
                }
        }
    }

    /// <summary>One word of at most three letters ("pe", "mi", "af", "uti") must be written in capitals to count.</summary>
    static bool IsShortAbbreviation(string[] words) => words.Length == 1 && words[0].Length <= 3 && words[0].All(char.IsLetter);

    public static ConceptLexicon Load(Stream stream, string name)
    {
        var list = new List<ClinicalConceptEntry>();
        using var reader = new StreamReader(stream);
        int lineNo = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNo++;
            if (line.Length == 0 || line[0] == '#') continue;
            var f = line.Split('\t');
            if (f.Length < 2 || f[1].Trim().Length == 0) throw new FormatException($"{name}:{lineNo}: expected 'category<TAB>term<TAB>synonyms<TAB>icd10<TAB>snomed'");
            var category = f[0].Trim();
            if (category is not (ConceptCategory.Finding or ConceptCategory.Anatomy or ConceptCategory.RiskFactor))
                throw new FormatException($"{name}:{lineNo}: unknown category '{category}' (finding, anatomy, risk_factor)");
            string Field(int k) => f.Length > k ? f[k].Trim() : "";
            list.Add(new ClinicalConceptEntry(
                f[1].Trim().ToLowerInvariant(), category,
                Field(3).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                Field(4).Length > 0 ? Field(4) : null,
                Field(2).Split('|', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)));
        }
        return new ConceptLexicon(list);
    }

    /// <summary>Concept mentions in tokens [from, to): longest match at each position, left to right, non-overlapping.</summary>
    public List<(int Start, int End, ClinicalConceptEntry Concept)> Match(string text, IReadOnlyList<ClinicalToken> tokens, int from, int to)
    {
        var found = new List<(int, int, ClinicalConceptEntry)>();
        int i = from;
        while (i < to)
        {
            if (tokens[i].IsPunctuation) { i++; continue; }
            int len = Trie.LongestAt(to - i, k => tokens[i + k].IsPunctuation ? null : tokens[i + k].Norm, 0, out var values);
            // Plural or possessive on the last word: "effusions", "masses", "infiltrates" when only the singular is listed.
            for (int extra = 1; extra <= 6 && i + extra <= to; extra++)
            {
                int last = i + extra - 1;
                if (tokens[last].IsPunctuation) break;
                var singular = Singular(tokens[last].Norm);
                if (singular == null || extra <= len) continue;
                int l2 = Trie.LongestAt(extra, k => i + k == last ? singular : tokens[i + k].IsPunctuation ? null : tokens[i + k].Norm, 0, out var v2);
                if (l2 == extra) { len = l2; values = v2; }
            }
            ConceptSurface? chosen = null;
            foreach (var v in values)
                if (!v.RequiresCapitals || (len == 1 && IsCapitalised(text, tokens[i]) && !IsHeading(tokens, i + 1, to))) { chosen = v; break; }
            if (len == 0 || chosen == null) { i++; continue; }
            found.Add((i, i + len, chosen.Value.Concept));
            i += len;
        }
        return found;
    }

    static string? Singular(string w)
    {
        if (w.Length > 4 && w.EndsWith("es", StringComparison.Ordinal) && (w[^3] is 's' or 'x' or 'h')) return w[..^2];
        if (w.Length > 3 && w.EndsWith('s') && !w.EndsWith("ss", StringComparison.Ordinal) && !w.EndsWith("is", StringComparison.Ordinal)) return w[..^1];
        if (w.EndsWith("'s", StringComparison.Ordinal)) return w[..^2];
        return null;
    }

    static bool IsCapitalised(string text, ClinicalToken t)
    {
        for (int k = t.Start; k < t.End; k++) if (char.IsLetter(text[k]) && !char.IsUpper(text[k])) return false;
        return true;
    }

    /// <summary>"PE:" is the physical-exam heading, not a pulmonary embolism.</summary>
    static bool IsHeading(IReadOnlyList<ClinicalToken> tokens, int next, int to) => next < to && tokens[next].Norm == ":";
}

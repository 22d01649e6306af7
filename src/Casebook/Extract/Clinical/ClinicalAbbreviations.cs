using Casebook.Search.Text;

namespace Casebook.Extract.Clinical;

/// <summary>
/// Clinical abbreviations and their long forms: the search table of <see cref="MedicalQueryExpansion"/> (SOB, CHF, MI,
/// COPD, DVT, HTN, CAD, AF/afib, CVA, UTI, …; one table for search and text analysis) plus the shorthand of notes that
/// search does not expand (s/p, r/o, h/o, c/o, b.i.d., PMH, …). Concept matching adds an abbreviation as a surface form of
/// the concept its long form names; ConText's trigger lexicon lists the shorthand triggers ("s/p", "r/o") itself.
/// </summary>
public sealed class ClinicalAbbreviations
{
    static readonly (string Abbreviation, string[] Senses)[] NoteShorthand =
    [
        ("s/p", ["status post"]), ("r/o", ["rule out"]), ("h/o", ["history of"]), ("c/o", ["complains of"]), ("w/o", ["without"]),
        ("b.i.d", ["twice a day"]), ("t.i.d", ["three times a day"]), ("q.i.d", ["four times a day"]), ("q.d", ["every day"]),
        ("bid", ["twice a day"]), ("tid", ["three times a day"]), ("qid", ["four times a day"]), ("qd", ["every day"]),
        ("prn", ["as needed"]), ("p.r.n", ["as needed"]), ("po", ["by mouth"]), ("p.o", ["by mouth"]), ("yo", ["year old"]),
        ("pmh", ["past medical history"]), ("psh", ["past surgical history"]), ("fhx", ["family history"]), ("shx", ["social history"]),
        ("nkda", ["no known drug allergies"]), ("etoh", ["alcohol"]), ("t2dm", ["type 2 diabetes mellitus"]), ("t1dm", ["type 1 diabetes mellitus"]),
        ("a fib", ["atrial fibrillation"]), ("hld", ["hyperlipidemia"]), ("n/v", ["nausea and vomiting"]), ("abx", ["antibiotics"]),
        ("sob", ["shortness of breath"]), ("doe", ["dyspnea on exertion"]), ("pna", ["pneumonia"]), ("ptx", ["pneumothorax"]),
    ];

    static readonly Lazy<ClinicalAbbreviations> DefaultInstance = new(() => new ClinicalAbbreviations());
    public static ClinicalAbbreviations Default => DefaultInstance.Value;

    readonly Dictionary<string, List<string>> _byAbbreviation = new(StringComparer.OrdinalIgnoreCase);

    ClinicalAbbreviations()
    {
        foreach (var (a, senses) in MedicalQueryExpansion.Abbreviations.Concat(NoteShorthand))
        {
            if (!_byAbbreviation.TryGetValue(a, out var list)) _byAbbreviation[a] = list = new List<string>();
            foreach (var s in senses) if (!list.Contains(s)) list.Add(s);
        }
    }

    /// <summary>Every abbreviation with its long forms (first = preferred).</summary>
    public IEnumerable<(string Abbreviation, IReadOnlyList<string> Expansions)> Entries =>
        _byAbbreviation.Select(kv => (kv.Key, (IReadOnlyList<string>)kv.Value));

    /// <summary>Long forms of an abbreviation ("SOB" → "shortness of breath", "dyspnea"); empty when unknown.</summary>
    public IReadOnlyList<string> Expand(string abbreviation) =>
        _byAbbreviation.TryGetValue(abbreviation.Trim().TrimEnd('.'), out var list) ? list : [];
}

namespace Casebook.Extract.Clinical.Phi;

/// <summary>
/// Rule-based detector of HIPAA Safe Harbor identifiers in free text: names (<see cref="NameFinder"/>), locations
/// (<see cref="LocationPatterns"/>), dates (<see cref="DateText"/>) and numbers, contacts and ages
/// (<see cref="IdentifierPatterns"/>). Overlapping candidates are resolved longest first; on equal spans the more
/// specific type wins (a labelled MRN over a bare long number). Stateless and thread-safe.
/// </summary>
public sealed class PhiDetector : IPhiDetector
{
    public static PhiDetector Default { get; } = new();

    static int Priority(string type) => type switch
    {
        PhiType.Mrn or PhiType.Ssn or PhiType.HealthPlan or PhiType.Account or PhiType.License or PhiType.Vehicle or PhiType.Device => 100,
        PhiType.Email => 95,
        PhiType.Url => 94,
        PhiType.Ip => 93,
        PhiType.Date => 90,
        PhiType.Phone or PhiType.Fax => 85,
        PhiType.Age => 80,
        PhiType.Address => 75,
        PhiType.Facility => 70,
        PhiType.Zip => 65,
        PhiType.Name => 60,
        PhiType.City => 55,
        _ => 10, // ID
    };

    public IReadOnlyList<PhiSpan> Find(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length == 0) return [];
        var candidates = new List<(int Start, int End, string Type)>();
        candidates.AddRange(IdentifierPatterns.Find(text));
        foreach (var (s, e) in DateText.Find(text)) candidates.Add((s, e, PhiType.Date));
        candidates.AddRange(LocationPatterns.Find(text));
        foreach (var (s, e) in NameFinder.Find(text)) candidates.Add((s, e, PhiType.Name));
        return Resolve(candidates);
    }

    static List<PhiSpan> Resolve(List<(int Start, int End, string Type)> candidates)
    {
        candidates.RemoveAll(c => c.End <= c.Start);
        candidates.Sort((a, b) =>
        {
            var c = (b.End - b.Start).CompareTo(a.End - a.Start);
            if (c != 0) return c;
            c = Priority(b.Type).CompareTo(Priority(a.Type));
            return c != 0 ? c : a.Start.CompareTo(b.Start);
        });
        var taken = new List<PhiSpan>();
        foreach (var (s, e, type) in candidates)
        {
            var overlaps = false;
            foreach (var t in taken)
                if (s < t.End && t.Start < e) { overlaps = true; break; }
            if (!overlaps) taken.Add(new PhiSpan(s, e, type));
        }
        taken.Sort((a, b) => a.Start.CompareTo(b.Start));
        return taken;
    }
}

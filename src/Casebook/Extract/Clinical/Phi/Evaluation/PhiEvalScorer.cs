namespace Casebook.Extract.Clinical.Phi.Evaluation;

/// <summary>A reviewed identifier already present in a base text (e.g. a doctor's name in an MTSamples transcription).</summary>
public sealed record BaseAnnotation(string Source, int Start, int End, string Type);

/// <summary>Recall and precision of one category: counts and ratios.</summary>
public sealed record PhiCategoryScore(string Category, int Gold, int Recalled, int RecalledTyped, int Detected, int TruePositive, int BaseTruePositive)
{
    public double Recall => Gold == 0 ? double.NaN : (double)Recalled / Gold;
    public double TypedRecall => Gold == 0 ? double.NaN : (double)RecalledTyped / Gold;
    /// <summary>Detections that overlap an inserted label, over all detections (base-text identifiers count against it).</summary>
    public double StrictPrecision => Detected == 0 ? double.NaN : (double)TruePositive / Detected;
    /// <summary>As <see cref="StrictPrecision"/>, with reviewed identifiers of the base text counted as true.</summary>
    public double Precision => Detected == 0 ? double.NaN : (double)(TruePositive + BaseTruePositive) / Detected;
}

/// <summary>A detection that matched no label: where, what, and a little context (for review).</summary>
public sealed record PhiFalsePositive(string Source, int BaseStart, int BaseEnd, string Type, string Text, string Context);

public sealed class PhiEvalResult
{
    public required IReadOnlyList<PhiCategoryScore> Categories { get; init; }
    public required PhiCategoryScore All { get; init; }
    public required IReadOnlyList<PhiFalsePositive> FalsePositives { get; init; }
    public required IReadOnlyList<(string Source, GoldSpan Gold, string Text)> Misses { get; init; }
    public PhiCategoryScore this[string category] => Categories.First(c => c.Category == category);
}

/// <summary>
/// Scores a detector on <see cref="PhiEvalNote"/>s. A label counts as recalled when detected spans (of any type)
/// cover every non-space character of it: partly masked names leak, so they are misses. "Typed" recall also needs a
/// covering span of the same category. A detection is a true positive when it overlaps a label.
/// </summary>
public static class PhiEvalScorer
{
    /// <summary>The categories the floors name (NAME, DATE, ID) and the rest.</summary>
    public static string Category(string type) =>
        type == PhiType.Name ? "NAME"
        : type == PhiType.Date ? "DATE"
        : PhiType.IsIdNumber(type) ? "ID"
        : PhiType.IsLocation(type) ? "LOCATION"
        : type is PhiType.Phone or PhiType.Fax or PhiType.Email or PhiType.Url or PhiType.Ip ? "CONTACT"
        : type == PhiType.Age ? "AGE" : "OTHER";

    public static readonly string[] Categories = ["NAME", "DATE", "ID", "LOCATION", "CONTACT", "AGE"];

    public static PhiEvalResult Score(IReadOnlyList<PhiEvalNote> notes, IPhiDetector detector, IReadOnlyCollection<BaseAnnotation>? baseAnnotations = null)
    {
        var gold = Categories.ToDictionary(c => c, _ => 0);
        var recalled = Categories.ToDictionary(c => c, _ => 0);
        var typed = Categories.ToDictionary(c => c, _ => 0);
        var detected = Categories.ToDictionary(c => c, _ => 0);
        var tp = Categories.ToDictionary(c => c, _ => 0);
        var baseTp = Categories.ToDictionary(c => c, _ => 0);
        var fps = new List<PhiFalsePositive>();
        var misses = new List<(string, GoldSpan, string)>();
        var annotated = (baseAnnotations ?? []).GroupBy(a => a.Source).ToDictionary(g => g.Key, g => g.ToList());
        foreach (var note in notes)
        {
            var spans = detector.Find(note.Text);
            foreach (var g in note.Gold)
            {
                var c = Category(g.Type);
                gold[c]++;
                var covered = true;
                var coveredTyped = true;
                for (var i = g.Start; i < g.End; i++)
                {
                    if (char.IsWhiteSpace(note.Text[i]) || note.Text[i] is ',' or '.') continue;
                    var hit = spans.FirstOrDefault(s => s.Start <= i && i < s.End);
                    if (hit == null) { covered = false; coveredTyped = false; break; }
                    if (Category(hit.Type) != c) coveredTyped = false;
                }
                if (covered) recalled[c]++; else misses.Add((note.Source, g, note.Text[g.Start..g.End]));
                if (coveredTyped) typed[c]++;
            }
            foreach (var s in spans)
            {
                var c = Category(s.Type);
                if (!detected.ContainsKey(c)) continue;
                detected[c]++;
                if (note.Gold.Any(g => s.Start < g.End && g.Start < s.End)) { tp[c]++; continue; }
                var bs = note.BaseOffset(s.Start);
                var be = bs < 0 ? -1 : bs + (s.End - s.Start);
                if (bs >= 0 && annotated.TryGetValue(note.Source, out var list) && list.Any(a => bs < a.End && a.Start < be)) { baseTp[c]++; continue; }
                var from = Math.Max(0, s.Start - 40);
                var to = Math.Min(note.Text.Length, s.End + 40);
                fps.Add(new PhiFalsePositive(note.Source, bs, be, s.Type, note.Text[s.Start..s.End], note.Text[from..to].Replace('\n', ' ')));
            }
        }
        var scores = Categories.Select(c => new PhiCategoryScore(c, gold[c], recalled[c], typed[c], detected[c], tp[c], baseTp[c])).ToList();
        var all = new PhiCategoryScore("ALL", scores.Sum(s => s.Gold), scores.Sum(s => s.Recalled), scores.Sum(s => s.RecalledTyped), scores.Sum(s => s.Detected),
            scores.Sum(s => s.TruePositive), scores.Sum(s => s.BaseTruePositive));
        return new PhiEvalResult { Categories = scores, All = all, FalsePositives = fps, Misses = misses };
    }

    /// <summary>Reads reviewed base-text annotations: TSV lines "source  start  end  type" ('#' comments).</summary>
    public static List<BaseAnnotation> ReadAnnotations(string path) =>
        File.ReadLines(path).Where(l => l.Length > 0 && l[0] != '#').Select(l => l.Split('\t'))
            .Where(f => f.Length >= 4).Select(f => new BaseAnnotation(f[0], int.Parse(f[1]), int.Parse(f[2]), f[3])).ToList();
}

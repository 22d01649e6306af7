using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Casebook.Extract.Dicom.Deid;
using Casebook.Ingest;

namespace Casebook.Extract.Clinical.Phi;

/// <summary>What identifiers become: typed surrogates ("Maria Okafor" → "Ana Keeling") or tags ("[NAME]").</summary>
public enum PhiReplacement { Surrogate, Tag }

/// <summary>Text de-identification settings (ingest: <c>IngestOptions.TextDeidentification</c>).</summary>
public sealed class TextDeidOptions
{
    public PhiReplacement Replacement { get; set; } = PhiReplacement.Surrogate;
    /// <summary>Dates are moved by the patient's date shift (also in tag mode); false writes [DATE] instead.</summary>
    public bool ShiftDates { get; set; } = true;
}

/// <summary>One replaced identifier: its type and where its replacement lies in the output text (never the original value).</summary>
public sealed record ReplacedSpan(int Start, int End, string Type, int OriginalStart, int OriginalEnd);

/// <summary>The de-identified text, its replacements in text order, and counts by type.</summary>
public sealed class DeidentifiedText(string text, IReadOnlyList<ReplacedSpan> spans)
{
    public string Text { get; } = text;
    public IReadOnlyList<ReplacedSpan> Spans { get; } = spans;

    public IReadOnlyDictionary<string, int> Counts => Spans.GroupBy(s => s.Type).ToDictionary(g => g.Key, g => g.Count());

    /// <summary>The offset in the original text that <paramref name="offset"/> of the output came from (inside a replacement: its start).</summary>
    public int OriginalOffset(int offset)
    {
        var delta = 0;
        foreach (var s in Spans)
        {
            if (offset < s.Start) break;
            if (offset < s.End) return s.OriginalStart;
            delta = s.OriginalEnd - s.End;
        }
        return offset + delta;
    }
}

/// <summary>
/// Replaces the identifiers an <see cref="IPhiDetector"/> finds. Per patient, surrogates and the date shift come from the
/// patient key file: the shift is <see cref="DateShift.ForPatient"/>, the one the DICOM de-identification applies,
/// so a report's dates line up with its images; surrogates use their own derived key ("text-surrogate"). Years alone
/// are not identifiers and stay; ages over 89 become "90+" (Safe Harbor C).
/// </summary>
public sealed class TextDeidentifier
{
    readonly IPhiDetector _detector;
    readonly Surrogates _surrogates;
    readonly int? _shiftDays;
    readonly TextDeidOptions _options;

    public TextDeidentifier(IPhiDetector detector, byte[] surrogateKey, int? shiftDays, TextDeidOptions? options = null)
    {
        _detector = detector;
        _surrogates = new Surrogates(surrogateKey);
        _shiftDays = shiftDays;
        _options = options ?? new TextDeidOptions();
    }

    public TextDeidOptions Options => _options;

    /// <summary>Surrogates and date shift of one patient (same issuer + id ⇒ same shift as that patient's DICOM).</summary>
    public static TextDeidentifier ForPatient(PatientPseudonym key, string issuer, string patientId, TextDeidOptions? options = null, IPhiDetector? detector = null)
    {
        var surrogateKey = HMACSHA256.HashData(key.DeriveKey("text-surrogate"), Encoding.UTF8.GetBytes(issuer + "|" + patientId));
        return new TextDeidentifier(detector ?? PhiDetector.Default, surrogateKey, DateShift.ForPatient(key, issuer, patientId).Days, options);
    }

    /// <summary>No patient known: a random key and a random shift in [-365, -1], consistent within this instance only.</summary>
    public static TextDeidentifier OneOff(TextDeidOptions? options = null, IPhiDetector? detector = null) =>
        new(detector ?? PhiDetector.Default, RandomNumberGenerator.GetBytes(32), -RandomNumberGenerator.GetInt32(1, DateShift.MaxDays + 1), options);

    public DeidentifiedText Apply(string text)
    {
        var spans = _detector.Find(text);
        var sb = new StringBuilder(text.Length + 16);
        var replaced = new List<ReplacedSpan>(spans.Count);
        var at = 0;
        (int, int)? lastMonth = null;
        foreach (var span in spans)
        {
            if (span.Start < at) continue; // detectors promise no overlap; be safe with foreign ones
            sb.Append(text, at, span.Start - at);
            var original = text[span.Start..span.End];
            var replacement = Replace(span.Type, original, lastMonth);
            if (span.Type == PhiType.Date && DateText.MonthOfSpan(original) is { } month) lastMonth = month;
            var start = sb.Length;
            sb.Append(replacement);
            replaced.Add(new ReplacedSpan(start, sb.Length, span.Type, span.Start, span.End));
            at = span.End;
        }
        sb.Append(text, at, text.Length - at);
        return new DeidentifiedText(sb.ToString(), replaced);
    }

    string Replace(string type, string original, (int, int)? contextMonth)
    {
        if (type == PhiType.Age) return "90+";
        if (type == PhiType.Date && _options.ShiftDates && _shiftDays is { } days && DateText.Shift(original, days, contextMonth) is { } shifted) return shifted;
        return _options.Replacement == PhiReplacement.Tag || type == PhiType.Date ? "[" + type + "]" : _surrogates.For(type, original);
    }
}

/// <summary>
/// Ingest: de-identifies every text of one study (report, OCR text, transcript) with one patient's surrogates and
/// shift, and records what it replaced — counts by type, never the values — in the study's metadata.
/// </summary>
public sealed class StudyTextDeidentification(TextDeidentifier deidentifier)
{
    readonly Dictionary<string, int> _counts = new(StringComparer.Ordinal);
    bool _applied;

    public static StudyTextDeidentification? For(TextDeidOptions? options, PatientPseudonym key, string issuer, string patientId) =>
        options == null ? null : new(TextDeidentifier.ForPatient(key, issuer, patientId, options));

    public DeidentifiedText Apply(string text)
    {
        var result = deidentifier.Apply(text);
        _applied = true;
        foreach (var (type, n) in result.Counts) _counts[type] = _counts.GetValueOrDefault(type) + n;
        return result;
    }

    /// <summary>A transcript with each segment de-identified (times and confidences kept).</summary>
    public Casebook.Extract.Audio.Transcript Apply(Casebook.Extract.Audio.Transcript t) =>
        new(t.Segments.Select(s => s with { Text = Apply(s.Text).Text }).ToList(), t.Engine, t.DurationSeconds, t.ProcessingSeconds);

    /// <summary>Studies with text: metadata.text_deid = {"replacement": "surrogate"|"tag", "dates_shifted": bool, "replaced": {TYPE: count}}.</summary>
    public void WriteMetadata(JsonObject metadata)
    {
        if (!_applied) return; // image-only studies: no text, nothing to record
        var replaced = new JsonObject();
        foreach (var (type, n) in _counts.OrderBy(kv => kv.Key, StringComparer.Ordinal)) replaced[type] = n;
        metadata["text_deid"] = new JsonObject
        {
            ["replacement"] = deidentifier.Options.Replacement == PhiReplacement.Tag ? "tag" : "surrogate",
            ["dates_shifted"] = deidentifier.Options.ShiftDates,
            ["replaced"] = replaced,
        };
    }
}

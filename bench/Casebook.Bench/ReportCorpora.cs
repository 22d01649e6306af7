using System.Text.Json;
using System.Text.RegularExpressions;
using Casebook.Eval;
using Sylvan.Data.Csv;

namespace Casebook.Bench;

/// <summary>Real report text from ../shared/data for the OCR and dictation benchmarks.</summary>
public static partial class ReportCorpora
{
    /// <summary>IU X-ray reports ("INDICATION: …\n\nFINDINGS: …").</summary>
    public static List<string> IuXray(string shared) =>
        IuXrayCollection.Load(Path.Combine(shared, "text", "iu-xray", "indiana_reports.csv")).Docs.Select(d => d.Text).ToList();

    /// <summary>MTSamples transcriptions (the CSV has no header; column 4 is the note).</summary>
    public static List<string> MtSamples(string shared)
    {
        var texts = new List<string>();
        using var csv = CsvDataReader.Create(Path.Combine(shared, "text", "mtsamples", "mtsamples.csv"), new CsvDataReaderOptions { HasHeaders = false });
        while (csv.Read())
            if (csv.FieldCount > 4 && csv.GetString(4).Trim() is { Length: > 0 } t) texts.Add(t);
        return texts;
    }

    /// <summary>PriMock57 consultation notes, by file name (day1_consultation01 …).</summary>
    public static List<(string Name, string Note)> PriMockNotes(string shared) =>
        Directory.GetFiles(Path.Combine(shared, "text", "primock57", "notes"), "*.json").Order(StringComparer.Ordinal)
            .Select(f => (Path.GetFileNameWithoutExtension(f), JsonDocument.Parse(File.ReadAllText(f)).RootElement.GetProperty("note").GetString() ?? ""))
            .ToList();

    [GeneratedRegex(@"^[a-z]+(?:'[a-z]+)?$")] private static partial Regex SpokenWord();

    /// <summary>
    /// What a doctor would dictate from a note: its words, lower case, without tokens holding digits or slashes
    /// ("3/7", "x6/day"), which espeak-ng and a listener would read in ways no reference can fix.
    /// </summary>
    public static string Dictation(string note, int maxWords)
    {
        var tokens = note.ToLowerInvariant().Split((char[])[' ', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries)
            .Select(t => t.Trim('.', ',', ';', ':', '(', ')', '-', '"', '!', '?'))
            .Where(t => SpokenWord().IsMatch(t));
        return string.Join(' ', tokens.Take(maxWords));
    }
}

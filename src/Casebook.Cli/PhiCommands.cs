using System.Text;
using System.Text.Json.Nodes;
using Casebook.Extract.Clinical.Phi;
using Casebook.Ingest;

namespace Casebook.Cli;

/// <summary>
/// <c>deid-text</c>: text de-identification on its own. With --patient-id the surrogates and the date shift are that
/// patient's (the shift the DICOM de-identification and ingest use); without it they are random for this run.
/// stdout carries only the de-identified text, or JSON {"text", "spans":[{"start","end","type"}], "counts"} whose
/// offsets are in the de-identified text.
/// </summary>
public static class PhiCommands
{
    public const string Usage = "deid-text [--text T | FILE] [--patient-id ID [--issuer I]] [--tags] [--no-date-shift] [--json]   de-identify free text (stdin when no T or FILE)";

    public static int DeidText(Args a)
    {
        var text = a.Get("text");
        var patient = a.Get("patient-id");
        var issuer = a.Get("issuer") ?? StudyManifest.DefaultIssuer;
        var options = new TextDeidOptions
        {
            Replacement = a.Flag("tags") ? PhiReplacement.Tag : PhiReplacement.Surrogate,
            ShiftDates = !a.Flag("no-date-shift"),
        };
        var json = a.Flag("json");
        var keyFile = a.Get("key-file");
        a.EnsureAllUsed();
        if (text != null && a.Positional.Count > 0) throw new UsageException("deid-text takes --text T or FILE, not both");
        if (a.Positional.Count > 1) throw new UsageException("deid-text takes one FILE");
        if (a.Get("issuer") != null && patient == null) throw new UsageException("--issuer needs --patient-id");
        if (text == null)
        {
            if (a.Positional.Count == 1 && a.Positional[0] != "-")
            {
                var file = a.Positional[0];
                if (!File.Exists(file)) throw new UsageException($"no such file '{file}'");
                text = File.ReadAllText(file, Encoding.UTF8);
            }
            else text = Console.In.ReadToEnd();
        }
        var deid = patient != null
            ? TextDeidentifier.ForPatient(PatientPseudonym.Load(keyFile), issuer, patient, options)
            : TextDeidentifier.OneOff(options);
        var result = deid.Apply(text);
        if (!json) { Console.Out.Write(result.Text); if (!result.Text.EndsWith('\n')) Console.Out.WriteLine(); return 0; }
        var counts = new JsonObject();
        foreach (var (type, n) in result.Counts.OrderBy(kv => kv.Key, StringComparer.Ordinal)) counts[type] = n;
        Console.Out.WriteLine(new JsonObject
        {
            ["text"] = result.Text,
            ["spans"] = new JsonArray(result.Spans.Select(s => (JsonNode)new JsonObject { ["start"] = s.Start, ["end"] = s.End, ["type"] = s.Type }).ToArray()),
            ["counts"] = counts,
        }.ToJsonString(Commands.JsonOut));
        return 0;
    }
}

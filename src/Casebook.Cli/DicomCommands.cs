using System.Text;
using Casebook.Extract.Dicom;

namespace Casebook.Cli;

/// <summary>
/// <c>casebook dicom &lt;verb&gt;</c>. Verbs: <c>dump FILE [--json] [--stop-before-pixels] [--strict]</c>.
/// (<c>pixels</c> and <c>deid</c> come with the codec and de-identification work.)
/// Exit codes: 0 read completely, 1 usage, 2 not readable as DICOM, 3 partial (malformed or truncated; errors listed).
/// </summary>
public static class DicomCommands
{
    const string Usage = "usage: casebook dicom dump FILE [--json] [--stop-before-pixels] [--strict]\n       casebook dicom pixels FILE --out F.npy [--frame N] [--png F.png] [--window C,W | --preset NAME]\n       casebook dicom deid IN OUT [--key-file F] [--issuer I] [PS3.15 options, burned-in text: see casebook dicom deid --help]";

    public static int Run(string[] args)
    {
        try
        {
            if (args.Length == 0) { Console.Error.WriteLine(Usage); return 1; }
            return args[0] switch
            {
                "dump" => Dump(args[1..]),
                "pixels" => PixelCommands.Pixels(args[1..]),
                "deid" => DeidCommands.Run(args[1..]),
                _ => Fail($"unknown dicom verb '{args[0]}'\n{Usage}"),
            };
        }
        catch (UsageException e) { return Fail(e.Message + "\n" + Usage); }
    }

    static int Fail(string message) { Console.Error.WriteLine(message); return 1; }

    static int Dump(string[] argv)
    {
        var a = new Args(argv, new HashSet<string> { "json", "stop-before-pixels", "strict" });
        var json = a.Flag("json");
        var options = new DicomReadOptions { StopBeforePixels = a.Flag("stop-before-pixels"), Strict = a.Flag("strict") };
        a.EnsureAllUsed();
        if (a.Positional.Count != 1) throw new UsageException("dump takes exactly one FILE");
        var path = a.Positional[0];
        if (!File.Exists(path)) { Console.Error.WriteLine($"casebook dicom dump: no such file: {path}"); return 2; }

        DicomFile file;
        try { file = DicomFile.Open(path, options); }
        catch (DicomParseException e) { Console.Error.WriteLine($"casebook dicom dump: {path}: {e.Message}"); return 2; }
        using (file)
        {
            if (json) Console.Out.WriteLine(DicomJson.Dump(file));
            else
            {
                var text = new StringBuilder();
                text.AppendLine($"# transfer syntax: {file.TransferSyntax}");
                foreach (var e in file.Meta) AppendText(text, e, 0);
                foreach (var e in file.Dataset) AppendText(text, e, 0);
                Console.Out.Write(text.ToString());
            }
            Console.Out.Flush();
            foreach (var warning in file.Warnings) Console.Error.WriteLine($"warning: {warning}");
            foreach (var p in file.Problems) Console.Error.WriteLine($"error: {p.Message}");
            return file.IsComplete ? 0 : 3;
        }
    }

    static void AppendText(StringBuilder sb, DicomElement e, int depth)
    {
        var indent = new string(' ', depth * 2);
        if (e.Items != null)
        {
            sb.AppendLine($"{indent}{e.Tag} SQ {e.Keyword} ({e.Items.Count} item{(e.Items.Count == 1 ? "" : "s")})");
            for (var i = 0; i < e.Items.Count; i++)
            {
                sb.AppendLine($"{indent}  > item {i + 1}");
                foreach (var c in e.Items[i]) AppendText(sb, c, depth + 2);
            }
            return;
        }
        string value;
        if (e.Fragments != null) value = $"<encapsulated: {e.Fragments.Fragments.Count} fragments, {e.Length} bytes>";
        else if (e.VR.IsBinary || !e.VR.IsKnown) value = $"<{e.Length} bytes>";
        else if (e.VR == DicomVR.AT) value = string.Join('\\', e.GetTags());
        else if (e.VR.IsString) value = "[" + string.Join('\\', e.GetStrings()) + "]";
        else value = string.Join('\\', e.GetNumbers().Take(16).Select(n => Convert.ToString(n, System.Globalization.CultureInfo.InvariantCulture))) + (e.Multiplicity > 16 ? "\\..." : "");
        sb.AppendLine($"{indent}{e.Tag} {e.VR} {e.Keyword} {value}");
    }
}

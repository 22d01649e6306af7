using System.Text.Json;
using System.Text.Json.Nodes;
using Casebook.Cluster;

namespace Casebook.Cli;

/// <summary>
/// `codes import FILE --cluster F` and `codes lookup CODE --cluster F`: the ICD-10-CM table of every shard (which
/// `diagnose` takes its displays from), with the single-node output (<see cref="NlpCommands.Codes(string[], TextWriter, TextWriter)"/>).
/// The import is checked here by the engine and goes through the log to every shard; a look-up asks one shard.
/// </summary>
public static class ClusterCodesCommands
{
    // As one node prints it: displays keep their apostrophes and ampersands unescaped.
    static readonly JsonSerializerOptions JsonOut = new() { WriteIndented = false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };


    public static int Run(string sub, string argument, string clusterFile, bool json, TextWriter stdout, TextWriter stderr)
    {
        switch (sub)
        {
            case "import":
            {
                var r = ClusterStudyCommands.Connected(clusterFile, c => c.ImportCodesAsync(argument));
                foreach (var e in r.Errors) stderr.WriteLine($"casebook: codes import: {e}");
                var summary = new JsonObject { ["imported"] = r.Imported, ["errors"] = r.Errors.Count, ["total"] = r.Total };
                stdout.WriteLine(json ? summary.ToJsonString(JsonOut) : $"imported {r.Imported} codes ({r.Errors.Count} rows refused); table holds {r.Total}");
                return r.Errors.Count > 0 ? 1 : 0;
            }
            case "lookup":
            {
                var info = ClusterStudyCommands.Connected(clusterFile, c => c.LookupCodeAsync(argument));
                if (info == null) { stderr.WriteLine($"casebook: codes lookup: {argument}: unknown code (import the CMS table with ./casebook codes import FILE)"); return 1; }
                if (json) stdout.WriteLine(info.ToJsonString(JsonOut));
                else
                {
                    stdout.WriteLine($"{info["code"]}\t{info["display"]}");
                    foreach (var x in info["ancestors"]!.AsArray()) stdout.WriteLine($"  in {x!["code"]}\t{x["display"]}");
                    foreach (var x in info["children"]!.AsArray()) stdout.WriteLine($"  has {x!["code"]}\t{x["display"]}");
                }
                return 0;
            }
            default: throw new UsageException($"unknown codes subcommand '{sub}' (import, lookup)");
        }
    }
}

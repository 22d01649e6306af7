using System.Text.Json;
using System.Text.Json.Nodes;
using Casebook.Extract.Clinical;

namespace Casebook.Cli;

/// <summary>
/// <c>nlp analyze</c>, <c>nlp assert</c> and <c>codes import|lookup</c>: the clinical NLP stage on its own (Extract/Clinical).
/// The JSON shapes of <c>nlp analyze --json</c> and <c>nlp assert --jsonl</c> are contracts (issue 5): keep them stable.
/// </summary>
public static class NlpCommands
{
    public const string NlpUsage = "nlp analyze [--text T] --json | nlp assert --jsonl   clinical NLP: sentences, concepts + ConText assertion, PHI; stdin when no --text";
    public const string CodesUsage = "codes import FILE | codes lookup CODE [--json] [--cluster F]   ICD-10-CM table (CMS CSV or text) for code displays and hierarchy";

    static readonly HashSet<string> Flags = ["json", "jsonl"];
    static readonly JsonSerializerOptions JsonOut = new() { WriteIndented = false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The PHI detector <c>nlp analyze</c> reports with; the text de-identification sets its own.</summary>
    public static IPhiDetector PhiDetector { get; set; } = Casebook.Extract.Clinical.Phi.PhiDetector.Default;

    public static int Run(string[] args) => Run(args, Console.In, Console.Out, Console.Error);

    public static int Run(string[] args, TextReader stdin, TextWriter stdout, TextWriter stderr)
    {
        if (args.Length == 0) throw new UsageException("nlp needs a subcommand: analyze or assert");
        var a = new Args(args[1..], Flags);
        switch (args[0])
        {
            case "analyze":
            {
                var text = a.Get("text") ?? stdin.ReadToEnd();
                a.Flag("json"); // the output is JSON either way
                a.EnsureAllUsed();
                stdout.WriteLine(AnalyzeJson(text, new ClinicalAnalyzer(PhiDetector)).ToJsonString(JsonOut));
                return 0;
            }
            case "assert":
            {
                a.Flag("jsonl");
                a.EnsureAllUsed();
                return Assert(stdin, stdout);
            }
            default: throw new UsageException($"unknown nlp subcommand '{args[0]}' (analyze, assert)");
        }
    }

    /// <summary>The <c>nlp analyze --json</c> object.</summary>
    public static JsonObject AnalyzeJson(string text, ClinicalAnalyzer analyzer)
    {
        var result = analyzer.Analyze(text);
        return new JsonObject
        {
            ["sentences"] = new JsonArray(result.Sentences.Select(s => (JsonNode)new JsonObject { ["start"] = s.Start, ["end"] = s.End }).ToArray()),
            ["concepts"] = new JsonArray(result.Concepts.Select(m => (JsonNode)new JsonObject
            {
                ["start"] = m.Start, ["end"] = m.End, ["text"] = m.Text, ["term"] = m.Term, ["category"] = m.Category,
                ["codes"] = new JsonArray(m.Codes.Select(c => (JsonNode)JsonValue.Create(c)).ToArray()),
                ["negated"] = m.Assertion.Negated, ["uncertain"] = m.Assertion.Uncertain, ["historical"] = m.Assertion.Historical,
                ["hypothetical"] = m.Assertion.Hypothetical, ["experiencer"] = m.Assertion.Experiencer,
                ["laterality"] = m.Laterality, ["snomed"] = m.Concept.Snomed,
            }).ToArray()),
            ["phi"] = new JsonArray(result.Phi.Select(p => (JsonNode)new JsonObject { ["start"] = p.Start, ["end"] = p.End, ["type"] = p.Type }).ToArray()),
        };
    }

    /// <summary>One output line per input line, always: the assertion of the target, or {"error": …} for a bad line.</summary>
    static int Assert(TextReader stdin, TextWriter stdout)
    {
        var analyzer = ClinicalAnalyzer.Default;
        int line = 0, failed = 0;
        while (stdin.ReadLine() is { } text)
        {
            line++;
            JsonObject output;
            try
            {
                var node = JsonNode.Parse(text) as JsonObject ?? throw new FormatException("expected a JSON object");
                var sentence = node["sentence"]?.GetValue<string>() ?? throw new FormatException("missing \"sentence\" (a string)");
                var target = node["target"]?.GetValue<string>() ?? throw new FormatException("missing \"target\" (a string)");
                var x = analyzer.Assert(sentence, target);
                output = new JsonObject
                {
                    ["negated"] = x.Negated, ["uncertain"] = x.Uncertain, ["historical"] = x.Historical,
                    ["hypothetical"] = x.Hypothetical, ["experiencer"] = x.Experiencer,
                };
            }
            catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
            {
                failed++;
                // Still one line, with the fields a reader expects (affirmed defaults) beside the error.
                output = new JsonObject
                {
                    ["error"] = $"line {line}: {e.Message}",
                    ["negated"] = false, ["uncertain"] = false, ["historical"] = false, ["hypothetical"] = false, ["experiencer"] = "patient",
                };
            }
            stdout.WriteLine(output.ToJsonString(JsonOut));
        }
        stdout.Flush();
        return failed > 0 ? 1 : 0;
    }

    /// <summary><c>codes import FILE [--db DIR]</c> and <c>codes lookup CODE [--db DIR] [--json]</c>.</summary>
    public static int Codes(string[] args) => Codes(args, Console.Out, Console.Error);

    public static int Codes(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Length == 0) throw new UsageException("codes needs a subcommand: import FILE or lookup CODE");
        var a = new Args(args[1..], Flags);
        if (a.Positional.Count != 1) throw new UsageException($"codes {args[0]} needs exactly one {(args[0] == "import" ? "FILE" : "CODE")}");
        var cluster = a.Get("cluster");
        var dir = a.Get("db") ?? Commands.DefaultDb;
        bool json = a.Flag("json");
        a.EnsureAllUsed();
        if (cluster != null) return ClusterCodesCommands.Run(args[0], a.Positional[0], cluster, json, stdout, stderr); // every shard's table (docs/cluster.md)
        switch (args[0])
        {
            case "import":
            {
                using var db = CasebookDb.Open(dir);
                var result = db.ImportCodes(a.Positional[0]);
                foreach (var e in result.Errors) stderr.WriteLine($"casebook: codes import: {e}");
                var summary = new JsonObject { ["imported"] = result.Imported, ["errors"] = result.Errors.Count, ["total"] = db.CodeCount() };
                stdout.WriteLine(json ? summary.ToJsonString(JsonOut) : $"imported {result.Imported} codes ({result.Errors.Count} rows refused); table holds {db.CodeCount()}");
                return result.Errors.Count > 0 ? 1 : 0;
            }
            case "lookup":
            {
                if (!File.Exists(Path.Combine(dir, "casebook.db"))) throw new InvalidOperationException($"no Casebook database at '{dir}' (pass --db)");
                using var db = CasebookDb.Open(dir);
                var info = db.LookupCode(a.Positional[0]);
                if (info == null) { stderr.WriteLine($"casebook: codes lookup: {a.Positional[0]}: unknown code (import the CMS table with ./casebook codes import FILE)"); return 1; }
                var children = db.CodesUnder(info.Code, 50).Where(c => c.Code != info.Code).ToList();
                if (json)
                    stdout.WriteLine(new JsonObject
                    {
                        ["code"] = info.Code, ["display"] = info.Display,
                        ["ancestors"] = new JsonArray(info.Ancestors.Select(x => (JsonNode)new JsonObject { ["code"] = x.Code, ["display"] = x.Display }).ToArray()),
                        ["children"] = new JsonArray(children.Select(x => (JsonNode)new JsonObject { ["code"] = x.Code, ["display"] = x.Display }).ToArray()),
                    }.ToJsonString(JsonOut));
                else
                {
                    stdout.WriteLine($"{info.Code}\t{info.Display}");
                    foreach (var x in info.Ancestors) stdout.WriteLine($"  in {x.Code}\t{x.Display}");
                    foreach (var x in children) stdout.WriteLine($"  has {x.Code}\t{x.Display}");
                }
                return 0;
            }
            default: throw new UsageException($"unknown codes subcommand '{args[0]}' (import, lookup)");
        }
    }
}

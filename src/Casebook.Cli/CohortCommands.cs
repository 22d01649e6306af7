using System.Globalization;
using System.Text.Json.Nodes;
using Casebook.Cohorts;

namespace Casebook.Cli;

/// <summary>
/// `cohort run DEF.json|NAME[@V] [--db DIR] [--role R] [--as-of V] --json`, `cohort save DEF.json --name N --author A`,
/// `cohort list [--json]`, `cohort export NAME|DEF.json --format parquet|csv|fhir --out PATH [--role R] [--allow-sensitive]`.
/// Definitions: docs/cohorts.md. The role decides what is shown (researchers: counts under 11 as "&lt;11", no ids then).
/// </summary>
public static class CohortCommands
{
    static readonly HashSet<string> Flags = ["json", "allow-sensitive"];

    public static int Run(string[] args) => Run(args, Console.Out);

    public static int Run(string[] args, TextWriter stdout)
    {
        if (args.Length == 0) throw new UsageException("cohort needs a subcommand: run, save, list or export");
        var a = new Args(args[1..], Flags);
        if (a.Get("cluster") is { } cluster) return ClusterCohortCommands.Run(args[0], a, cluster, stdout); // scattered over the shards
        var dir = a.Get("db") ?? Commands.DefaultDb;
        if (!File.Exists(Path.Combine(dir, "casebook.db")))
            throw new InvalidOperationException($"no Casebook database at '{dir}' (run ./casebook ingest first, or pass --db)");
        switch (args[0])
        {
            case "run": return RunCohort(a, dir, stdout);
            case "save": return Save(a, dir, stdout);
            case "list": return List(a, dir, stdout);
            case "export": return ExportCohort(a, dir, stdout);
            default: throw new UsageException($"unknown cohort subcommand '{args[0]}' (run, save, list, export)");
        }
    }

    internal static void Write(TextWriter w, JsonNode node) => w.WriteLine(node.ToJsonString(Commands.JsonOut));

    /// <summary>A definition file, or a saved cohort's name (NAME or NAME@V).</summary>
    static (CohortDefinition Definition, SavedCohort? Saved) Resolve(CasebookDb db, string target)
    {
        if (File.Exists(target))
        {
            try { return (CohortDefinition.Parse(File.ReadAllText(target)), null); }
            catch (CohortDefinitionException e) { throw new ArgumentException($"{target}: {e.Message}", e); }
        }
        if (target.EndsWith(".json", StringComparison.OrdinalIgnoreCase)) throw new FileNotFoundException($"cohort definition file '{target}' does not exist");
        var saved = db.GetCohort(target) ?? throw new ArgumentException($"'{target}' is neither a definition file nor a saved cohort (see cohort list)");
        return (saved.Parse(), saved);
    }

    static CasebookDb Open(Args a, string dir)
    {
        var options = new CasebookOptions { KeyFile = a.Get("key-file") };
        return CasebookDb.Open(dir, options);
    }

    static int RunCohort(Args a, string dir, TextWriter stdout)
    {
        if (a.Positional.Count != 1) throw new UsageException("cohort run needs exactly one DEF.json (or saved NAME[@V])");
        var role = CohortRoles.Check(a.Get("role"));
        var asOf = a.Long("as-of");
        var json = a.Flag("json");
        a.EnsureAllUsed();
        using var db = Open(a, dir);
        var (def, saved) = Resolve(db, a.Positional[0]);
        var r = db.RunCohort(def, asOf, saved?.Name, saved?.Version);
        var o = ResultJson(r, role);
        if (json) { Write(stdout, o); return 0; }
        stdout.WriteLine($"cohort {r.Name ?? a.Positional[0]} at version {r.AsOf} ({r.Milliseconds:0.#} ms): {o["patients"]!["count"]} patients, {o["studies"]!["count"]} studies");
        return 0;
    }

    /// <summary>The `cohort run --json` contract (shared with the server): see <see cref="CohortResultJson.ToJson"/>.</summary>
    public static JsonObject ResultJson(CohortResult r, string role) => CohortResultJson.ToJson(r, role);

    static int Save(Args a, string dir, TextWriter stdout)
    {
        if (a.Positional.Count != 1) throw new UsageException("cohort save needs exactly one DEF.json");
        var name = a.Get("name") ?? throw new UsageException("cohort save needs --name N");
        var author = a.Get("author") ?? throw new UsageException("cohort save needs --author A");
        var json = a.Flag("json");
        a.EnsureAllUsed();
        var path = a.Positional[0];
        if (!File.Exists(path)) throw new FileNotFoundException($"cohort definition file '{path}' does not exist");
        CohortDefinition def;
        try { def = CohortDefinition.Parse(File.ReadAllText(path)); }
        catch (CohortDefinitionException e) { throw new ArgumentException($"{path}: {e.Message}", e); }
        using var db = Open(a, dir);
        var s = db.SaveCohort(name, def, author);
        if (json) Write(stdout, new JsonObject { ["name"] = s.Name, ["version"] = s.Version, ["author"] = s.Author, ["time"] = s.Time, ["data_version"] = s.DataVersion });
        else stdout.WriteLine($"saved cohort {s.Name} version {s.Version} (by {s.Author} at {s.Time}; data version {s.DataVersion})");
        return 0;
    }

    static int List(Args a, string dir, TextWriter stdout)
    {
        var json = a.Flag("json");
        a.EnsureAllUsed();
        if (a.Positional.Count > 0) throw new UsageException("cohort list takes no arguments");
        using var db = Open(a, dir);
        var all = db.ListCohorts();
        if (json)
        {
            Write(stdout, new JsonObject
            {
                ["cohorts"] = new JsonArray(all.Select(s => (JsonNode)new JsonObject
                {
                    ["name"] = s.Name, ["version"] = s.Version, ["author"] = s.Author, ["time"] = s.Time, ["data_version"] = s.DataVersion,
                    ["definition"] = JsonNode.Parse(s.Json),
                }).ToArray()),
            });
            return 0;
        }
        if (all.Count == 0) stdout.WriteLine("no saved cohorts");
        foreach (var s in all) stdout.WriteLine($"{s.Name}@{s.Version}  {s.Time}  {s.Author}  (data version {s.DataVersion})");
        return 0;
    }

    static int ExportCohort(Args a, string dir, TextWriter stdout)
    {
        if (a.Positional.Count != 1) throw new UsageException("cohort export needs exactly one NAME[@V] or DEF.json");
        var format = a.Get("format") ?? throw new UsageException("cohort export needs --format parquet|csv|fhir");
        var output = a.Get("out") ?? throw new UsageException("cohort export needs --out PATH");
        var role = CohortRoles.Check(a.Get("role"));
        var allow = a.Flag("allow-sensitive");
        var asOf = a.Long("as-of");
        var json = a.Flag("json");
        a.EnsureAllUsed();
        using var db = Open(a, dir);
        var (def, saved) = Resolve(db, a.Positional[0]);
        var r = db.RunCohort(def, asOf, saved?.Name, saved?.Version);
        var e = CohortExporter.Export(db, r, format, output, role, allow);
        var o = new JsonObject
        {
            ["format"] = e.Format, ["out"] = e.Path, ["as_of"] = r.AsOf,
            ["patients"] = CohortRoles.Count(e.Patients, role), ["studies"] = CohortRoles.Count(e.Studies, role),
            ["left_out"] = new JsonObject { ["dictation_audio"] = e.AudioLeftOut, ["burned_in_images"] = e.ImagesLeftOut, ["report_pdfs"] = e.PdfsLeftOut },
        };
        if (e.Format == "fhir") o["resources"] = e.Resources;
        if (json) Write(stdout, o);
        else stdout.WriteLine($"exported cohort ({o["patients"]} patients, {o["studies"]} studies) as {e.Format} to {e.Path}; left out: {e.AudioLeftOut} dictations, {e.ImagesLeftOut} burned-in images, {e.PdfsLeftOut} report PDFs");
        return 0;
    }
}

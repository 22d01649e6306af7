using System.Text.Json.Nodes;
using Casebook.Cluster;
using Casebook.Cohorts;

namespace Casebook.Cli;

/// <summary>
/// `cohort run|save|list|export ... --cluster F`: the single-node verbs (<see cref="CohortCommands"/>) over the cluster, with the
/// same arguments and JSON. Runs are scattered over the shards and merged; saved definitions live in the cluster's KV bucket.
/// A version (`--as-of`, a definition's `as_of`, a saved definition's `data_version`) is a log sequence, as everywhere on a cluster.
/// </summary>
public static class ClusterCohortCommands
{

    public static int Run(string sub, Args a, string clusterFile, TextWriter stdout) => sub switch
    {
        "run" => RunCohort(a, clusterFile, stdout),
        "save" => Save(a, clusterFile, stdout),
        "list" => List(a, clusterFile, stdout),
        "export" => Export(a, clusterFile, stdout),
        _ => throw new UsageException($"unknown cohort subcommand '{sub}' (run, save, list, export)"),
    };

    static CohortDefinition ParseFile(string path)
    {
        try { return CohortDefinition.Parse(File.ReadAllText(path)); }
        catch (CohortDefinitionException e) { throw new ArgumentException($"{path}: {e.Message}", e); }
    }

    /// <summary>A definition file, or a saved cohort's name (NAME or NAME@V) from the cluster's KV bucket.</summary>
    static async Task<(CohortDefinition Definition, SavedCohort? Saved)> Resolve(ClusterClient c, string target)
    {
        if (File.Exists(target)) return (ParseFile(target), null);
        if (target.EndsWith(".json", StringComparison.OrdinalIgnoreCase)) throw new FileNotFoundException($"cohort definition file '{target}' does not exist");
        var saved = await c.GetCohortAsync(target) ?? throw new ArgumentException($"'{target}' is neither a definition file nor a saved cohort (see cohort list)");
        return (saved.Parse(), saved);
    }

    static int RunCohort(Args a, string clusterFile, TextWriter stdout)
    {
        if (a.Positional.Count != 1) throw new UsageException("cohort run needs exactly one DEF.json (or saved NAME[@V])");
        var role = CohortRoles.Check(a.Get("role"));
        var asOf = a.Long("as-of"); // a log sequence (docs/cluster.md, "Time travel"); else the definition's as_of, else now
        var json = a.Flag("json");
        a.EnsureAllUsed();
        var target = a.Positional[0];
        var r = ClusterStudyCommands.Connected(clusterFile, async c =>
        {
            var (def, saved) = await Resolve(c, target);
            return await c.RunCohortAsync(def, saved?.Name, saved?.Version, asOf);
        });
        var o = CohortResultJson.ToJson(r, role);
        if (json) { CohortCommands.Write(stdout, o); return 0; }
        stdout.WriteLine($"cohort {r.Name ?? target} at log sequence {r.AsOf} ({r.Milliseconds:0.#} ms): {o["patients"]!["count"]} patients, {o["studies"]!["count"]} studies");
        return 0;
    }

    static int Save(Args a, string clusterFile, TextWriter stdout)
    {
        if (a.Positional.Count != 1) throw new UsageException("cohort save needs exactly one DEF.json");
        var name = a.Get("name") ?? throw new UsageException("cohort save needs --name N");
        var author = a.Get("author") ?? throw new UsageException("cohort save needs --author A");
        var json = a.Flag("json");
        a.EnsureAllUsed();
        var path = a.Positional[0];
        if (!File.Exists(path)) throw new FileNotFoundException($"cohort definition file '{path}' does not exist");
        var def = ParseFile(path);
        var s = ClusterStudyCommands.Connected(clusterFile, c => c.SaveCohortAsync(name, def, author));
        if (json) CohortCommands.Write(stdout, new JsonObject { ["name"] = s.Name, ["version"] = s.Version, ["author"] = s.Author, ["time"] = s.Time, ["data_version"] = s.DataVersion });
        else stdout.WriteLine($"saved cohort {s.Name} version {s.Version} (by {s.Author} at {s.Time}; log sequence {s.DataVersion})");
        return 0;
    }

    static int List(Args a, string clusterFile, TextWriter stdout)
    {
        var json = a.Flag("json");
        a.EnsureAllUsed();
        if (a.Positional.Count > 0) throw new UsageException("cohort list takes no arguments");
        var all = ClusterStudyCommands.Connected(clusterFile, c => c.ListCohortsAsync());
        if (json)
        {
            CohortCommands.Write(stdout, new JsonObject
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
        foreach (var s in all) stdout.WriteLine($"{s.Name}@{s.Version}  {s.Time}  {s.Author}  (log sequence {s.DataVersion})");
        return 0;
    }

    static int Export(Args a, string clusterFile, TextWriter stdout)
    {
        if (a.Positional.Count != 1) throw new UsageException("cohort export needs exactly one NAME[@V] or DEF.json");
        var format = a.Get("format") ?? throw new UsageException("cohort export needs --format parquet|csv|fhir");
        var output = a.Get("out") ?? throw new UsageException("cohort export needs --out PATH");
        var role = CohortRoles.Check(a.Get("role"));
        var allow = a.Flag("allow-sensitive");
        var asOf = a.Long("as-of"); // a log sequence, as cohort run
        var json = a.Flag("json");
        a.EnsureAllUsed();
        var target = a.Positional[0];
        var (r, e) = ClusterStudyCommands.Connected(clusterFile, async c =>
        {
            var (def, saved) = await Resolve(c, target);
            var run = await c.RunCohortAsync(def, saved?.Name, saved?.Version, asOf);
            // Records and events as of the same sequence when the run was as of one (--as-of or the definition's as_of).
            return (run, await c.ExportCohortAsync(run, format, output, role, allow, asOf ?? def.AsOf));
        });
        var o = new JsonObject
        {
            ["format"] = e.Format, ["out"] = e.Path, ["as_of"] = r.AsOf,
            ["patients"] = CohortRoles.Count(e.Patients, role), ["studies"] = CohortRoles.Count(e.Studies, role),
            ["left_out"] = new JsonObject { ["dictation_audio"] = e.AudioLeftOut, ["burned_in_images"] = e.ImagesLeftOut, ["report_pdfs"] = e.PdfsLeftOut },
        };
        if (e.Format == "fhir") o["resources"] = e.Resources;
        if (json) CohortCommands.Write(stdout, o);
        else stdout.WriteLine($"exported cohort ({o["patients"]} patients, {o["studies"]} studies) as {e.Format} to {e.Path}; left out: {e.AudioLeftOut} dictations, {e.ImagesLeftOut} burned-in images, {e.PdfsLeftOut} report PDFs");
        return 0;
    }
}

using System.Text.Json.Nodes;
using Casebook.Cluster;

namespace Casebook.Tests.Cluster;

/// <summary>
/// `codes import|lookup --cluster`: the ICD-10-CM table goes through the log to every shard, prints one node's JSON, and
/// `diagnose` on any shard takes its display from it (also after the shard is rebuilt from the log alone).
/// </summary>
[Collection("local cluster")]
public sealed class ClusterCodesTests(LocalClusterFixture f)
{
    static readonly TimeSpan Long = TimeSpan.FromMinutes(4);

    (int Code, string Stdout, string Stderr) Run(params string[] args) => CliProcess.Run(f.Dir.Path, f.Dir.KeyFile, Long, args);

    /// <summary>The same command on the cluster and on one node: same exit code, stdout and stderr.</summary>
    (int Code, string Stdout, string Stderr) Both(params string[] args)
    {
        var cluster = Run([.. args, "--cluster", f.ClusterFile]);
        var one = Run([.. args, "--db", f.SingleDb]);
        Assert.True(one == cluster, $"one node: exit {one.Item1}\n{one.Item2}\n{one.Item3}\ncluster: exit {cluster.Item1}\n{cluster.Item2}\n{cluster.Item3}");
        return cluster;
    }

    [Fact]
    public async Task The_code_table_reaches_every_shard_through_the_log_and_diagnose_displays_from_it()
    {
        var table = SharedData.Require("codes/icd10cm/categories.csv");

        // Import: one node's JSON, the whole CMS table in every shard.
        var (code, stdout, stderr) = Both("codes", "import", table, "--json");
        Assert.True(code == 0, stderr);
        Assert.Equal("""{"imported":24628,"errors":0,"total":24628}""", stdout.Trim());

        // Look-ups: a leaf (undotted, lower case), a category with its children, a display with an apostrophe, a leaf the
        // 2018 table lacks (its ancestor's display "via"), an unknown code and a malformed one (exit 1, same message).
        var leaf = JsonNode.Parse(Both("codes", "lookup", "e119", "--json").Stdout)!;
        Assert.Equal(("E11.9", "Type 2 diabetes mellitus without complications"), ((string)leaf["code"]!, (string)leaf["display"]!));
        var category = JsonNode.Parse(Both("codes", "lookup", "E11", "--json").Stdout)!;
        Assert.Contains(category["children"]!.AsArray(), c => (string)c!["code"]! == "E11.65");
        Assert.Contains("Alzheimer's disease", Both("codes", "lookup", "G30", "--json").Stdout);
        Assert.StartsWith("Pneumonia, unspecified organism (via J18)", (string)JsonNode.Parse(Both("codes", "lookup", "J18.9", "--json").Stdout)!["display"]!);
        Assert.Contains("E11.9\tType 2 diabetes mellitus without complications", Both("codes", "lookup", "E11.9").Stdout);
        foreach (var unknown in new[] { "U07.1", "not-a-code" })
        {
            (code, _, stderr) = Both("codes", "lookup", unknown, "--json");
            Assert.Equal(1, code);
            Assert.Contains("unknown code", stderr);
        }

        // Every shard holds the table: a study on any shard gets its ICD-10-CM display from it, as on one node.
        const string id = "CL-0038";
        var cluster = Diagnose(id, "--cluster", f.ClusterFile);
        var one = Diagnose(id, "--db", f.SingleDb);
        Assert.Equal(Without(one), Without(cluster));
        Assert.Contains("Type 2 diabetes mellitus without complications", cluster.ToJsonString());
        Assert.Equal(LastChange(Run("history", id, "--json", "--db", f.SingleDb).Stdout), LastChange(Run("history", id, "--json", "--cluster", f.ClusterFile).Stdout));

        // The import is one entry in every partition; a shard rebuilt from the log alone has the same table and diagnosis.
        await using var client = await ClusterClient.ConnectAsync(ClusterConfig.Load(f.ClusterFile));
        for (var n = 0; n < f.Shards; n++)
            Assert.Contains((await client.Log.ReadAsync(n, 0, 100_000)), e => e.Command?.Command == ClusterCodes.Kind && e.Command.Arg("file") == "categories.csv");
        var shard = (await client.ShardOfStudyAsync(id))!.Value;
        var before = await client.LookupCodeAsync("E11", shard);
        await client.RebuildShardAsync(shard);
        Assert.Equal(before!.ToJsonString(), (await client.LookupCodeAsync("E11", shard))!.ToJsonString());
        Assert.Equal(leaf.ToJsonString(), (await client.LookupCodeAsync("E11.9", shard))!.ToJsonString());
        var diagnoses = (await client.GetStudyAsync(id))!.Metadata["diagnoses"]!.AsArray();
        Assert.Contains(diagnoses, d => (string)d!["code"]! == "E11.9" && (string?)d["display"] == "Type 2 diabetes mellitus without complications");
        // gc keeps the table's blob: a later rebuild still reads it.
        await client.CollectGarbageAsync(TimeSpan.Zero);
        await client.RebuildShardAsync(shard);
        Assert.Equal(leaf.ToJsonString(), (await client.LookupCodeAsync("E11.9", shard))!.ToJsonString());

        // Bad rows: the same refused lines (file:line: reason) and exit code as one node; the good rows are imported.
        using var tmp = new TempDirectory();
        File.WriteAllText(tmp["bad.txt"], "A00     Cholera\nNOTACODE    x\nE119\nJ90     Pleural effusion, not elsewhere classified\n");
        (code, stdout, stderr) = Both("codes", "import", tmp["bad.txt"], "--json");
        Assert.Equal(1, code);
        Assert.Equal("""{"imported":2,"errors":2,"total":24628}""", stdout.Trim());
        Assert.Contains($"{tmp["bad.txt"]}:2", stderr);
        Assert.Contains($"{tmp["bad.txt"]}:3", stderr);
        File.WriteAllText(tmp["worse.txt"], "NOTACODE    x\n");
        (code, stdout, _) = Both("codes", "import", tmp["worse.txt"], "--json"); // nothing to import: no entry, same answer
        Assert.Equal(1, code);
        Assert.Equal("""{"imported":0,"errors":1,"total":24628}""", stdout.Trim());
        (code, _, stderr) = Both("codes", "import", tmp["missing.csv"]);
        Assert.NotEqual(0, code);
        Assert.Contains("file not found", stderr);
    }

    JsonNode Diagnose(string id, string where, string target)
    {
        var history = JsonNode.Parse(f.Cli("history", id, "--json", where, target))!["versions"]!.AsArray();
        var baseVersion = history[^1]!["version"]!.GetValue<long>();
        return JsonNode.Parse(f.Cli("diagnose", id, "--code", "E11.9", "--system", "icd10cm", "--status", "provisional", "--author", "dr.codes", "--role", "validator",
            "--base-version", baseVersion.ToString(), "--json", where, target))!;
    }

    static string Without(JsonNode result)
    {
        var o = result.DeepClone().AsObject();
        o.Remove("version");
        o["change"]!.AsObject().Remove("time");
        return o.ToJsonString();
    }

    /// <summary>The newest history entry less what differs by design (version number, times).</summary>
    static string LastChange(string historyJson)
    {
        var last = JsonNode.Parse(historyJson)!["versions"]!.AsArray()[^1]!.DeepClone().AsObject();
        last.Remove("version");
        last.Remove("time");
        (last["change"] as JsonObject)?.Remove("time");
        return last.ToJsonString();
    }
}

using System.Text.Json;
using System.Text.Json.Nodes;

namespace Casebook.Tests.Validation;

/// <summary>The CLI contracts of issue 6: validate, diagnose, region, history, similar.</summary>
public class ValidationCliTests
{
    [Fact]
    public void Validation_verbs_history_and_similar_keep_their_json_contracts()
    {
        using var tmp = new TempDirectory();
        var dbDir = tmp["db"];
        long v;
        using (var db = tmp.OpenDb()) v = SimilarCasesTests.ImageStudies(db, 6);
        (int Code, string Stdout, string Stderr) Cli(params string[] args) =>
            CliProcess.Run(tmp.Path, tmp.KeyFile, TimeSpan.FromMinutes(3), [.. args, "--db", dbDir]);
        long Version(string stdout) => JsonNode.Parse(stdout)!["version"]!.GetValue<long>();

        var (code, stdout, stderr) = Cli("diagnose", "B1", "--code", "C50.919", "--system", "icd10cm", "--status", "confirmed",
            "--author", "ann", "--role", "validator", "--base-version", v.ToString(), "--json");
        Assert.True(code == 0, stderr);
        var v2 = Version(stdout);
        // A second editor still on v: conflict (exit 4) naming the current version; nothing written.
        (code, stdout, stderr) = Cli("validate", "B1", "--finding", "mass", "--status", "confirmed", "--reason", "seen on US",
            "--author", "ben", "--role", "clinician", "--base-version", v.ToString());
        Assert.Equal(4, code);
        Assert.Contains("conflict", stderr);
        Assert.Contains($"version {v2}", stderr);
        (code, stdout, stderr) = Cli("validate", "B1", "--finding", "mass", "--status", "confirmed", "--reason", "seen on US",
            "--author", "ben", "--role", "clinician", "--base-version", v2.ToString(), "--json");
        Assert.True(code == 0, stderr);
        var v3 = Version(stdout);
        (code, stdout, stderr) = Cli("region", "B1", "--slice", "B1/image_slice/0", "--box", "4,4,16,16", "--label", "mass",
            "--author", "ben", "--role", "clinician", "--base-version", v3.ToString(), "--json");
        Assert.True(code == 0, stderr);
        Assert.Equal("B1/image_region/1", JsonNode.Parse(stdout)!["change"]!["region_id"]!.GetValue<string>());
        (code, _, stderr) = Cli("diagnose", "B2", "--code", "C50.919", "--system", "icd10cm", "--status", "confirmed",
            "--author", "r", "--role", "researcher", "--base-version", v3.ToString());
        Assert.Equal(3, code);
        Assert.Contains("role 'researcher' may not validate", stderr);

        (code, stdout, stderr) = Cli("history", "B1", "--json");
        Assert.True(code == 0, stderr);
        var versions = JsonNode.Parse(stdout)!["versions"]!.AsArray();
        Assert.Equal(4, versions.Count);
        Assert.Equal(["ann", "ben", "ben"], versions.Skip(1).Select(x => x!["author"]!.GetValue<string>()));
        Assert.Equal("seen on US", versions[2]!["reason"]!.GetValue<string>());
        foreach (var key in new[] { "version", "time", "author", "role", "message", "reason", "changed" })
            Assert.True(versions[1]!.AsObject().ContainsKey(key), key);

        (code, stdout, stderr) = Cli("similar", "--study", "B0", "--limit", "5", "--json");
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        Assert.Equal(["results", "summary"], doc.RootElement.EnumerateObject().Select(p => p.Name));
        var results = doc.RootElement.GetProperty("results");
        Assert.Equal(5, results.GetArrayLength());
        foreach (var r in results.EnumerateArray())
            Assert.Equal(["study_id", "score", "outcomes"], r.EnumerateObject().Select(p => p.Name));
        var summary = doc.RootElement.GetProperty("summary").EnumerateArray().Single(s => s.GetProperty("code").GetString() == "C50.919");
        Assert.Equal(["code", "display", "count", "study_ids"], summary.EnumerateObject().Select(p => p.Name));
        Assert.Equal(1, summary.GetProperty("count").GetInt32());
        Assert.Equal("B1", summary.GetProperty("study_ids")[0].GetString());

        (code, stdout, stderr) = Cli("similar", "--study", "B1", "--region", "B1/image_slice/0:4,4,16,16", "--json");
        Assert.True(code == 0, stderr);
        var hit = JsonNode.Parse(stdout)!["results"]![0]!;
        Assert.Equal("B1/image_region/1", hit["region_id"]!.GetValue<string>());
        Assert.True(hit["score"]!.GetValue<double>() > 0.99);
    }
}

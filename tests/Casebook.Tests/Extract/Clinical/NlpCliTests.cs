using System.Text.Json.Nodes;

namespace Casebook.Tests.Extract.Clinical;

/// <summary>The <c>nlp analyze</c>, <c>nlp assert</c> and <c>codes</c> contracts through the real CLI binary.</summary>
public class NlpCliTests
{
    [Fact]
    public void Nlp_analyze_prints_sentences_concepts_and_phi_as_specified()
    {
        using var tmp = new TempDirectory();
        var (code, stdout, stderr) = CliProcess.Run(tmp.Path, tmp.KeyFile, TimeSpan.FromMinutes(2), "nlp", "analyze", "--text", "No pneumothorax. Possible left lower lobe pneumonia.", "--json");
        Assert.True(code == 0, stderr);
        var root = JsonNode.Parse(stdout)!.AsObject();
        Assert.Equal(["sentences", "concepts", "phi"], root.Select(kv => kv.Key));
        Assert.Equal(2, root["sentences"]!.AsArray().Count);
        Assert.Equal(0, root["sentences"]![0]!["start"]!.GetValue<int>());
        var concepts = root["concepts"]!.AsArray().Select(c => c!.AsObject()).ToList();
        var ptx = concepts.First(c => c["term"]!.GetValue<string>() == "pneumothorax");
        foreach (var key in new[] { "start", "end", "text", "term", "category", "codes", "negated", "uncertain", "historical", "hypothetical", "experiencer" })
            Assert.True(ptx.ContainsKey(key), key);
        Assert.True(ptx["negated"]!.GetValue<bool>());
        Assert.Equal(["J93.9"], ptx["codes"]!.AsArray().Select(c => c!.GetValue<string>()));
        Assert.Equal("patient", ptx["experiencer"]!.GetValue<string>());
        Assert.True(concepts.First(c => c["term"]!.GetValue<string>() == "pneumonia")["uncertain"]!.GetValue<bool>());
        Assert.Empty(root["phi"]!.AsArray());
    }

    [Fact]
    public void Nlp_analyze_reports_phi_spans_from_the_text_deidentifier()
    {
        using var tmp = new TempDirectory();
        const string text = "Seen by Dr. Agnes Whitfield on 03/14/2019 for chest pain.";
        var (code, stdout, stderr) = CliProcess.Run(tmp.Path, tmp.KeyFile, TimeSpan.FromMinutes(2), "nlp", "analyze", "--text", text, "--json");
        Assert.True(code == 0, stderr);
        var phi = JsonNode.Parse(stdout)!["phi"]!.AsArray().Select(p => p!.AsObject()).ToList();
        var spans = phi.Select(p => (text[p["start"]!.GetValue<int>()..p["end"]!.GetValue<int>()], p["type"]!.GetValue<string>())).ToList();
        Assert.Contains(spans, s => s.Item1.Contains("Whitfield"));
        Assert.Contains(spans, s => s.Item1 == "03/14/2019");
        Assert.DoesNotContain(spans, s => s.Item1.Contains("chest"));
    }

    [Fact]
    public void Nlp_assert_writes_exactly_one_line_per_input_line_even_for_bad_lines()
    {
        using var tmp = new TempDirectory();
        var psi = CliProcess.StartInfo(tmp.Path, tmp.KeyFile, "nlp", "assert", "--jsonl");
        psi.RedirectStandardInput = true;
        using var p = System.Diagnostics.Process.Start(psi)!;
        p.StandardInput.Write("""
            {"sentence":"The patient denies chest pain.","target":"chest pain"}
            not json
            {"sentence":"Mother has diabetes.","target":"DIABETES"}
            {"target":"x"}

            {"sentence":"History of MI, rule out PE.","target":"PE"}
            """.Replace("\r", "") + "\n");
        p.StandardInput.Close();
        var lines = p.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        p.WaitForExit();
        Assert.Equal(6, lines.Length);
        var o = lines.Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        Assert.True(o[0]["negated"]!.GetValue<bool>());
        Assert.Equal(["negated", "uncertain", "historical", "hypothetical", "experiencer"], o[0].Select(kv => kv.Key));
        Assert.Contains("line 2", o[1]["error"]!.GetValue<string>());
        Assert.Equal("other", o[2]["experiencer"]!.GetValue<string>());
        Assert.Contains("sentence", o[3]["error"]!.GetValue<string>());
        Assert.True(o[4].ContainsKey("error")); // an empty line is still answered
        Assert.True(o[5]["uncertain"]!.GetValue<bool>());
        Assert.False(o[5]["negated"]!.GetValue<bool>());
    }

    [Fact]
    public void Codes_import_and_lookup_through_the_cli()
    {
        using var tmp = new TempDirectory();
        var db = tmp["db"];
        var (code, stdout, stderr) = CliProcess.Run(tmp.Path, tmp.KeyFile, TimeSpan.FromMinutes(2), "codes", "import", SharedData.Require("codes/icd10cm/categories.csv"), "--db", db, "--json");
        Assert.True(code == 0, stderr);
        Assert.Equal(24628, JsonNode.Parse(stdout)!["imported"]!.GetValue<int>());
        (code, stdout, stderr) = CliProcess.Run(tmp.Path, tmp.KeyFile, TimeSpan.FromMinutes(2), "codes", "lookup", "J93.9", "--db", db, "--json");
        Assert.True(code == 0, stderr);
        var info = JsonNode.Parse(stdout)!;
        Assert.Equal("Pneumothorax, unspecified", info["display"]!.GetValue<string>());
        Assert.Equal("J93", info["ancestors"]![0]!["code"]!.GetValue<string>());
    }
}

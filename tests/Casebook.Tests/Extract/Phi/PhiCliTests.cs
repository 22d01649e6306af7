using System.Text.Json.Nodes;

namespace Casebook.Tests.Extract.Phi;

public class PhiCliTests
{
    [Fact]
    public void Deid_text_prints_json_with_spans_in_the_deidentified_text()
    {
        using var tmp = new TempDirectory();
        var (code, stdout, stderr) = CliProcess.Run(tmp.Path, tmp.KeyFile, TimeSpan.FromMinutes(2),
            "deid-text", "--text", "Seen by Dr. Adeyemi on 03/14/2019. MRN: 4419023.", "--patient-id", "P1", "--tags", "--json");
        Assert.True(code == 0, stderr);
        var o = JsonNode.Parse(stdout)!;
        var text = (string)o["text"]!;
        Assert.StartsWith("Seen by Dr. [NAME] on ", text);
        Assert.EndsWith("MRN: [MRN].", text);
        Assert.DoesNotContain("03/14/2019", text);
        var spans = o["spans"]!.AsArray();
        Assert.Equal(["NAME", "DATE", "MRN"], spans.Select(s => (string)s!["type"]!));
        Assert.All(spans, s => Assert.True((int)s!["end"]! <= text.Length));
        Assert.Equal("[NAME]", text[(int)spans[0]!["start"]!..(int)spans[0]!["end"]!]);

        // The same patient and key give the same shifted date every time.
        var again = CliProcess.Run(tmp.Path, tmp.KeyFile, TimeSpan.FromMinutes(2), "deid-text", "--text", "on 03/14/2019", "--patient-id", "P1");
        Assert.Contains(text.Split(" on ")[1].Split('.')[0], again.Stdout);
    }
}

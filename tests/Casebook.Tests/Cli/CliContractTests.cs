using System.Text.Json;
using Casebook.Tests.Search;
using DuckDB.NET.Data;

namespace Casebook.Tests.Cli;

/// <summary>The CLI's verbs and JSON outputs are contracts other tools rely on.</summary>
[Collection("demo corpus")]
public class CliContractTests(DemoCorpusFixture demo)
{
    (int Code, string Stdout, string Stderr) Cli(params string[] args) =>
        CliProcess.Run(demo.Temp.Path, demo.Temp.KeyFile, TimeSpan.FromMinutes(3), args);

    [Fact]
    public void Search_json_has_the_documented_shape()
    {
        var (code, stdout, stderr) = Cli("search", "pleural effusion", "--db", demo.DbDir, "--where", "modality = 'CR'", "--limit", "2", "--json");
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout); // stdout holds only the answer
        var root = doc.RootElement;
        Assert.True(root.GetProperty("took_ms").GetDouble() >= 0);
        var results = root.GetProperty("results");
        Assert.Equal(2, results.GetArrayLength());
        foreach (var r in results.EnumerateArray())
        {
            foreach (var field in new[] { "study_id", "patient_pseudo_id", "score", "modality", "exam_date", "matches" })
                Assert.True(r.TryGetProperty(field, out _), $"result lacks '{field}'");
            Assert.Equal("CR", r.GetProperty("modality").GetString());
            Assert.Equal(JsonValueKind.Number, r.GetProperty("score").ValueKind);
            foreach (var m in r.GetProperty("matches").EnumerateArray())
                foreach (var field in new[] { "segment_id", "kind", "text", "score" })
                    Assert.True(m.TryGetProperty(field, out _), $"match lacks '{field}'");
        }
    }

    [Fact]
    public void Versions_json_lists_integer_versions_with_time_author_message()
    {
        var (code, stdout, stderr) = Cli("versions", "--db", demo.DbDir, "--json");
        Assert.True(code == 0, stderr);
        var v = JsonDocument.Parse(stdout).RootElement.GetProperty("versions")[0];
        Assert.Equal(1, v.GetProperty("version").GetInt64());
        Assert.False(string.IsNullOrEmpty(v.GetProperty("time").GetString()));
        Assert.False(string.IsNullOrEmpty(v.GetProperty("author").GetString()));
        Assert.Equal("demo corpus", v.GetProperty("message").GetString());
    }

    [Fact]
    public void Usage_errors_and_bad_filters_exit_non_zero_with_a_message_on_stderr()
    {
        var (code, stdout, stderr) = Cli("search", "x", "--db", demo.DbDir, "--mode", "fuzzy");
        Assert.Equal(2, code);
        Assert.Contains("--mode", stderr);
        Assert.Equal("", stdout);
        (code, stdout, stderr) = Cli("search", "x", "--db", demo.DbDir, "--where", "modality = 'CR");
        Assert.Equal(3, code);
        Assert.Contains("unterminated", stderr, StringComparison.OrdinalIgnoreCase);
        (code, _, stderr) = Cli("search", "x", "--db", demo.Temp["nothing-here"]);
        Assert.Equal(3, code);
        Assert.Contains("no Casebook database", stderr);
    }

    [Fact]
    public void Export_to_parquet_is_read_back_by_duckdb()
    {
        var outPath = demo.Temp["export.parquet"];
        var (code, _, stderr) = Cli("export", "--db", demo.DbDir, "--format", "parquet", "--out", outPath);
        Assert.True(code == 0, stderr);
        using var c = new DuckDBConnection("Data Source=:memory:");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT study_id, modality, len(text_embeddings), len(text_embeddings[1]), octet_length(dicom_image) FROM read_parquet('{outPath}') ORDER BY study_id";
        using var r = cmd.ExecuteReader();
        var rows = 0;
        while (r.Read())
        {
            rows++;
            if (r.GetString(0).StartsWith("DEMO-"))
            {
                // Demo reports: paragraph vectors of 384 floats.
                Assert.True(Convert.ToInt64(r.GetValue(2)) > 0);
                Assert.Equal(384L, Convert.ToInt64(r.GetValue(3)));
            }
            else
            {
                // Demo DICOM studies: remapped UID as study_id and the de-identified key instance as bytes.
                Assert.StartsWith("2.25.", r.GetString(0));
                Assert.True(Convert.ToInt64(r.GetValue(4)) > 128);
            }
        }
        Assert.Equal(demo.Db.CountStudies(), rows);
    }
}

using Casebook.Search.Text;
using Microsoft.Data.Sqlite;
using Xunit;

namespace Casebook.Tests.Text;

public class TextAnalyzerTests
{
    [Fact]
    public void Tokenize_folds_case_and_diacritics_and_keeps_offsets()
    {
        var text = "Café-au-lait SPOTS, T12 fracture; naïve";
        var tokens = TextAnalyzer.Tokenize(text);
        Assert.Equal(["cafe", "au", "lait", "spots", "t12", "fracture", "naive"], tokens.Select(t => t.Term));
        foreach (var t in tokens) Assert.Equal(t.Surface, text[t.Start..t.End]);
    }

    [Theory]
    [InlineData("effusions", "effus")]
    [InlineData("opacities", "opac")]
    [InlineData("consolidation", "consolid")]
    [InlineData("enlarged", "enlarg")]
    [InlineData("hyperinflation", "hyperinfl")]
    [InlineData("radiology", "radiolog")]
    [InlineData("sky", "sky")]
    [InlineData("is", "is")]
    public void Stem_matches_porter(string word, string stem) => Assert.Equal(stem, TextAnalyzer.Stem(word));

    /// <summary>The stems we compute must be the terms FTS5 (tokenize='porter unicode61') indexes,
    /// checked word by word over the real IU X-ray and MTSamples vocabulary.</summary>
    [Fact]
    public void Stems_agree_with_sqlite_fts5_porter_on_real_vocabulary()
    {
        var words = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var rel in new[] { "text/iu-xray/indiana_reports.csv", "text/mtsamples/mtsamples.csv" })
            foreach (var t in TextAnalyzer.Tokenize(File.ReadAllText(SharedData.Require(rel))))
                words.Add(t.Term);
        Assert.True(words.Count > 10_000, $"vocabulary too small: {words.Count}");
        var list = words.ToList();

        using var db = new SqliteConnection("Data Source=:memory:");
        db.Open();
        Exec(db, "CREATE VIRTUAL TABLE v USING fts5(text, tokenize='porter unicode61'); CREATE VIRTUAL TABLE vi USING fts5vocab(v, 'instance');");
        using (var tx = db.BeginTransaction())
        {
            using var ins = db.CreateCommand();
            ins.CommandText = "INSERT INTO v(rowid, text) VALUES ($id, $t)";
            var id = ins.Parameters.Add("$id", SqliteType.Integer);
            var tp = ins.Parameters.Add("$t", SqliteType.Text);
            for (int i = 0; i < list.Count; i++) { id.Value = i; tp.Value = list[i]; ins.ExecuteNonQuery(); }
            tx.Commit();
        }
        var mismatches = new List<string>();
        using var q = db.CreateCommand();
        q.CommandText = "SELECT doc, term FROM vi";
        using var r = q.ExecuteReader();
        int seen = 0;
        while (r.Read())
        {
            seen++;
            var word = list[(int)r.GetInt64(0)];
            var sqliteStem = r.GetString(1);
            var ours = TextAnalyzer.Stem(word);
            if (ours != sqliteStem) mismatches.Add($"{word}: sqlite={sqliteStem} ours={ours}");
        }
        Assert.Equal(list.Count, seen);
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {list.Count} differ, e.g.\n" + string.Join("\n", mismatches.Take(40)));
    }

    static void Exec(SqliteConnection db, string sql)
    {
        using var c = db.CreateCommand();
        c.CommandText = sql;
        c.ExecuteNonQuery();
    }
}

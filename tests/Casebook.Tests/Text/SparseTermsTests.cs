using Casebook.Search.Text;
using Microsoft.Data.Sqlite;
using Xunit;

namespace Casebook.Tests.Text;

public class SparseTermsTests
{
    [Fact]
    public void Terms_are_stemmed_stop_words_and_placeholders_removed()
    {
        var t = SparseTerms.Compute("There are no XXXX of a pleural effusion. Effusions are small.");
        Assert.Equal(["effus", "pleural", "small"], t.Keys.Order());
        Assert.True(t["effus"] > t["pleural"]);
    }

    [Fact]
    public void Term_frequency_saturates()
    {
        var once = SparseTerms.Compute("effusion")["effus"];
        var many = SparseTerms.Compute(string.Join(" ", Enumerable.Repeat("effusion", 50)))["effus"];
        Assert.True(many > once);
        Assert.True(many < SparseTerms.K1 + 1);
        Assert.Empty(SparseTerms.Compute(""));
        Assert.Empty(SparseTerms.Compute(null));
    }

    [Fact]
    public void Sparse_terms_are_the_terms_fts5_indexes()
    {
        var rows = Segment.Csv.Read(SharedData.Require("text/iu-xray/indiana_reports.csv"));
        var text = string.Join("\n", rows.Skip(1).Take(300).Select(r => string.Join(" ", r.Skip(4))));
        using var db = new SqliteConnection("Data Source=:memory:");
        db.Open();
        using (var c = db.CreateCommand())
        {
            c.CommandText = "CREATE VIRTUAL TABLE f USING fts5(text, tokenize='porter unicode61'); CREATE VIRTUAL TABLE fv USING fts5vocab(f, 'row'); INSERT INTO f(text) VALUES ($t);";
            c.Parameters.AddWithValue("$t", text);
            c.ExecuteNonQuery();
        }
        var vocab = new HashSet<string>();
        using (var c = db.CreateCommand())
        {
            c.CommandText = "SELECT term FROM fv";
            using var r = c.ExecuteReader();
            while (r.Read()) vocab.Add(r.GetString(0));
        }
        var terms = SparseTerms.Compute(text);
        Assert.True(terms.Count > 300);
        Assert.All(terms.Keys, k => Assert.Contains(k, vocab));
    }

    [Fact]
    public void Query_vectors_weight_expansions_below_user_words()
    {
        var q = SparseTerms.ComputeQuery("SOB", MedicalQueryExpansion.Default);
        Assert.Equal(1f, q["sob"]);
        Assert.Equal(MedicalQueryExpansion.AbbreviationWeight, q["breath"]);
        Assert.False(q.ContainsKey("of"));
        var doc = SparseTerms.Compute("Patient reports shortness of breath.");
        var docAbbrev = SparseTerms.Compute("Patient reports SOB.");
        Assert.True(SparseTerms.Score(q, docAbbrev) > 0);
        Assert.True(SparseTerms.Score(q, doc) > 0);
        Assert.Equal(0f, SparseTerms.Score(q, SparseTerms.Compute("Normal chest.")));
    }
}

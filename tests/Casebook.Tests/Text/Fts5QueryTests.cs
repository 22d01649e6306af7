using Casebook.Search.Text;
using Microsoft.Data.Sqlite;
using Xunit;

namespace Casebook.Tests.Text;

/// <summary>Queries are run against a real FTS5 table (tokenize='porter unicode61'): hostile text must never be a syntax error.</summary>
public class Fts5QueryTests : IDisposable
{
    readonly SqliteConnection _db = new("Data Source=:memory:");

    public Fts5QueryTests()
    {
        _db.Open();
        Exec("CREATE VIRTUAL TABLE segments_fts USING fts5(text, tokenize='porter unicode61')");
        var docs = new[]
        {
            "Small left pleural effusion. No pneumothorax.",          // 1
            "CT angiogram shows a pulmonary embolism in the right lower lobe.", // 2
            "The heart is enlarged. Mild pulmonary edema.",             // 3
            "Patient reports shortness of breath on exertion.",         // 4
            "Cardiomegaly with vascular congestion.",                   // 5
            "NEAR the hilum there is an opacity; column: none.",        // 6
            "Café-au-lait macule on the trunk.",                        // 7
            "History of SOB and HTN.",                                  // 8
        };
        for (int i = 0; i < docs.Length; i++) Exec("INSERT INTO segments_fts(rowid, text) VALUES ($id, $t)", ("$id", i + 1), ("$t", docs[i]));
    }

    public void Dispose() => _db.Dispose();

    void Exec(string sql, params (string, object)[] ps)
    {
        using var c = _db.CreateCommand();
        c.CommandText = sql;
        foreach (var (n, v) in ps) c.Parameters.AddWithValue(n, v);
        c.ExecuteNonQuery();
    }

    long[] Match(string? expression)
    {
        if (expression == null) return [];
        using var c = _db.CreateCommand();
        c.CommandText = "SELECT rowid FROM segments_fts WHERE segments_fts MATCH $q ORDER BY bm25(segments_fts), rowid";
        c.Parameters.AddWithValue("$q", expression);
        using var r = c.ExecuteReader();
        var ids = new List<long>();
        while (r.Read()) ids.Add(r.GetInt64(0));
        return ids.ToArray();
    }

    [Fact]
    public void Terms_are_quoted_and_ored_with_stop_words_dropped()
    {
        Assert.Equal("\"pleural\" OR \"effusions\"", Fts5Query.Build("the pleural effusions"));
        Assert.Equal([1L], Match(Fts5Query.Build("the pleural effusions")));
        Assert.Equal("\"no\"", Fts5Query.Build("no"));
        Assert.Null(Fts5Query.Build("  ... !!! "));
        Assert.Null(Fts5Query.Build(null));
    }

    [Theory]
    [InlineData("\"unbalanced quote")]
    [InlineData("effusion\" OR \"x")]
    [InlineData("NEAR(effusion pneumothorax, 2)")]
    [InlineData("text: effusion")]
    [InlineData("{text}: effusion")]
    [InlineData("- text : effusion")]
    [InlineData("effus*")]
    [InlineData("^effusion")]
    [InlineData("effusion AND NOT pneumothorax")]
    [InlineData("(((effusion")]
    [InlineData("effusion))) OR (")]
    [InlineData("+effusion + -")]
    [InlineData("'; DROP TABLE segments_fts; --")]
    [InlineData("\u0000\u0001 effusion \uFFFF \uD800")]
    [InlineData("肺 effusion 😀 ﷽")]
    [InlineData("AND")]
    [InlineData("NOT OR AND NEAR")]
    public void Hostile_text_never_breaks_the_match_expression(string userText)
    {
        foreach (var expansion in new QueryExpansion?[] { null, MedicalQueryExpansion.Default })
        {
            var q = Fts5Query.Build(userText, expansion);
            Match(q); // throws SqliteException on any FTS5 syntax error
            foreach (var part in (q ?? "").Split(" OR ", StringSplitOptions.None).Where(p => p.Length > 0))
            {
                Assert.StartsWith("\"", part);
                Assert.EndsWith("\"", part);
                Assert.DoesNotContain('"', part[1..^1]);
                Assert.All(part[1..^1], c => Assert.True(char.IsLetterOrDigit(c) || c == ' ', $"unexpected '{c}' in {q}"));
            }
        }
        Assert.Equal(1, CountRows());
    }

    long CountRows()
    {
        using var c = _db.CreateCommand();
        c.CommandText = "SELECT count(*) FROM sqlite_master WHERE name = 'segments_fts'";
        return (long)c.ExecuteScalar()!;
    }

    [Fact]
    public void Fts5_operators_typed_by_the_user_are_plain_words()
    {
        // "NEAR" matches the word near in document 6, not the NEAR operator.
        Assert.Equal([6L], Match(Fts5Query.Build("NEAR")));
        Assert.Equal([6L], Match(Fts5Query.Build("column:")));
        Assert.Equal("\"near\" OR \"effusion\" OR \"pneumothorax\" OR \"2\"", Fts5Query.Build("NEAR(effusion pneumothorax, 2)"));
    }

    [Fact]
    public void Very_long_input_is_capped()
    {
        var words = string.Join(" ", Enumerable.Range(0, 3000).Select(i => "w" + i));
        Assert.True(words.Length > 10_000);
        var phrases = Fts5Query.Phrases(words, MedicalQueryExpansion.Default);
        Assert.Equal(Fts5Query.MaxTerms, phrases.Count);
        Match(Fts5Query.Build(words, MedicalQueryExpansion.Default));
        var oneWord = new string('a', 10_000);
        Assert.Empty(Match(Fts5Query.Build(oneWord)));
    }

    [Fact]
    public void Unicode_is_folded_like_the_index()
    {
        Assert.Equal([7L], Match(Fts5Query.Build("CAFE")));
        Assert.Equal([7L], Match(Fts5Query.Build("café")));
    }

    [Fact]
    public void Abbreviations_expand_for_recall()
    {
        var q = Fts5Query.Build("SOB", MedicalQueryExpansion.Default);
        Assert.Equal("\"sob\" OR \"shortness of breath\" OR \"dyspnea\"", q);
        Assert.Equal([4L, 8L], Match(q).Order().ToArray());
        Assert.Equal([8L], Match(Fts5Query.Build("SOB")));
        // and long forms find the abbreviation
        Assert.Contains(8L, Match(Fts5Query.Build("hypertension", MedicalQueryExpansion.Default)));
    }

    [Fact]
    public void Synonyms_expand_and_match_by_stem()
    {
        var q = Fts5Query.Build("enlarged hearts", MedicalQueryExpansion.Default);
        Assert.Contains("\"cardiomegaly\"", q);
        var hits = Match(q);
        Assert.Contains(3L, hits);
        Assert.Contains(5L, hits);
    }

    [Fact]
    public void Ambiguous_pe_uses_cues_and_otherwise_adds_every_sense_at_low_weight()
    {
        var ct = Fts5Query.Phrases("CT chest PE", MedicalQueryExpansion.Default);
        Assert.Contains(ct, p => p.Text == "pulmonary embolism" && p.Weight == MedicalQueryExpansion.AbbreviationWeight);
        Assert.DoesNotContain(ct, p => p.Text == "pleural effusion");

        var xray = Fts5Query.Phrases("chest x-ray PE", MedicalQueryExpansion.Default);
        Assert.Contains(xray, p => p.Text == "pleural effusion");
        Assert.DoesNotContain(xray, p => p.Text == "pulmonary embolism");

        var bare = Fts5Query.Phrases("PE", MedicalQueryExpansion.Default);
        Assert.Contains(bare, p => p.Text == "pulmonary embolism" && p.Weight == MedicalQueryExpansion.AmbiguousWeight);
        Assert.Contains(bare, p => p.Text == "pleural effusion" && p.Weight == MedicalQueryExpansion.AmbiguousWeight);
        Assert.Contains(bare, p => p.Text == "physical exam");
        var hits = Match(Fts5Query.Build("PE", MedicalQueryExpansion.Default));
        Assert.Contains(1L, hits);
        Assert.Contains(2L, hits);
    }

    [Fact]
    public void Original_terms_outweigh_expansions()
    {
        var phrases = Fts5Query.Phrases("MI with CHF", MedicalQueryExpansion.Default);
        Assert.All(phrases.Where(p => !p.IsExpansion), p => Assert.Equal(1f, p.Weight));
        Assert.All(phrases.Where(p => p.IsExpansion), p => Assert.True(p.Weight < 1f));
        Assert.Contains(phrases, p => p.Text == "myocardial infarction");
        Assert.Contains(phrases, p => p.Text == "congestive heart failure");
        Assert.DoesNotContain(phrases, p => p.Text == "with");
    }

    [Fact]
    public void English_words_that_are_abbreviations_expand_only_in_capitals()
    {
        Assert.DoesNotContain(Fts5Query.Phrases("as needed", MedicalQueryExpansion.Default), p => p.Text == "aortic stenosis");
        Assert.Contains(Fts5Query.Phrases("severe AS on echo", MedicalQueryExpansion.Default), p => p.Text == "aortic stenosis");
        Assert.DoesNotContain(Fts5Query.Phrases("show us", MedicalQueryExpansion.Default), p => p.Text == "ultrasound");
        Assert.Contains(Fts5Query.Phrases("US abdomen", MedicalQueryExpansion.Default), p => p.Text == "ultrasound");
    }

    [Fact]
    public void Multi_word_terms_expand_to_abbreviations_and_synonyms()
    {
        var phrases = Fts5Query.Phrases("shortness of breath", MedicalQueryExpansion.Default);
        Assert.Contains(phrases, p => p.Text == "sob");
        Assert.Contains(phrases, p => p.Text == "dyspnea");
        Assert.Contains(Fts5Query.Phrases("infiltrates", MedicalQueryExpansion.Default), p => p.Text == "opacity");
    }
}

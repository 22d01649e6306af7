using Casebook.Search.Filtering;
using Microsoft.Data.Sqlite;

namespace Casebook.Tests.Filtering;

/// <summary>region.* predicates over image_regions (docs/filter-language.md, docs/regions.md).</summary>
public sealed class RegionFilterTests : IDisposable
{
    readonly SqliteConnection _db = new("Data Source=:memory:");

    public RegionFilterTests()
    {
        _db.Open();
        using var c = _db.CreateCommand();
        c.CommandText = """
            CREATE TABLE studies(study_id TEXT PRIMARY KEY, modality TEXT, image_regions TEXT NOT NULL DEFAULT '[]');
            INSERT INTO studies VALUES
             ('A', 'CT', '[{"label":"GTV-1","source":"RTSTRUCT","features":{"volume_mm3":358681.5,"sphericity":0.41,"mean":-3.2}},
                           {"label":"Liver","source":"SEG","type":{"code":"10200004","scheme":"SCT","meaning":"Liver"},"features":{"volume_mm3":1500000,"sphericity":0.7}}]'),
             ('B', 'CT', '[{"label":"Nodule","source":"SEG","features":{"volume_mm3":420,"sphericity":0.9,"mean":"n/a"}}]'),
             ('C', 'CR', '[{"label":"opacity","shape":"box","pixel":{"x":1,"y":2,"w":3,"h":4}}]'),
             ('D', 'MR', '[]');
            """;
        c.ExecuteNonQuery();
    }

    public void Dispose() => _db.Dispose();

    string[] Run(string filter)
    {
        var f = FilterCompiler.Compile(filter);
        using var c = _db.CreateCommand();
        c.CommandText = $"SELECT s.study_id FROM studies s WHERE {f.Sql} ORDER BY 1";
        f.ApplyTo(c);
        using var r = c.ExecuteReader();
        var ids = new List<string>();
        while (r.Read()) ids.Add(r.GetString(0));
        return ids.ToArray();
    }

    [Fact]
    public void Numeric_region_features_compare_as_numbers()
    {
        Assert.Equal(["A"], Run("region.sphericity < 0.6"));
        Assert.Equal(["A", "B"], Run("region.sphericity >= 0.7"));
        Assert.Equal(["A"], Run("region.volume_mm3 > 1e6"));
        // A text value under a numeric feature is never a number: "n/a" does not satisfy mean < 0 or mean > 0.
        Assert.Equal(["A"], Run("region.mean < 0"));
        Assert.Empty(Run("region.mean > 0"));
        Assert.Equal(["A", "B"], Run("region.sphericity IS NOT NULL"));
    }

    [Fact]
    public void Label_source_and_coded_type_filter_regions()
    {
        Assert.Equal(["A"], Run("region.label = 'gtv-1'"));
        Assert.Equal(["A", "B"], Run("region.source = 'SEG'"));
        Assert.Equal(["C"], Run("region.source = 'clinician'")); // entries without a source are clinician regions
        Assert.Equal(["A"], Run("region.type = 'Liver'"));
        Assert.Equal(["A"], Run("region.type_code = '10200004'"));
        Assert.Equal(["A", "B"], Run("region.source IN ('SEG', 'RTSTRUCT') AND modality = 'CT'"));
        Assert.Equal(["B", "C", "D"], Run("NOT region.source = 'RTSTRUCT'"));
        Assert.Equal(["A"], Run("region.label contains 'LIV'"));
    }

    [Fact]
    public void Region_predicates_joined_by_and_describe_one_region()
    {
        // Study A has a small-sphericity GTV and a large Liver; no single region is a SEG with sphericity < 0.6.
        Assert.Empty(Run("region.source = 'SEG' AND region.sphericity < 0.6"));
        Assert.Equal(["A"], Run("region.source = 'RTSTRUCT' AND region.sphericity < 0.6"));
        // Separate regions can still be asked for with separate groups.
        Assert.Equal(["A"], Run("(region.source = 'SEG') AND modality = 'CT' AND (region.sphericity < 0.5)"));
    }

    [Theory]
    [InlineData("region.sphericity < ")]
    [InlineData("region. = 'x'")]
    [InlineData("region.a\"b < 1")]
    [InlineData("region.x') OR 1=1 -- < 1")]
    [InlineData("region.sphericity < 0.6; DROP TABLE studies")]
    public void Hostile_region_filters_fail_cleanly(string filter)
    {
        Assert.Throws<FilterSyntaxException>(() => FilterCompiler.Compile(filter));
        Assert.Equal(4, Run("study_id IS NOT NULL").Length); // table intact
    }

    [Fact]
    public void Region_keys_are_never_spliced_unchecked()
    {
        var f = FilterCompiler.Compile("region.sphericity < 0.6 AND region.label = 'x'' OR 1=1'");
        Assert.Contains("$.features.\"sphericity\"", f.Sql);
        Assert.DoesNotContain("OR 1=1", f.Sql);
        Assert.Equal(2, f.Parameters.Count);
    }
}

using Casebook.Search.Filtering;
using Xunit;

namespace Casebook.Tests.Filtering;

/// <summary>Compiled filters executed against a real SQLite table: the results are the proof.</summary>
public class FilterExecutionTests : IDisposable
{
    readonly FilterTestDb _db = new();
    public void Dispose() => _db.Dispose();

    [Theory]
    [InlineData("modality = 'CR'", "S1")]
    [InlineData("MODALITY = 'cr'", "S1")]
    [InlineData("modality == 'CT'", "S2")]
    [InlineData("modality = 'US'", "S5")]
    [InlineData("modality != 'CR'", "S2,S3,S5")]
    [InlineData("modality <> 'CR'", "S2,S3,S5")]
    [InlineData("study_id < 'S3'", "S1,S2")]
    [InlineData("study_id <= 'S3'", "S1,S2,S3")]
    [InlineData("study_id > 'S3'", "S4,S5")]
    [InlineData("study_id >= 'S3'", "S3,S4,S5")]
    [InlineData("patient_pseudo_id = 'O''Brien'", "S4")]
    [InlineData("dicom_mime = 'image/png'", "S3")]
    public void Comparisons_on_text_fields(string filter, string expected) => Assert.Equal(Split(expected), _db.Run(filter));

    [Theory]
    [InlineData("exam_date = DATE '2024-01-15'", "S1")]
    [InlineData("exam_date = '2024-01-15'", "S1")]
    [InlineData("exam_date >= '2024-01-01'", "S1,S2,S5")]
    [InlineData("exam_date > DATE '2024-01-15'", "S2,S5")]
    [InlineData("exam_date < date '2024-01-01'", "S3")]
    [InlineData("exam_date <= '2024-01-15'", "S1,S3")]
    [InlineData("exam_date >= '2024-01-01' AND exam_date < '2025-01-01'", "S1,S2")]
    [InlineData("exam_date IN ('2024-03-01', DATE '2023-12-31')", "S2,S3")]
    [InlineData("exam_date IS NULL", "S4")]
    [InlineData("exam_date IS NOT NULL", "S1,S2,S3,S5")]
    public void Dates_compare_as_dates(string filter, string expected) => Assert.Equal(Split(expected), _db.Run(filter));

    [Theory]
    [InlineData("modality IN ('CT', 'mr')", "S2,S3")]
    [InlineData("modality NOT IN ('CT', 'MR')", "S1,S5")]
    [InlineData("sex in ('f')", "S1,S3")]
    [InlineData("study_id IN ('S1')", "S1")]
    public void In_lists(string filter, string expected) => Assert.Equal(Split(expected), _db.Run(filter));

    [Theory]
    [InlineData("clinical_codes contains 'J90'", "S1")]
    [InlineData("clinical_codes contains 'icd10:j90'", "S1")]
    [InlineData("clinical_codes contains '60046008'", "S1")]
    [InlineData("clinical_codes contains 'I26.9'", "S2")]
    [InlineData("clinical_codes contains 'J9'", "")]
    [InlineData("clinical_codes not contains 'J90'", "S2,S3,S4,S5")]
    [InlineData("pathology_findings contains 'effusion'", "S1")]
    [InlineData("pathology_findings contains 'EMBOLISM'", "S2")]
    [InlineData("anatomical_regions contains 'chest'", "S1,S2")]
    [InlineData("risk_factors contains 'smoker' OR risk_factors contains 'obesity'", "S2,S5")]
    [InlineData("report_text contains 'EFFUSION'", "S1")]
    [InlineData("device contains 'ct'", "S2")]
    [InlineData("clinical_codes IS NULL", "S3,S4")]
    [InlineData("clinical_codes IS NOT NULL", "S1,S2,S5")]
    [InlineData("pathology_findings is null", "S3,S4")]
    public void Contains_and_list_fields(string filter, string expected) => Assert.Equal(Split(expected), _db.Run(filter));

    [Theory]
    [InlineData("body_part = 'CHEST'", "S1,S2")]
    [InlineData("sex = 'M'", "S2,S5")]
    [InlineData("age_band = '90+'", "S2")]
    [InlineData("manufacturer = 'agfa'", "S1")]
    [InlineData("metadata.station = 'MR1'", "S3")]
    [InlineData("metadata.age >= 40", "S1")]
    [InlineData("metadata.age = 42", "S1")]
    [InlineData("metadata.age = '45'", "S5")]
    [InlineData("metadata.age IS NULL", "S2,S3,S4")]
    [InlineData("station IS NOT NULL", "S3")]
    public void Metadata_fields(string filter, string expected) => Assert.Equal(Split(expected), _db.Run(filter));

    [Fact]
    public void Segment_kind_filters_join_segments()
    {
        Assert.True(FilterCompiler.Compile("kind = 'image_slice'").UsesSegmentFields);
        Assert.False(FilterCompiler.Compile("modality = 'CR'").UsesSegmentFields);
        Assert.Equal(["S1", "S2"], _db.Run("kind = 'image_slice'"));
        Assert.Equal(["S1"], _db.Run("kind = 'report_paragraph' AND modality = 'CR'"));
        Assert.Equal(["S3"], _db.Run("kind IN ('dictation_segment')"));
    }

    [Theory]
    // NOT binds tighter than AND, AND tighter than OR.
    [InlineData("modality = 'CT' OR modality = 'MR' AND sex = 'M'", "S2")]
    [InlineData("(modality = 'CT' OR modality = 'MR') AND sex = 'F'", "S3")]
    [InlineData("NOT modality = 'CR' AND body_part = 'CHEST'", "S2")]
    [InlineData("NOT (modality = 'CR' AND body_part = 'CHEST')", "S2,S3,S5")]
    [InlineData("NOT NOT modality = 'CR'", "S1")]
    [InlineData("sex = 'F' AND NOT body_part = 'HEAD' OR modality = 'US'", "S1,S5")]
    [InlineData("((((modality = 'CR'))))", "S1")]
    public void Precedence_is_not_then_and_then_or(string filter, string expected) => Assert.Equal(Split(expected), _db.Run(filter));

    [Fact]
    public void Empty_filter_keeps_every_row()
    {
        Assert.True(FilterCompiler.Compile("   ").IsEmpty);
        Assert.Equal(5, _db.Run("").Length);
    }

    [Theory]
    [InlineData("modality = 'CR''; DROP TABLE studies; --'")]
    [InlineData("patient_pseudo_id = ''' OR 1=1 --'")]
    [InlineData("modality IN ('x'') OR 1=1; --', 'y')")]
    [InlineData("report_text contains '%'")]
    [InlineData("report_text contains '_'")]
    public void Hostile_values_are_data_never_sql(string filter)
    {
        Assert.Empty(_db.Run(filter));
        Assert.Equal(5, _db.Count("studies"));
        var compiled = FilterCompiler.Compile(filter);
        Assert.DoesNotContain("DROP", compiled.Sql);
        Assert.DoesNotContain("1=1", compiled.Sql);
    }

    [Theory]
    [InlineData("modality = 'CR'; DROP TABLE studies; --'", 15)]
    [InlineData("' OR 1=1 --", 0)]
    [InlineData("modality = 'CR' OR 1=1", 19)]
    [InlineData("modality = 'CR' -- comment", 16)]
    [InlineData("modality = \"CR\"", 11)]
    [InlineData("modality = 'CR' /* x */", 16)]
    public void Injection_attempts_are_syntax_errors(string filter, int position)
    {
        var ex = Assert.Throws<FilterSyntaxException>(() => _db.Run(filter));
        Assert.Equal(position, ex.Position);
        Assert.Equal(5, _db.Count("studies"));
    }

    [Fact]
    public void Long_or_chain_within_limits_runs()
    {
        var filter = string.Join(" OR ", Enumerable.Range(0, 150).Select(i => $"study_id = 'X{i}'")) + " OR study_id = 'S2'";
        Assert.True(filter.Length < FilterParser.MaxLength);
        Assert.Equal(["S2"], _db.Run(filter));
    }

    [Fact]
    public void Nesting_up_to_the_limit_runs()
    {
        var depth = FilterParser.MaxDepth;
        var filter = new string('(', depth) + "modality = 'CR'" + new string(')', depth);
        Assert.Equal(["S1"], _db.Run(filter));
    }

    static string[] Split(string s) => s.Length == 0 ? [] : s.Split(',');
}

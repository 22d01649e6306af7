using Casebook.Search.Filtering;
using Xunit;

namespace Casebook.Tests.Filtering;

public class FilterParserTests
{
    [Fact]
    public void Or_of_and_of_not_is_the_tree_shape()
    {
        var e = FilterParser.Parse("NOT modality = 'CR' AND sex = 'F' OR body_part = 'HEAD'");
        var or = Assert.IsType<OrExpr>(e);
        Assert.Equal(2, or.Operands.Count);
        var and = Assert.IsType<AndExpr>(or.Operands[0]);
        Assert.IsType<NotExpr>(and.Operands[0]);
        Assert.IsType<ComparisonExpr>(and.Operands[1]);
        var head = Assert.IsType<ComparisonExpr>(or.Operands[1]);
        Assert.Equal("body_part", head.Field.Field.Name);
        Assert.Equal(37, head.Position);
    }

    [Fact]
    public void Long_and_chain_is_flat_not_deep()
    {
        var text = string.Join(" AND ", Enumerable.Repeat("sex = 'F'", 200));
        var and = Assert.IsType<AndExpr>(FilterParser.Parse(text));
        Assert.Equal(200, and.Operands.Count);
    }

    [Fact]
    public void Literals_are_unescaped_and_typed()
    {
        var c = Assert.IsType<ComparisonExpr>(FilterParser.Parse("patient_pseudo_id = 'O''Brien'"));
        Assert.Equal("O'Brien", c.Value.Value);
        var n = Assert.IsType<ComparisonExpr>(FilterParser.Parse("metadata.age >= -4.5e1"));
        Assert.Equal(-45.0, n.Value.Value);
        Assert.Equal(ComparisonOp.GtEq, n.Op);
        var d = Assert.IsType<ComparisonExpr>(FilterParser.Parse("exam_date < DATE '2024-01-31'"));
        Assert.Equal(LiteralKind.Date, d.Value.Kind);
        var i = Assert.IsType<InExpr>(FilterParser.Parse("modality NOT IN ('CT', 'MR', 3)"));
        Assert.True(i.Negated);
        Assert.Equal(3, i.Values.Count);
        Assert.Equal(3L, i.Values[2].Value);
        var k = Assert.IsType<ContainsExpr>(FilterParser.Parse("clinical_codes CONTAINS 'J90'"));
        Assert.False(k.Negated);
        var nn = Assert.IsType<NullCheckExpr>(FilterParser.Parse("modality is not null"));
        Assert.True(nn.Negated);
    }

    [Fact]
    public void Compiled_sql_binds_every_value()
    {
        var f = FilterCompiler.Compile("modality = 'CR' AND exam_date >= '2024-01-01' AND clinical_codes contains 'J90' AND metadata.age > 40");
        Assert.Equal(["CR", "2024-01-01", "J90", 40L], f.Parameters.Select(p => p.Value));
        Assert.Equal(["$f0", "$f1", "$f2", "$f3"], f.Parameters.Select(p => p.Name));
        Assert.DoesNotContain("CR", f.Sql);
        Assert.DoesNotContain("2024", f.Sql);
        Assert.DoesNotContain("J90", f.Sql);
        Assert.Contains("$f2", FilterCompiler.Compile("modality IN ('a','b','c')", "f").Sql);
        Assert.StartsWith("(s.modality", FilterCompiler.Compile("modality = 'x'", "flt").Sql);
        Assert.Equal("$flt0", FilterCompiler.Compile("modality = 'x'", "flt").Parameters[0].Name);
    }

    [Fact]
    public void Unknown_field_names_position_and_lists_known_fields()
    {
        var ex = Assert.Throws<FilterSyntaxException>(() => FilterCompiler.Compile("modalty = 'CR'"));
        Assert.Equal(0, ex.Position);
        Assert.StartsWith("unknown field 'modalty' (did you mean 'modality'?); known fields: study_id, patient_pseudo_id, modality", ex.Message);
        Assert.EndsWith("or metadata.<key> at 0", ex.Message);
    }

    [Theory]
    [InlineData("modality = 'CR", 11, "unterminated string")]
    [InlineData("modality = 'CR' AND body_part = 'CH", 32, "unterminated string")]
    [InlineData("modality =", 10, "expected a value")]
    [InlineData("modality 'CR'", 9, "expected an operator")]
    [InlineData("(modality = 'CR'", 16, "missing ')' for '(' at 0")]
    [InlineData("modality = 'CR')", 15, "unbalanced ')'")]
    [InlineData("()", 1, "empty parentheses")]
    [InlineData("modality = 'CR' AND", 19, "expected a condition but the filter ended")]
    [InlineData("modality = 'CR' sex = 'F'", 16, "expected AND, OR or end of filter")]
    [InlineData("modality IN ()", 13, "IN list is empty")]
    [InlineData("modality IN ('CT' 'MR')", 18, "expected ',' or ')'")]
    [InlineData("modality NOT = 'CT'", 13, "expected IN or CONTAINS after NOT")]
    [InlineData("modality IS 'CT'", 12, "expected NULL")]
    [InlineData("clinical_codes = 'J90'", 0, "'clinical_codes' is a list")]
    [InlineData("pathology_findings IN ('x')", 0, "'pathology_findings' is a list")]
    [InlineData("exam_date = 'yesterday'", 12, "'exam_date' is a date")]
    [InlineData("exam_date > 2024", 12, "'exam_date' is a date")]
    [InlineData("exam_date = DATE '2024-02-30'", 17, "invalid date '2024-02-30'")]
    [InlineData("exam_date = DATE 2024", 17, "expected a quoted date")]
    [InlineData("exam_date contains '2024'", 0, "'exam_date' is a date")]
    [InlineData("metadata.a.b = 'x'", 0, "invalid metadata key 'a.b'")]
    [InlineData("metadata. = 'x'", 0, "invalid metadata key ''")]
    [InlineData("metadata.key-x = 'x'", 12, "unexpected character '-'")]
    [InlineData("modality ! 'x'", 9, "unexpected '!'")]
    [InlineData("modality = 12abc", 11, "malformed number")]
    [InlineData("modality = 'CR' & sex = 'F'", 16, "unexpected character '&'")]
    [InlineData("= 'CR'", 0, "expected a field name")]
    public void Errors_carry_position_and_reason(string filter, int position, string reason)
    {
        var ex = Assert.Throws<FilterSyntaxException>(() => FilterCompiler.Compile(filter));
        Assert.Equal(position, ex.Position);
        Assert.Contains(reason, ex.Message);
        Assert.EndsWith($" at {position}", ex.Message);
    }

    [Fact]
    public void Deep_nesting_is_refused_not_a_stack_overflow()
    {
        var deep = new string('(', 2000) + "modality = 'CR'" + new string(')', 2000);
        var ex = Assert.Throws<FilterSyntaxException>(() => FilterCompiler.Compile(deep));
        Assert.Contains("nested too deeply", ex.Message);

        var justOver = new string('(', FilterParser.MaxDepth + 1) + "modality = 'CR'" + new string(')', FilterParser.MaxDepth + 1);
        ex = Assert.Throws<FilterSyntaxException>(() => FilterCompiler.Compile(justOver));
        Assert.Contains("nested too deeply", ex.Message);
        Assert.Equal(FilterParser.MaxDepth, ex.Position);

        var nots = string.Concat(Enumerable.Repeat("NOT ", 1000)) + "modality = 'CR'";
        Assert.Contains("nested too deeply", Assert.Throws<FilterSyntaxException>(() => FilterCompiler.Compile(nots)).Message);
    }

    [Fact]
    public void Overlong_input_is_refused()
    {
        var text = "modality = '" + new string('x', 10_000) + "'";
        var ex = Assert.Throws<FilterSyntaxException>(() => FilterCompiler.Compile(text));
        Assert.Contains("too long", ex.Message);
    }

    [Fact]
    public void Oversized_in_list_is_refused()
    {
        var text = "modality IN (" + string.Join(",", Enumerable.Range(0, FilterParser.MaxInValues + 1)) + ")";
        Assert.Contains("more than", Assert.Throws<FilterSyntaxException>(() => FilterCompiler.Compile(text)).Message);
    }

    [Fact]
    public void Unicode_and_control_characters_in_strings_are_values()
    {
        var f = FilterCompiler.Compile("study_description = 'Thorax – Übersicht 肺 \u0000'");
        Assert.Equal("Thorax – Übersicht 肺 \u0000", f.Parameters[0].Value);
        var ex = Assert.Throws<FilterSyntaxException>(() => FilterCompiler.Compile("modality = 'CR' \u0001"));
        Assert.Contains("\\u0001", ex.Message);
    }
}

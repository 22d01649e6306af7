using System.Globalization;

namespace Casebook.Search.Filtering;

/// <summary>
/// Recursive-descent parser for the filter language (docs/filter-language.md). Precedence, tightest first:
/// comparison / IN / CONTAINS / IS NULL, then NOT, then AND, then OR. Input length, nesting depth and IN-list
/// size are bounded so that hostile text cannot exhaust the stack or the SQLite variable limit.
/// </summary>
public sealed class FilterParser
{
    public const int MaxLength = 4096;
    public const int MaxDepth = 32;
    public const int MaxInValues = 256;

    readonly List<FilterToken> _tokens;
    int _pos;
    int _depth;

    FilterParser(string text)
    {
        _tokens = FilterLexer.Tokenize(text);
    }

    /// <summary>Parses filter text; returns null for empty or all-whitespace text (no filter).</summary>
    public static FilterExpr? Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        if (text.Length > MaxLength) throw new FilterSyntaxException($"filter is too long ({text.Length} characters; at most {MaxLength})", MaxLength);
        var p = new FilterParser(text);
        var expr = p.ParseOr();
        var end = p.Peek;
        if (end.Kind != FilterTokenKind.End)
            throw new FilterSyntaxException(end.Kind == FilterTokenKind.RParen ? "unbalanced ')'" : $"expected AND, OR or end of filter but found {Describe(end)}", end.Position);
        return expr;
    }

    FilterToken Peek => _tokens[_pos];
    FilterToken PeekAt(int ahead) => _tokens[Math.Min(_pos + ahead, _tokens.Count - 1)];
    FilterToken Next() => _tokens[_pos < _tokens.Count - 1 ? _pos++ : _pos];

    FilterToken Expect(FilterTokenKind kind, string what)
    {
        var t = Peek;
        if (t.Kind != kind) throw new FilterSyntaxException($"expected {what} but found {Describe(t)}", t.Position);
        return Next();
    }

    void Enter(int position)
    {
        if (++_depth > MaxDepth) throw new FilterSyntaxException($"filter is nested too deeply (more than {MaxDepth} levels)", position);
    }

    FilterExpr ParseOr()
    {
        var first = ParseAnd();
        if (Peek.Kind != FilterTokenKind.Or) return first;
        var operands = new List<FilterExpr> { first };
        while (Peek.Kind == FilterTokenKind.Or) { Next(); operands.Add(ParseAnd()); }
        return new OrExpr(operands, first.Position);
    }

    FilterExpr ParseAnd()
    {
        var first = ParseNot();
        if (Peek.Kind != FilterTokenKind.And) return first;
        var operands = new List<FilterExpr> { first };
        while (Peek.Kind == FilterTokenKind.And) { Next(); operands.Add(ParseNot()); }
        return new AndExpr(operands, first.Position);
    }

    FilterExpr ParseNot()
    {
        if (Peek.Kind != FilterTokenKind.Not) return ParsePrimary();
        var not = Next();
        Enter(not.Position);
        var operand = ParseNot();
        _depth--;
        return new NotExpr(operand, not.Position);
    }

    FilterExpr ParsePrimary()
    {
        var t = Peek;
        if (t.Kind == FilterTokenKind.LParen)
        {
            Next();
            Enter(t.Position);
            if (Peek.Kind == FilterTokenKind.RParen) throw new FilterSyntaxException("empty parentheses", Peek.Position);
            var inner = ParseOr();
            if (Peek.Kind != FilterTokenKind.RParen)
                throw new FilterSyntaxException(Peek.Kind == FilterTokenKind.End ? $"missing ')' for '(' at {t.Position}" : $"expected ')' but found {Describe(Peek)}", Peek.Position);
            Next();
            _depth--;
            return inner;
        }
        return ParsePredicate();
    }

    FilterExpr ParsePredicate()
    {
        var t = Peek;
        if (t.Kind != FilterTokenKind.Identifier)
            throw new FilterSyntaxException(t.Kind == FilterTokenKind.End ? "expected a condition but the filter ended" : $"expected a field name but found {Describe(t)}", t.Position);
        Next();
        var field = ResolveField(t);
        var op = Peek;
        switch (op.Kind)
        {
            case FilterTokenKind.Eq: case FilterTokenKind.NotEq: case FilterTokenKind.Lt:
            case FilterTokenKind.LtEq: case FilterTokenKind.Gt: case FilterTokenKind.GtEq:
                Next();
                return new ComparisonExpr(field, ToOp(op.Kind), ParseLiteral(), t.Position);
            case FilterTokenKind.In:
                Next();
                return new InExpr(field, ParseList(), false, t.Position);
            case FilterTokenKind.Contains:
                Next();
                return new ContainsExpr(field, ParseLiteral(), false, t.Position);
            case FilterTokenKind.Is:
                Next();
                bool negated = false;
                if (Peek.Kind == FilterTokenKind.Not) { Next(); negated = true; }
                Expect(FilterTokenKind.Null, "NULL");
                return new NullCheckExpr(field, negated, t.Position);
            case FilterTokenKind.Not:
                Next();
                if (Peek.Kind == FilterTokenKind.In) { Next(); return new InExpr(field, ParseList(), true, t.Position); }
                if (Peek.Kind == FilterTokenKind.Contains) { Next(); return new ContainsExpr(field, ParseLiteral(), true, t.Position); }
                throw new FilterSyntaxException($"expected IN or CONTAINS after NOT but found {Describe(Peek)}", Peek.Position);
            default:
                throw new FilterSyntaxException($"expected an operator (=, !=, <, <=, >, >=, IN, NOT IN, CONTAINS, IS NULL) after '{t.Text}' but found {Describe(op)}", op.Position);
        }
    }

    FieldRef ResolveField(FilterToken t)
    {
        var field = FilterFields.Resolve(t.Text);
        if (field != null) return new FieldRef(field, t.Position);
        if (t.Text.StartsWith("metadata.", StringComparison.OrdinalIgnoreCase))
            throw new FilterSyntaxException($"invalid metadata key '{t.Text[9..]}': keys are letters, digits and '_' (at most {FilterFields.MaxMetadataKeyLength})", t.Position);
        var hint = FilterFields.Suggest(t.Text);
        var didYouMean = hint != null ? $" (did you mean '{hint}'?)" : "";
        throw new FilterSyntaxException(
            $"unknown field '{t.Text}'{didYouMean}; known fields: {string.Join(", ", FilterFields.Names)}, region.<key>, or metadata.<key>", t.Position);
    }

    List<FilterLiteral> ParseList()
    {
        Expect(FilterTokenKind.LParen, "'(' after IN");
        var values = new List<FilterLiteral>();
        if (Peek.Kind == FilterTokenKind.RParen) throw new FilterSyntaxException("IN list is empty", Peek.Position);
        while (true)
        {
            values.Add(ParseLiteral());
            if (values.Count > MaxInValues) throw new FilterSyntaxException($"IN list has more than {MaxInValues} values", values[^1].Position);
            if (Peek.Kind == FilterTokenKind.Comma) { Next(); continue; }
            if (Peek.Kind == FilterTokenKind.RParen) { Next(); return values; }
            throw new FilterSyntaxException($"expected ',' or ')' in IN list but found {Describe(Peek)}", Peek.Position);
        }
    }

    FilterLiteral ParseLiteral()
    {
        var t = Peek;
        switch (t.Kind)
        {
            case FilterTokenKind.String:
                Next();
                return new FilterLiteral(LiteralKind.String, t.Text, t.Position);
            case FilterTokenKind.Number:
                Next();
                if (long.TryParse(t.Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l))
                    return new FilterLiteral(LiteralKind.Number, l, t.Position);
                if (double.TryParse(t.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d))
                    return new FilterLiteral(LiteralKind.Number, d, t.Position);
                throw new FilterSyntaxException($"malformed number '{t.Text}'", t.Position);
            case FilterTokenKind.Identifier when t.Text.Equals("true", StringComparison.OrdinalIgnoreCase) || t.Text.Equals("false", StringComparison.OrdinalIgnoreCase):
                Next(); // booleans (validated = true) compare as the text 'true' / 'false'
                return new FilterLiteral(LiteralKind.String, t.Text.ToLowerInvariant(), t.Position);
            case FilterTokenKind.Date:
                Next();
                var s = Expect(FilterTokenKind.String, "a quoted date after DATE (DATE 'yyyy-mm-dd')");
                if (!TryParseDate(s.Text, out var iso)) throw new FilterSyntaxException($"invalid date '{s.Text}' (expected yyyy-mm-dd)", s.Position);
                return new FilterLiteral(LiteralKind.Date, iso, t.Position);
            default:
                throw new FilterSyntaxException($"expected a value (a 'quoted string', a number or DATE 'yyyy-mm-dd') but found {Describe(t)}", t.Position);
        }
    }

    /// <summary>Strict ISO calendar date; returns the canonical yyyy-MM-dd spelling.</summary>
    public static bool TryParseDate(string text, out string iso)
    {
        iso = "";
        if (!DateOnly.TryParseExact(text.Trim(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)) return false;
        iso = date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        return true;
    }

    static ComparisonOp ToOp(FilterTokenKind k) => k switch
    {
        FilterTokenKind.Eq => ComparisonOp.Eq,
        FilterTokenKind.NotEq => ComparisonOp.NotEq,
        FilterTokenKind.Lt => ComparisonOp.Lt,
        FilterTokenKind.LtEq => ComparisonOp.LtEq,
        FilterTokenKind.Gt => ComparisonOp.Gt,
        _ => ComparisonOp.GtEq,
    };

    static string Describe(FilterToken t) => t.Kind switch
    {
        FilterTokenKind.End => "end of filter",
        FilterTokenKind.String => $"string '{Shorten(t.Text)}'",
        FilterTokenKind.Number => $"number {t.Text}",
        FilterTokenKind.Identifier => $"'{Shorten(t.Text)}'",
        _ => $"'{t.Text}'",
    };

    static string Shorten(string s) => s.Length <= 40 ? s : s[..40] + "…";
}

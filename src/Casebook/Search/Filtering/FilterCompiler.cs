using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;

namespace Casebook.Search.Filtering;

/// <summary>A bound value of a compiled filter; the name includes its '$'.</summary>
public sealed class FilterParameter(string Name, object Value)
{
    public string Name { get; } = Name;
    public object Value { get; } = Value;

    /// <summary>A fresh <see cref="SqliteParameter"/> (a parameter object belongs to one command, so each command gets its own).</summary>
    public SqliteParameter Clone() => new(Name, Value);
}

/// <summary>
/// A filter ready for SQLite: <see cref="Sql"/> is a boolean expression over aliases <c>s</c> (study) and
/// <c>g</c> (segment) to put inside <c>WHERE (…)</c>; every value is a <see cref="Parameters"/> entry.
/// </summary>
public sealed class CompiledFilter
{
    /// <summary>The filter that keeps every row (empty filter text).</summary>
    public static CompiledFilter Empty { get; } = new("1", [], false, null);

    public string Sql { get; }
    public IReadOnlyList<FilterParameter> Parameters { get; }
    /// <summary>True when the filter reads segment columns (alias <c>g</c>), so the query must join segments.</summary>
    public bool UsesSegmentFields { get; }
    /// <summary>The parsed filter; null for the empty filter.</summary>
    public FilterExpr? Expression { get; }
    public bool IsEmpty => Expression == null;

    internal CompiledFilter(string sql, IReadOnlyList<FilterParameter> parameters, bool usesSegmentFields, FilterExpr? expression)
    {
        Sql = sql;
        Parameters = parameters;
        UsesSegmentFields = usesSegmentFields;
        Expression = expression;
    }

    /// <summary>Adds fresh <see cref="SqliteParameter"/>s for this filter to a command.</summary>
    public void ApplyTo(SqliteCommand command)
    {
        foreach (var p in Parameters) command.Parameters.Add(p.Clone());
    }
}

/// <summary>
/// Compiles filter text (docs/filter-language.md) to parameterised SQLite SQL. Values are always bound
/// parameters; the only text copied into SQL is fixed catalogue SQL and validated metadata keys.
/// </summary>
public static class FilterCompiler
{
    /// <summary>Parses and compiles. Throws <see cref="FilterSyntaxException"/> with a position on any error.</summary>
    /// <param name="parameterPrefix">Parameter names are <c>$</c> + prefix + index; choose a prefix no other part of the query uses.</param>
    public static CompiledFilter Compile(string? text, string parameterPrefix = "f")
    {
        if (parameterPrefix.Length == 0 || !parameterPrefix.All(c => char.IsAsciiLetter(c) || c == '_'))
            throw new ArgumentException("parameter prefix must be ASCII letters or '_'", nameof(parameterPrefix));
        var expr = FilterParser.Parse(text);
        if (expr == null) return CompiledFilter.Empty;
        var w = new Writer(parameterPrefix);
        w.Write(expr);
        return new CompiledFilter(w.Sql.ToString(), w.Parameters, w.UsesSegment, expr);
    }

    sealed class Writer(string prefix)
    {
        public readonly StringBuilder Sql = new();
        public readonly List<FilterParameter> Parameters = new();
        public bool UsesSegment;

        string Bind(object value)
        {
            var name = $"${prefix}{Parameters.Count}";
            Parameters.Add(new FilterParameter(name, value));
            return name;
        }

        public void Write(FilterExpr e)
        {
            if (RegionFieldOf(e) != null)
            {
                // Regions: a predicate on region.* holds when some entry of image_regions satisfies it.
                Sql.Append("EXISTS (SELECT 1 FROM json_each(s.image_regions) AS r WHERE ");
                WritePredicate(e);
                Sql.Append(')');
                return;
            }
            WritePredicate(e);
        }

        /// <summary>The region field a predicate reads, or null for other predicates and for AND/OR/NOT.</summary>
        static FieldRef? RegionFieldOf(FilterExpr e)
        {
            var f = e switch { ComparisonExpr c => c.Field, InExpr i => i.Field, ContainsExpr c => c.Field, NullCheckExpr n => n.Field, _ => null };
            return f is { Field.IsRegionField: true } ? f : null;
        }

        void WritePredicate(FilterExpr e)
        {
            switch (e)
            {
                case AndExpr a: Join(a.Operands, " AND "); break;
                case OrExpr o: Join(o.Operands, " OR "); break;
                case NotExpr n: Sql.Append("NOT ("); Write(n.Operand); Sql.Append(')'); break;
                case ComparisonExpr c: Comparison(c); break;
                case InExpr i: In(i); break;
                case ContainsExpr c: Contains(c); break;
                case NullCheckExpr n: NullCheck(n); break;
                default: throw new InvalidOperationException($"unhandled filter node {e.GetType().Name}");
            }
        }

        void Join(IReadOnlyList<FilterExpr> operands, string op)
        {
            Sql.Append('(');
            var first = true;
            for (int i = 0; i < operands.Count; i++)
            {
                if (!first) Sql.Append(op);
                first = false;
                // Regions: region predicates joined by AND describe one region ("region.label = 'GTV' AND
                // region.volume_mm3 > 1000" is one GTV over 1000 mm³), so they share one EXISTS.
                if (op == " AND " && RegionFieldOf(operands[i]) != null)
                {
                    var group = new List<FilterExpr> { operands[i] };
                    while (i + 1 < operands.Count && RegionFieldOf(operands[i + 1]) != null) group.Add(operands[++i]);
                    Sql.Append("EXISTS (SELECT 1 FROM json_each(s.image_regions) AS r WHERE ");
                    for (var k = 0; k < group.Count; k++)
                    {
                        if (k > 0) Sql.Append(" AND ");
                        WritePredicate(group[k]);
                    }
                    Sql.Append(')');
                    continue;
                }
                Write(operands[i]);
            }
            Sql.Append(')');
        }

        FilterField Use(FieldRef f)
        {
            if (f.Field.IsSegmentField) UsesSegment = true;
            return f.Field;
        }

        static string OpSql(ComparisonOp op) => op switch
        {
            ComparisonOp.Eq => "=", ComparisonOp.NotEq => "<>", ComparisonOp.Lt => "<",
            ComparisonOp.LtEq => "<=", ComparisonOp.Gt => ">", _ => ">=",
        };

        void Comparison(ComparisonExpr c)
        {
            var f = Use(c.Field);
            RejectList(f, c.Position, "comparisons");
            var op = OpSql(c.Op);
            if (f.Type == FilterFieldType.Date)
            {
                Sql.Append('(').Append(f.SqlExpression).Append(' ').Append(op).Append(' ').Append(Bind(DateValue(f, c.Value))).Append(')');
                return;
            }
            if (f.Type == FilterFieldType.Json && c.Value.Kind == LiteralKind.Number)
            {
                // Numbers compare only with numeric JSON values; text such as "40-44" yields NULL (no match),
                // never SQLite's "every number sorts before every string".
                Sql.Append("((CASE WHEN ").Append(f.JsonTypeExpression).Append(" IN ('integer', 'real') THEN ").Append(f.SqlExpression)
                   .Append(" END) ").Append(op).Append(' ').Append(Bind(c.Value.Value)).Append(')');
                return;
            }
            Sql.Append('(').Append(f.SqlExpression).Append(' ').Append(op).Append(' ').Append(Bind(TextValue(c.Value))).Append(" COLLATE NOCASE)");
        }

        void In(InExpr i)
        {
            var f = Use(i.Field);
            RejectList(f, i.Position, "IN");
            Sql.Append('(').Append(f.SqlExpression);
            if (f.Type != FilterFieldType.Date) Sql.Append(" COLLATE NOCASE");
            Sql.Append(i.Negated ? " NOT IN (" : " IN (");
            for (int k = 0; k < i.Values.Count; k++)
            {
                if (k > 0) Sql.Append(", ");
                var v = i.Values[k];
                object bound = f.Type == FilterFieldType.Date ? DateValue(f, v)
                    : f.Type == FilterFieldType.Json && v.Kind == LiteralKind.Number ? v.Value
                    : TextValue(v);
                Sql.Append(Bind(bound));
            }
            Sql.Append("))");
        }

        void Contains(ContainsExpr c)
        {
            var f = Use(c.Field);
            if (f.Type == FilterFieldType.Date)
                throw new FilterSyntaxException($"'{f.Name}' is a date: use =, <, >, IN or IS NULL, not CONTAINS", c.Position);
            var p = Bind(TextValue(c.Value));
            if (c.Negated) Sql.Append("NOT ");
            if (f.Type == FilterFieldType.List)
            {
                Sql.Append("EXISTS (SELECT 1 FROM json_each(").Append(f.SqlExpression).Append(") AS j WHERE ");
                if (f.IsCode)
                {
                    // "ICD10:J90" matches 'ICD10:J90' and the bare code 'J90'. ICD-10 is a hierarchy: 'E11' also matches E11.9
                    // and 'E11.6' matches E11.65 (prefix up to a dot, or within the part after the dot).
                    var code = "upper(substr(j.value, instr(j.value, ':') + 1))";
                    Sql.Append("j.value = ").Append(p).Append(" COLLATE NOCASE OR ").Append(code).Append(" = upper(").Append(p).Append(")")
                       .Append(" OR (upper(j.value) LIKE 'ICD10:%' AND (substr(").Append(code).Append(", 1, length(").Append(p).Append(") + 1) = upper(").Append(p).Append(") || '.'")
                       .Append(" OR (instr(").Append(p).Append(", '.') > 0 AND substr(").Append(code).Append(", 1, length(").Append(p).Append(")) = upper(").Append(p).Append(")))))");
                }
                else
                {
                    // Elements are strings, or objects carrying a term (clinical NLP) or name. Only affirmed findings count:
                    // negated objects, and NLP objects marked not affirmed (possible, historical, hypothetical, a relative's).
                    Sql.Append("instr(lower(CASE WHEN j.type = 'object' THEN coalesce(json_extract(j.value, '$.term'), json_extract(j.value, '$.name'), json_extract(j.value, '$.text'), json_extract(j.value, '$.label'), json_extract(j.value, '$.code')) ELSE j.value END), lower(")
                       .Append(p).Append(")) > 0 AND NOT (j.type = 'object' AND (coalesce(json_extract(j.value, '$.negated'), 0) = 1 OR coalesce(json_extract(j.value, '$.affirmed'), 1) = 0)))");
                }
                return;
            }
            Sql.Append("(instr(lower(").Append(f.SqlExpression).Append("), lower(").Append(p).Append(")) > 0)");
        }

        void NullCheck(NullCheckExpr n)
        {
            var f = Use(n.Field);
            if (f.Type == FilterFieldType.List)
            {
                // An absent list and an empty list are the same thing to a filter.
                Sql.Append(n.Negated ? "(coalesce(json_array_length(" : "(coalesce(json_array_length(")
                   .Append(f.SqlExpression).Append("), 0) ").Append(n.Negated ? "> 0)" : "= 0)");
                return;
            }
            Sql.Append('(').Append(f.SqlExpression).Append(n.Negated ? " IS NOT NULL)" : " IS NULL)");
        }

        static void RejectList(FilterField f, int position, string what)
        {
            if (f.Type == FilterFieldType.List)
                throw new FilterSyntaxException($"'{f.Name}' is a list: use CONTAINS or IS [NOT] NULL, not {what}", position);
        }

        static string DateValue(FilterField f, FilterLiteral v)
        {
            if (v.Kind == LiteralKind.Date) return (string)v.Value;
            if (v.Kind == LiteralKind.String && FilterParser.TryParseDate((string)v.Value, out var iso)) return iso;
            throw new FilterSyntaxException($"'{f.Name}' is a date: expected DATE 'yyyy-mm-dd' or 'yyyy-mm-dd' but found {(v.Kind == LiteralKind.Number ? "a number" : $"'{v.Value}'")}", v.Position);
        }

        static string TextValue(FilterLiteral v) => v.Value switch
        {
            string s => s,
            long l => l.ToString(CultureInfo.InvariantCulture),
            double d => d.ToString("R", CultureInfo.InvariantCulture),
            _ => v.Value.ToString() ?? "",
        };
    }
}

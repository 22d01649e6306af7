namespace Casebook.Search.Filtering;

/// <summary>A node of a parsed filter. <see cref="Position"/> is where it starts in the filter text.</summary>
public abstract record FilterExpr(int Position);

/// <summary>All operands must hold. N-ary (not nested pairs) so long chains stay shallow.</summary>
public sealed record AndExpr(IReadOnlyList<FilterExpr> Operands, int Position) : FilterExpr(Position);
public sealed record OrExpr(IReadOnlyList<FilterExpr> Operands, int Position) : FilterExpr(Position);
public sealed record NotExpr(FilterExpr Operand, int Position) : FilterExpr(Position);

public enum ComparisonOp { Eq, NotEq, Lt, LtEq, Gt, GtEq }

/// <summary><c>field op value</c>.</summary>
public sealed record ComparisonExpr(FieldRef Field, ComparisonOp Op, FilterLiteral Value, int Position) : FilterExpr(Position);
/// <summary><c>field [NOT] IN (v1, v2, …)</c>.</summary>
public sealed record InExpr(FieldRef Field, IReadOnlyList<FilterLiteral> Values, bool Negated, int Position) : FilterExpr(Position);
/// <summary><c>field [NOT] CONTAINS value</c>: list membership, or substring for text fields.</summary>
public sealed record ContainsExpr(FieldRef Field, FilterLiteral Value, bool Negated, int Position) : FilterExpr(Position);
/// <summary><c>field IS [NOT] NULL</c>.</summary>
public sealed record NullCheckExpr(FieldRef Field, bool Negated, int Position) : FilterExpr(Position);

/// <summary>A resolved field reference: which <see cref="FilterField"/> and, for metadata paths, the key.</summary>
public sealed record FieldRef(FilterField Field, int Position);

public enum LiteralKind { String, Number, Date }

/// <summary>A literal. Strings are unescaped; numbers are long or double; dates are normalised to yyyy-MM-dd.</summary>
public sealed record FilterLiteral(LiteralKind Kind, object Value, int Position);

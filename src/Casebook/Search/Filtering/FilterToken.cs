namespace Casebook.Search.Filtering;

public enum FilterTokenKind
{
    Identifier, String, Number,
    LParen, RParen, Comma,
    Eq, NotEq, Lt, LtEq, Gt, GtEq,
    And, Or, Not, In, Is, Null, Contains, Date,
    End,
}

/// <summary>One lexeme. <see cref="Text"/> is the identifier, the unescaped string or the number's spelling.</summary>
public readonly record struct FilterToken(FilterTokenKind Kind, string Text, int Position);

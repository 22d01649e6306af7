using System.Text;

namespace Casebook.Search.Filtering;

/// <summary>
/// Turns filter text into tokens. Keywords are case-insensitive; identifiers are letters, digits, '_' and
/// (for <c>metadata.key</c>) '.'; strings are single-quoted with '' as the escaped quote. Anything else —
/// ';', '--', '"', '*' — is an error, so SQL fragments can never ride along.
/// </summary>
public static class FilterLexer
{
    static readonly Dictionary<string, FilterTokenKind> Keywords = new(StringComparer.OrdinalIgnoreCase)
    {
        ["and"] = FilterTokenKind.And, ["or"] = FilterTokenKind.Or, ["not"] = FilterTokenKind.Not,
        ["in"] = FilterTokenKind.In, ["is"] = FilterTokenKind.Is, ["null"] = FilterTokenKind.Null,
        ["contains"] = FilterTokenKind.Contains, ["date"] = FilterTokenKind.Date,
    };

    public static List<FilterToken> Tokenize(string text)
    {
        var tokens = new List<FilterToken>();
        int i = 0;
        while (true)
        {
            while (i < text.Length && char.IsWhiteSpace(text[i])) i++;
            if (i >= text.Length) { tokens.Add(new(FilterTokenKind.End, "", i)); return tokens; }
            int start = i;
            char c = text[i];
            switch (c)
            {
                case '(': tokens.Add(new(FilterTokenKind.LParen, "(", i++)); continue;
                case ')': tokens.Add(new(FilterTokenKind.RParen, ")", i++)); continue;
                case ',': tokens.Add(new(FilterTokenKind.Comma, ",", i++)); continue;
                case '=': tokens.Add(new(FilterTokenKind.Eq, "=", i)); i += i + 1 < text.Length && text[i + 1] == '=' ? 2 : 1; continue;
                case '!':
                    if (i + 1 < text.Length && text[i + 1] == '=') { tokens.Add(new(FilterTokenKind.NotEq, "!=", i)); i += 2; continue; }
                    throw new FilterSyntaxException("unexpected '!' (did you mean '!=')", i);
                case '<':
                    if (i + 1 < text.Length && text[i + 1] == '=') { tokens.Add(new(FilterTokenKind.LtEq, "<=", i)); i += 2; }
                    else if (i + 1 < text.Length && text[i + 1] == '>') { tokens.Add(new(FilterTokenKind.NotEq, "<>", i)); i += 2; }
                    else tokens.Add(new(FilterTokenKind.Lt, "<", i++));
                    continue;
                case '>':
                    if (i + 1 < text.Length && text[i + 1] == '=') { tokens.Add(new(FilterTokenKind.GtEq, ">=", i)); i += 2; }
                    else tokens.Add(new(FilterTokenKind.Gt, ">", i++));
                    continue;
                case '\'':
                    tokens.Add(new(FilterTokenKind.String, ReadString(text, ref i), start));
                    continue;
            }
            if (char.IsAsciiDigit(c) || ((c == '-' || c == '+' || c == '.') && i + 1 < text.Length && (char.IsAsciiDigit(text[i + 1]) || text[i + 1] == '.')))
            {
                tokens.Add(new(FilterTokenKind.Number, ReadNumber(text, ref i), start));
                continue;
            }
            if (char.IsAsciiLetter(c) || c == '_')
            {
                while (i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || text[i] is '_' or '.')) i++;
                var word = text[start..i];
                tokens.Add(Keywords.TryGetValue(word, out var kw) ? new(kw, word, start) : new(FilterTokenKind.Identifier, word, start));
                continue;
            }
            if (c == '"') throw new FilterSyntaxException("unexpected '\"': strings use single quotes", i);
            throw new FilterSyntaxException($"unexpected character '{Printable(c)}'", i);
        }
    }

    static string ReadString(string text, ref int i)
    {
        int start = i++;
        var sb = new StringBuilder();
        while (i < text.Length)
        {
            if (text[i] == '\'')
            {
                if (i + 1 < text.Length && text[i + 1] == '\'') { sb.Append('\''); i += 2; continue; }
                i++;
                return sb.ToString();
            }
            sb.Append(text[i++]);
        }
        throw new FilterSyntaxException("unterminated string", start);
    }

    static string ReadNumber(string text, ref int i)
    {
        int start = i;
        if (text[i] is '-' or '+') i++;
        while (i < text.Length && char.IsAsciiDigit(text[i])) i++;
        if (i < text.Length && text[i] == '.') { i++; while (i < text.Length && char.IsAsciiDigit(text[i])) i++; }
        if (i < text.Length && text[i] is 'e' or 'E')
        {
            int e = i + 1;
            if (e < text.Length && text[e] is '-' or '+') e++;
            if (e < text.Length && char.IsAsciiDigit(text[e])) { i = e; while (i < text.Length && char.IsAsciiDigit(text[i])) i++; }
        }
        if (i < text.Length && (char.IsAsciiLetter(text[i]) || text[i] == '_'))
            throw new FilterSyntaxException($"malformed number '{text[start..(i + 1)]}'", start);
        return text[start..i];
    }

    static string Printable(char c) => char.IsControl(c) || char.IsSurrogate(c) ? $"\\u{(int)c:X4}" : c.ToString();
}

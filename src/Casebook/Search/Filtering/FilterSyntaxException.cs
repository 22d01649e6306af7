namespace Casebook.Search.Filtering;

/// <summary>A filter that cannot be lexed, parsed or type-checked. <see cref="Position"/> is the 0-based
/// character offset in the filter text where the problem was found; the message ends with "at {Position}".</summary>
public sealed class FilterSyntaxException : Exception
{
    public int Position { get; }
    /// <summary>The message without the trailing position.</summary>
    public string Reason { get; }

    public FilterSyntaxException(string reason, int position)
        : base($"{reason} at {position}")
    {
        Reason = reason;
        Position = position;
    }
}

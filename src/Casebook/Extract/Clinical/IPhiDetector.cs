namespace Casebook.Extract.Clinical;

/// <summary>A span of protected health information in text: [Start, End) and its type ("NAME", "DATE", "ID", …).</summary>
public sealed record PhiSpan(int Start, int End, string Type);

/// <summary>Finds PHI in free text. Implemented by the text de-identification (Extract/Clinical/Phi);
/// <see cref="NullPhiDetector"/> finds nothing and stands in where none is configured.</summary>
public interface IPhiDetector
{
    IReadOnlyList<PhiSpan> Find(string text);
}

/// <summary>The detector used until a real one is configured: reports no PHI.</summary>
public sealed class NullPhiDetector : IPhiDetector
{
    public static readonly NullPhiDetector Instance = new();
    public IReadOnlyList<PhiSpan> Find(string text) => [];
}

namespace Casebook.Extract.Clinical;

/// <summary>Finds protected health information (HIPAA Safe Harbor identifiers) in free text.</summary>
public interface IPhiDetector
{
    /// <summary>Spans in text order, non-overlapping; End is exclusive.</summary>
    IReadOnlyList<PhiSpan> Find(string text);
}

/// <summary>One identifier in a text: [Start, End) character offsets and its type (e.g. NAME, DATE, PHONE).</summary>
public sealed record PhiSpan(int Start, int End, string Type);

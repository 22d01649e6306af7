namespace Casebook.Extract.Dicom;

public sealed record DicomReadOptions
{
    /// <summary>Stop at the top-level (7FE0,0008/0009/0010) pixel data element without reading it.</summary>
    public bool StopBeforePixels { get; init; }
    /// <summary>Throw the first <see cref="DicomParseException"/> instead of returning a partial dataset.</summary>
    public bool Strict { get; init; }
    /// <summary>For files read from disk: values longer than this stay on disk until asked for.</summary>
    public int DeferValuesLongerThan { get; init; } = 64 * 1024;
    /// <summary>Files up to this size are read into memory in one go (zero-copy values); larger ones are read through a window.</summary>
    public long ReadWholeFileUpTo { get; init; } = 64L * 1024 * 1024;
    /// <summary>Cap on the inflated size of a deflated dataset (PS3.5 §A.5), against deflate bombs.</summary>
    public long MaxInflatedBytes { get; init; } = 1L << 30;
    /// <summary>Deepest sequence nesting accepted (guards the stack against hostile input).</summary>
    public int MaxDepth { get; init; } = 64;

    public static DicomReadOptions Default { get; } = new();
    public static DicomReadOptions HeaderOnly { get; } = new() { StopBeforePixels = true };
}

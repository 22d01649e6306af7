namespace Casebook.Extract.Dicom;

/// <summary>
/// A malformed or truncated DICOM stream. Names the byte offset (from the start of the file, or of the
/// inflated stream for deflated syntaxes) and the tag being read when it went wrong.
/// </summary>
public sealed class DicomParseException : Exception
{
    public long Offset { get; }
    public DicomTag? Tag { get; }
    public string Reason { get; }

    public DicomParseException(string reason, long offset, DicomTag? tag = null, Exception? inner = null)
        : base($"{reason} at byte offset {offset}{(tag is { } t ? $" (tag {t} {DicomDictionary.KeywordOf(t)})".Replace(" )", ")") : "")}", inner)
    {
        Reason = reason; Offset = offset; Tag = tag;
    }
}

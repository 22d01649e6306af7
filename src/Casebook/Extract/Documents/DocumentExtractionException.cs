namespace Casebook.Extract.Documents;

/// <summary>Why a document could not be read.</summary>
public enum DocumentFailure { NotFound, Empty, Corrupt, Encrypted, TooLarge, Unsupported, ToolMissing, Timeout, OcrFailed }

/// <summary>A document that cannot be turned into text; the message names the file and the reason. Ingest records it and goes on.</summary>
public sealed class DocumentExtractionException(string file, DocumentFailure reason, string detail, Exception? inner = null)
    : Exception($"{Path.GetFileName(file)}: {Describe(reason)}: {detail}", inner)
{
    public string File { get; } = file;
    public DocumentFailure Reason { get; } = reason;

    static string Describe(DocumentFailure r) => r switch
    {
        DocumentFailure.NotFound => "file not found",
        DocumentFailure.Empty => "empty document",
        DocumentFailure.Corrupt => "corrupt or unreadable",
        DocumentFailure.Encrypted => "encrypted (password required)",
        DocumentFailure.TooLarge => "too large",
        DocumentFailure.Unsupported => "unsupported format",
        DocumentFailure.ToolMissing => "a required tool is missing",
        DocumentFailure.Timeout => "timed out",
        _ => "OCR failed",
    };
}

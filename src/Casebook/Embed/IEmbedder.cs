namespace Casebook.Embed;

/// <summary>
/// Identity of the model that made a vector: stored beside every vector so that vectors from
/// different models are never compared (<see cref="Id"/> = name + '@' + first 16 hex chars of the file's SHA-256).
/// </summary>
public sealed record EmbeddingModelInfo(string Name, string FileSha256, int Dimension)
{
    public string Id => $"{Name}@{FileSha256[..Math.Min(16, FileSha256.Length)]}";

    /// <summary>
    /// Throws <see cref="EmbeddingModelMismatchException"/> unless <paramref name="actualId"/> is <paramref name="expectedId"/>:
    /// vectors of different models live in different spaces, so comparing them gives meaningless scores.
    /// </summary>
    public static void EnsureCompatible(string expectedId, string? actualId, string? context = null)
    {
        if (string.Equals(expectedId, actualId, StringComparison.Ordinal)) return;
        var where = context == null ? "" : $" ({context})";
        throw new EmbeddingModelMismatchException(expectedId, actualId,
            $"embedding model mismatch{where}: vectors were made by '{actualId ?? "<unknown>"}' but the query uses '{expectedId}'; " +
            "re-embed with one model, or query with the model that made the stored vectors");
    }

    public void EnsureCompatibleWith(string? actualId, string? context = null) => EnsureCompatible(Id, actualId, context);
}

/// <summary>Raised when vectors of one embedding model are compared with another model's.</summary>
public sealed class EmbeddingModelMismatchException(string expectedId, string? actualId, string message)
    : InvalidOperationException(message)
{
    public string ExpectedId { get; } = expectedId;
    public string? ActualId { get; } = actualId;
}

/// <summary>Turns text into L2-normalised vectors. Long text is windowed, never silently truncated.</summary>
public interface ITextEmbedder : IDisposable
{
    EmbeddingModelInfo Model { get; }
    /// <summary>One vector per input text (windows of a long text are mean-pooled and re-normalised).</summary>
    float[][] Embed(IReadOnlyList<string> texts);
}

/// <summary>Turns encoded images (PNG/JPEG bytes, or decoded 8-bit pixels) into L2-normalised vectors.</summary>
public interface IImageEmbedder : IDisposable
{
    EmbeddingModelInfo Model { get; }
    float[][] Embed(IReadOnlyList<byte[]> encodedImages);
}

/// <summary>An image model that also embeds decoded 8-bit pixels (rendered DICOM frames, region crops) without a PNG round trip.</summary>
public interface IPixelImageEmbedder : IImageEmbedder
{
    float[][] EmbedPixels(IReadOnlyList<DecodedImage> images);
}

namespace Casebook.Embed;

/// <summary>
/// Identity of the model that made a vector: stored beside every vector so that vectors from
/// different models are never compared (<see cref="Id"/> = name + '@' + first 16 hex chars of the file's SHA-256).
/// </summary>
public sealed record EmbeddingModelInfo(string Name, string FileSha256, int Dimension)
{
    public string Id => $"{Name}@{FileSha256[..Math.Min(16, FileSha256.Length)]}";
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

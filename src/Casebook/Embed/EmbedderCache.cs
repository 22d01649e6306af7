namespace Casebook.Embed;

/// <summary>Models are large and slow to load: one instance per configuration per process.</summary>
public static class EmbedderCache
{
    static readonly Dictionary<string, ITextEmbedder> TextModels = new();
    static readonly Dictionary<string, IImageEmbedder> ImageModels = new();

    public static ITextEmbedder Text(string? modelConfig)
    {
        lock (TextModels)
        {
            var key = modelConfig ?? "";
            if (!TextModels.TryGetValue(key, out var e)) TextModels[key] = e = CreateText(modelConfig);
            return e;
        }
    }

    public static IImageEmbedder Image(string? modelConfig)
    {
        lock (ImageModels)
        {
            var key = modelConfig ?? "";
            if (!ImageModels.TryGetValue(key, out var e)) ImageModels[key] = e = CreateImage(modelConfig);
            return e;
        }
    }

    // Wired to the model registry once it lands (branch `embed`).
    static ITextEmbedder CreateText(string? modelConfig) => throw new NotImplementedException("text embedder not merged yet");
    static IImageEmbedder CreateImage(string? modelConfig) => throw new NotImplementedException("image embedder not merged yet");
}

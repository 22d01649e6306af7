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

    static ModelRegistry Registry(string? modelConfig) => modelConfig == null ? ModelRegistry.CreateDefault() : ModelRegistry.Load(modelConfig);
    static ITextEmbedder CreateText(string? modelConfig) => Registry(modelConfig).CreateTextEmbedder();
    static IImageEmbedder CreateImage(string? modelConfig) => Registry(modelConfig).CreateImageEmbedder();
}

using Casebook.Embed;

namespace Casebook;

public sealed partial class CasebookDb
{
    /// <summary>The text model for this database (loaded once per process and shared between databases).</summary>
    public ITextEmbedder TextEmbedder => Options.TextEmbedder ?? EmbedderCache.Text(ModelConfigPath);
    /// <summary>The image model for this database (loaded once per process and shared between databases).</summary>
    public IImageEmbedder ImageEmbedder => Options.ImageEmbedder ?? EmbedderCache.Image(ModelConfigPath);

    /// <summary>The model configuration: the option if given, else the database's own models.json, else built-ins.</summary>
    string? ModelConfigPath => Options.ModelConfig ?? (File.Exists(Path.Combine(Directory, "models.json")) ? Path.Combine(Directory, "models.json") : null);
}

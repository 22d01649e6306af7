using Casebook.Embed;

namespace Casebook;

public sealed partial class CasebookDb
{
    /// <summary>The text model for this database (loaded once per process and shared between databases).</summary>
    public ITextEmbedder TextEmbedder => EmbedderCache.Text(Options.ModelConfig);
    /// <summary>The image model for this database (loaded once per process and shared between databases).</summary>
    public IImageEmbedder ImageEmbedder => EmbedderCache.Image(Options.ModelConfig);
}

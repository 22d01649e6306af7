using Casebook.Search;

namespace Casebook;

public sealed partial class CasebookDb
{
    /// <summary>Starts a text search (hybrid BM25 + dense by default).</summary>
    public SearchQuery Search(string text) => new(this, text, null);
    /// <summary>Starts an image search (similar image slices); add text with <see cref="SearchQuery"/> options.</summary>
    public SearchQuery SearchImage(byte[] encodedImage) => new(this, null, encodedImage);
    /// <summary>Starts a search by text, image or both.</summary>
    public SearchQuery Search(string? text, byte[]? encodedImage) => new(this, text, encodedImage);
}

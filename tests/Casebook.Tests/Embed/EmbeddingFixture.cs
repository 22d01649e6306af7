using Xunit;
using Casebook.Embed;

namespace Casebook.Tests.Embed;

/// <summary>Loads the real models once per test run (CI has 2 cores; loading MiniLM and ResNet-18 takes seconds).</summary>
public sealed class EmbeddingFixture : IDisposable
{
    readonly Lazy<MiniLmTextEmbedder> _text = new(() => new MiniLmTextEmbedder(new TextEmbedderOptions { Onnx = new OnnxRunOptions { IntraOpThreads = 2 } }));
    readonly Lazy<ResNet18ImageEmbedder> _image = new(() => new ResNet18ImageEmbedder(new ImageEmbedderOptions { Onnx = new OnnxRunOptions { IntraOpThreads = 2 } }));

    public MiniLmTextEmbedder Text => _text.Value;
    public ResNet18ImageEmbedder Image => _image.Value;

    public void Dispose()
    {
        if (_text.IsValueCreated) _text.Value.Dispose();
        if (_image.IsValueCreated) _image.Value.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class EmbeddingCollection : ICollectionFixture<EmbeddingFixture>
{
    public const string Name = "Embedding models";
}

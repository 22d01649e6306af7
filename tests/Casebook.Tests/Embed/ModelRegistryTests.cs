using Xunit;
using Casebook.Embed;

namespace Casebook.Tests.Embed;

[Collection(EmbeddingCollection.Name)]
public sealed class ModelRegistryTests(EmbeddingFixture models) : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("casebook-models-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    string WriteConfig(string json)
    {
        var path = Path.Combine(_dir, "models.json");
        File.WriteAllText(path, json);
        return path;
    }

    [Fact]
    public void Built_ins_are_the_defaults()
    {
        var registry = ModelRegistry.CreateDefault();
        Assert.Equal("minilm", registry.DefaultTextModel);
        Assert.Equal("resnet18", registry.DefaultImageModel);
        Assert.Equal(ModelKind.Text, registry.Get("minilm").Kind);
        Assert.Equal(ModelKind.Image, registry.Get("RESNET18").Kind);
    }

    [Fact]
    public void Missing_model_file_is_named()
    {
        var config = WriteConfig("""{ "models": [ { "name": "biomedclip", "kind": "image", "path": "nowhere/visual.onnx" } ] }""");
        var error = Assert.Throws<FileNotFoundException>(() => ModelRegistry.Load(config));
        Assert.Contains(Path.Combine(_dir, "nowhere", "visual.onnx"), error.Message);
        Assert.Contains("biomedclip", error.Message);
    }

    [Fact]
    public void Missing_vocabulary_is_named()
    {
        File.WriteAllBytes(Path.Combine(_dir, "m.onnx"), [1]);
        var config = WriteConfig("""{ "models": [ { "name": "pubmedbert", "kind": "text", "path": "m.onnx", "vocabPath": "vocab.txt" } ] }""");
        var error = Assert.Throws<FileNotFoundException>(() => ModelRegistry.Load(config));
        Assert.Contains(Path.Combine(_dir, "vocab.txt"), error.Message);
    }

    [Theory]
    [InlineData("""{ "models": [ { "name": "x", "kind": "audio", "path": "m.onnx" } ] }""", "models[0]")]
    [InlineData("""{ "models": [ { "name": "x", "kind": "image", "path": "m.onnx", "meen": [0,0,0] } ] }""", "meen")]
    [InlineData("""{ "models": [ { "name": "x", "kind": "image", "path": "m.onnx", "mean": [0,0] } ] }""", "3 values")]
    [InlineData("""{ "models": [ { "kind": "image", "path": "m.onnx" } ] }""", "'name' is required")]
    [InlineData("""{ "models": [ { "name": "x", "kind": "text", "path": "m.onnx" } ] }""", "vocabPath")]
    [InlineData("""{ "defaults": { "text": "resnet18" } }""", "not a text model")]
    [InlineData("""{ "defaults": { "image": "nope" } }""", "no embedding model named 'nope'")]
    [InlineData("""{ "models": [ { "name": "minilm", "kind": "image", "path": "m.onnx" } ] }""", "already defined")]
    [InlineData("""{ "models": [ """, "invalid JSON")]
    public void Configuration_errors_are_clear(string json, string expected)
    {
        File.WriteAllBytes(Path.Combine(_dir, "m.onnx"), [1]);
        var error = Record.Exception(() => ModelRegistry.Load(WriteConfig(json)));
        Assert.NotNull(error);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void Configured_image_model_runs_through_the_shared_pipeline()
    {
        // The packaged ResNet-18 configured as a generic model, with per-channel (not per-position) mean subtraction.
        var onnx = Path.Combine(ResNet18ImageEmbedder.FindModelDirectory(), "ResNet18Onnx", "ResNet18.onnx");
        var config = WriteConfig($$"""
            { "defaults": { "image": "resnet-generic" },
              "models": [ { "name": "resnet-generic", "kind": "image", "path": {{System.Text.Json.JsonSerializer.Serialize(onnx)}},
                            "inputSize": 224, "channelOrder": "bgr", "pixelScale": 1, "mean": [103.06, 115.90, 123.15], "std": [1, 1, 1],
                            "pooling": "mean", "outputName": "Pooling395_Output_0" } ] }
            """);
        var registry = ModelRegistry.Load(config);
        using var generic = registry.CreateImageEmbedder(options: new ImageEmbedderOptions { Onnx = new OnnxRunOptions { IntraOpThreads = 2 } });
        Assert.IsType<GenericOnnxImageEmbedder>(generic);
        Assert.Equal("resnet-generic", generic.Model.Name);
        Assert.Equal(models.Image.Model.FileSha256, generic.Model.FileSha256);
        var png = File.ReadAllBytes(Path.Combine(SharedData.Require("images/breastmnist"), "test_0000.png"));
        var a = generic.Embed([png])[0];
        var b = models.Image.Embed([png])[0];
        Assert.Equal(512, a.Length);
        Assert.True(VectorMath.Cosine(a, b) > 0.98, $"cosine {VectorMath.Cosine(a, b)}");
    }

    [Fact]
    public void Wrong_output_name_lists_the_real_outputs()
    {
        var onnx = Path.Combine(ResNet18ImageEmbedder.FindModelDirectory(), "ResNet18Onnx", "ResNet18.onnx");
        var definition = new ModelDefinition { Name = "r", Kind = ModelKind.Image, Path = onnx, OutputName = "logits" };
        var error = Assert.Throws<InvalidDataException>(() => new GenericOnnxImageEmbedder(definition));
        Assert.Contains("Pooling395_Output_0", error.Message);
    }

    [Fact]
    public void Vectors_of_another_model_are_refused()
    {
        var text = models.Text.Model;
        var image = models.Image.Model;
        EmbeddingModelInfo.EnsureCompatible(text.Id, text.Id);
        var error = Assert.Throws<EmbeddingModelMismatchException>(() => EmbeddingModelInfo.EnsureCompatible(text.Id, image.Id, "segment S1/image_slice/0"));
        Assert.Contains(text.Id, error.Message);
        Assert.Contains(image.Id, error.Message);
        Assert.Throws<EmbeddingModelMismatchException>(() => text.EnsureCompatibleWith(null));
    }
}

using System.Text.Json;
using System.Text.Json.Serialization;

namespace Casebook.Embed;

public enum ModelKind { Text, Image, Segmentation }

/// <summary>
/// One configured embedding model. Text models: a BERT-style ONNX file plus its WordPiece vocab.txt.
/// Image models: an ONNX file taking [N,3,H,W] floats plus how to normalise pixels.
/// Paths are absolute once the registry has loaded them (relative ones resolve against the config file's folder).
/// </summary>
public sealed record ModelDefinition
{
    public required string Name { get; init; }
    public required ModelKind Kind { get; init; }
    /// <summary>The ONNX file; null for built-ins, which locate their own files.</summary>
    public string? Path { get; init; }
    public bool BuiltIn { get; init; }
    public Pooling Pooling { get; init; } = Pooling.Mean;
    public string? OutputName { get; init; }
    public string? InputName { get; init; }
    // text
    public string? VocabPath { get; init; }
    public int MaxTokens { get; init; } = 256;
    public bool LowerCase { get; init; } = true;
    // image
    public int InputWidth { get; init; } = 224;
    public int InputHeight { get; init; } = 224;
    public float[] Mean { get; init; } = [0.485f, 0.456f, 0.406f];
    public float[] Std { get; init; } = [0.229f, 0.224f, 0.225f];
    public float PixelScale { get; init; } = 1f / 255f;
    public ChannelOrder ChannelOrder { get; init; } = ChannelOrder.Rgb;
    // segmentation
    /// <summary>Output class index → anatomy name (index 0, background, is never a region).</summary>
    public IReadOnlyDictionary<int, string>? Labels { get; init; }
    /// <summary>Intensity window [low, high] (e.g. HU) mapped to [0, 1] before the model; null feeds raw values.</summary>
    public float[]? Window { get; init; }

    public TextModelSpec ToTextSpec() => new(Name, MaxTokens, Pooling, OutputName, LowerCase);

    public ImageModelSpec ToImageSpec() => new(Name,
        new ImageInputSpec { Width = InputWidth, Height = InputHeight, ChannelOrder = ChannelOrder, PixelScale = PixelScale, Mean = Mean, Std = Std },
        OutputName, Pooling, InputName);
}

/// <summary>
/// Which embedding models exist and which are the defaults. Built-ins: "minilm" (all-MiniLM-L6-v2, default text)
/// and "resnet18" (ResNet-18 ImageNet features, default image). More come from a JSON file, e.g. models.json:
/// <code>
/// { "defaults": { "image": "biomedclip" },
///   "models": [ { "name": "biomedclip", "kind": "image", "path": "biomedclip/visual.onnx", "inputSize": 224,
///                 "mean": [0.4815, 0.4578, 0.4082], "std": [0.2686, 0.2613, 0.2758], "pooling": "none",
///                 "outputName": "image_embeds" },
///               { "name": "pubmedbert", "kind": "text", "path": "pubmedbert/model.onnx", "vocabPath": "pubmedbert/vocab.txt",
///                 "pooling": "mean", "maxTokens": 512 } ] }
/// </code>
/// Every file is checked when the configuration loads, and errors name the file.
/// </summary>
public sealed class ModelRegistry
{
    public const string MiniLm = "minilm";
    public const string ResNet18 = "resnet18";

    readonly Dictionary<string, ModelDefinition> _models = new(StringComparer.OrdinalIgnoreCase);

    public string DefaultTextModel { get; private set; } = MiniLm;
    public string DefaultImageModel { get; private set; } = ResNet18;
    public IReadOnlyCollection<ModelDefinition> Models => _models.Values;

    ModelRegistry()
    {
        _models[MiniLm] = new ModelDefinition { Name = MiniLm, Kind = ModelKind.Text, BuiltIn = true, MaxTokens = 256 };
        _models[ResNet18] = new ModelDefinition { Name = ResNet18, Kind = ModelKind.Image, BuiltIn = true, Pooling = Pooling.Mean };
    }

    /// <summary>Only the built-in models.</summary>
    public static ModelRegistry CreateDefault() => new();

    /// <summary>Built-ins plus the models of a JSON configuration file.</summary>
    public static ModelRegistry Load(string configPath)
    {
        if (!File.Exists(configPath)) throw new FileNotFoundException($"model configuration not found: {configPath}", configPath);
        var full = System.IO.Path.GetFullPath(configPath);
        return Parse(File.ReadAllText(full), System.IO.Path.GetDirectoryName(full)!, full);
    }

    /// <summary>Built-ins plus the models of a JSON text; relative paths resolve against <paramref name="baseDirectory"/>.</summary>
    public static ModelRegistry Parse(string json, string baseDirectory, string source = "model configuration")
    {
        ConfigFile? config;
        try
        {
            config = JsonSerializer.Deserialize<ConfigFile>(json, JsonOptions);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: invalid JSON{(e.Path != null ? $" at {e.Path}" : "")}: {e.Message}", e);
        }
        if (config == null) throw new InvalidDataException($"{source}: empty configuration");
        var registry = new ModelRegistry();
        for (var i = 0; i < (config.Models?.Count ?? 0); i++)
        {
            var definition = config.Models![i].ToDefinition(baseDirectory, $"{source}: models[{i}]");
            if (registry._models.ContainsKey(definition.Name))
                throw new InvalidDataException($"{source}: models[{i}]: a model named '{definition.Name}' is already defined");
            registry._models[definition.Name] = definition;
        }
        if (config.Defaults?.Text is { } text) registry.DefaultTextModel = registry.Require(text, ModelKind.Text, $"{source}: defaults.text").Name;
        if (config.Defaults?.Image is { } image) registry.DefaultImageModel = registry.Require(image, ModelKind.Image, $"{source}: defaults.image").Name;
        return registry;
    }

    public ModelDefinition Get(string name) => _models.TryGetValue(name, out var d)
        ? d
        : throw new KeyNotFoundException($"no embedding model named '{name}'; known models: {string.Join(", ", _models.Keys.Order())}");

    ModelDefinition Require(string name, ModelKind kind, string context)
    {
        var definition = Get(name);
        if (definition.Kind != kind)
            throw new InvalidOperationException($"{context}: model '{name}' is a {definition.Kind.ToString().ToLowerInvariant()} model, not a {kind.ToString().ToLowerInvariant()} model");
        return definition;
    }

    /// <summary>Opens the named text model (default: <see cref="DefaultTextModel"/>).</summary>
    public OnnxTextEmbedder CreateTextEmbedder(string? name = null, TextEmbedderOptions? options = null)
    {
        var definition = Require(name ?? DefaultTextModel, ModelKind.Text, "text embedder");
        return definition.BuiltIn ? new MiniLmTextEmbedder(options) : new GenericOnnxTextEmbedder(definition, options);
    }

    /// <summary>Opens the named segmentation model (there is no default: a user configures one).</summary>
    public Extract.Anatomy.OnnxSegmentationModel CreateSegmentationModel(string name, OnnxRunOptions? options = null) =>
        new(Require(name, ModelKind.Segmentation, "segmentation model"), options);

    /// <summary>Opens the named image model (default: <see cref="DefaultImageModel"/>).</summary>
    public OnnxImageEmbedder CreateImageEmbedder(string? name = null, ImageEmbedderOptions? options = null)
    {
        var definition = Require(name ?? DefaultImageModel, ModelKind.Image, "image embedder");
        return definition.BuiltIn ? new ResNet18ImageEmbedder(options) : new GenericOnnxImageEmbedder(definition, options);
    }

    static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNameCaseInsensitive = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow, // a misspelt key is an error, not a silent default
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false) },
    };

    sealed class ConfigFile
    {
        public DefaultsEntry? Defaults { get; set; }
        public List<ModelEntry>? Models { get; set; }
    }

    sealed class DefaultsEntry
    {
        public string? Text { get; set; }
        public string? Image { get; set; }
    }

    sealed class ModelEntry
    {
        public string? Name { get; set; }
        public ModelKind? Kind { get; set; }
        public string? Path { get; set; }
        public string? VocabPath { get; set; }
        public Pooling? Pooling { get; set; }
        public string? OutputName { get; set; }
        public string? InputName { get; set; }
        public int? MaxTokens { get; set; }
        public bool? LowerCase { get; set; }
        public int? InputSize { get; set; }
        public int? InputWidth { get; set; }
        public int? InputHeight { get; set; }
        public float[]? Mean { get; set; }
        public float[]? Std { get; set; }
        public float? PixelScale { get; set; }
        public ChannelOrder? ChannelOrder { get; set; }
        public Dictionary<string, string>? Labels { get; set; }
        public float[]? Window { get; set; }

        public ModelDefinition ToDefinition(string baseDirectory, string context)
        {
            if (string.IsNullOrWhiteSpace(Name)) throw new InvalidDataException($"{context}: 'name' is required");
            context = $"{context} ('{Name}')";
            if (Kind == null) throw new InvalidDataException($"{context}: 'kind' is required (text, image or segmentation)");
            if (string.IsNullOrWhiteSpace(Path)) throw new InvalidDataException($"{context}: 'path' (the ONNX file) is required");
            var path = System.IO.Path.GetFullPath(Path, baseDirectory);
            if (!File.Exists(path)) throw new FileNotFoundException($"{context}: model file not found: {path}", path);
            var definition = new ModelDefinition { Name = Name, Kind = Kind.Value, Path = path, Pooling = Pooling ?? Embed.Pooling.Mean, OutputName = OutputName, InputName = InputName };
            if (Kind == ModelKind.Text)
            {
                if (string.IsNullOrWhiteSpace(VocabPath)) throw new InvalidDataException($"{context}: text models need 'vocabPath' (a WordPiece vocab.txt)");
                var vocab = System.IO.Path.GetFullPath(VocabPath, baseDirectory);
                if (!File.Exists(vocab)) throw new FileNotFoundException($"{context}: vocabulary file not found: {vocab}", vocab);
                if (MaxTokens is < 4) throw new InvalidDataException($"{context}: 'maxTokens' must be at least 4");
                return definition with { VocabPath = vocab, MaxTokens = MaxTokens ?? 256, LowerCase = LowerCase ?? true };
            }
            var width = InputWidth ?? InputSize ?? 224;
            var height = InputHeight ?? InputSize ?? 224;
            if (width <= 0 || height <= 0) throw new InvalidDataException($"{context}: input size must be positive");
            if (Kind == ModelKind.Segmentation)
            {
                if (Labels == null || Labels.Count == 0) throw new InvalidDataException($"{context}: segmentation models need 'labels' (class index → name, e.g. {{\"1\": \"liver\"}})");
                var labels = new Dictionary<int, string>();
                foreach (var (key, value) in Labels)
                {
                    if (!int.TryParse(key, out var index) || index < 1) throw new InvalidDataException($"{context}: labels key '{key}' must be a class index ≥ 1 (0 is background)");
                    if (string.IsNullOrWhiteSpace(value)) throw new InvalidDataException($"{context}: label {index} has no name");
                    labels[index] = value.Trim();
                }
                if (Window is { } w && (w.Length != 2 || !(w[0] < w[1]))) throw new InvalidDataException($"{context}: 'window' must be [low, high] with low < high");
                return definition with { InputWidth = width, InputHeight = height, Labels = labels, Window = Window };
            }
            if (Mean is { Length: not 3 } || Std is { Length: not 3 }) throw new InvalidDataException($"{context}: 'mean' and 'std' need exactly 3 values (one per channel)");
            if (Std != null && Std.Any(s => !(s > 0))) throw new InvalidDataException($"{context}: 'std' values must be positive");
            return definition with
            {
                InputWidth = width, InputHeight = height,
                Mean = Mean ?? definition.Mean, Std = Std ?? definition.Std,
                PixelScale = PixelScale ?? definition.PixelScale, ChannelOrder = ChannelOrder ?? definition.ChannelOrder,
            };
        }
    }
}

/// <summary>A BERT-style text model configured through <see cref="ModelRegistry"/>.</summary>
public sealed class GenericOnnxTextEmbedder(ModelDefinition definition, TextEmbedderOptions? options = null)
    : OnnxTextEmbedder(
        OnnxModelLoader.ReadModelFile(definition.Path ?? throw new ArgumentException($"model '{definition.Name}' has no path"), definition.Name),
        WordPieceTokenizer.FromFile(definition.VocabPath ?? throw new ArgumentException($"text model '{definition.Name}' has no vocabPath"), definition.LowerCase),
        definition.ToTextSpec(), options, definition.Path);

/// <summary>An image model configured through <see cref="ModelRegistry"/>.</summary>
public sealed class GenericOnnxImageEmbedder(ModelDefinition definition, ImageEmbedderOptions? options = null)
    : OnnxImageEmbedder(
        OnnxModelLoader.ReadModelFile(definition.Path ?? throw new ArgumentException($"model '{definition.Name}' has no path"), definition.Name),
        definition.ToImageSpec(), options, definition.Path);

using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Casebook.Embed;

/// <summary>
/// ResNet-18 (ImageNet, the CNTK export shipped in Microsoft.ML.DnnImageFeaturizer.ResNet18): 512-d features from the
/// global-average-pool layer (output <c>Pooling395_Output_0</c>, [1,512,1,1]), not the 1000 class logits.
/// The network expects BGR planes in 0..255 minus a per-position mean image; that mean image is read from the
/// package's <c>ResNetPreprocess.onnx</c> (which only subtracts it) by running it on zeros once.
/// </summary>
public sealed class ResNet18ImageEmbedder : OnnxImageEmbedder
{
    public const string ModelName = "resnet18-imagenet";
    const string PackageVersion = "0.23.1";

    public ResNet18ImageEmbedder(ImageEmbedderOptions? options = null, string? modelDirectory = null)
        : this(FindModelDirectory(modelDirectory), options)
    {
    }

    ResNet18ImageEmbedder(string directory, ImageEmbedderOptions? options)
        : base(OnnxModelLoader.ReadModelFile(Path.Combine(directory, "ResNet18Onnx", "ResNet18.onnx"), "ResNet-18"),
            CreateSpec(directory), options, Path.Combine(directory, "ResNet18Onnx", "ResNet18.onnx"))
    {
    }

    static ImageModelSpec CreateSpec(string directory) => new(ModelName,
        new ImageInputSpec
        {
            Width = 224, Height = 224, ChannelOrder = ChannelOrder.Bgr, PixelScale = 1f,
            Mean = [0, 0, 0], Std = [1, 1, 1],
            MeanImage = ReadMeanImage(Path.Combine(directory, "ResNetPrepOnnx", "ResNetPreprocess.onnx")),
        },
        OutputName: "Pooling395_Output_0", Pooling: Pooling.Mean, InputName: "Input247");

    static float[] ReadMeanImage(string prepPath)
    {
        var bytes = OnnxModelLoader.ReadModelFile(prepPath, "ResNet-18 preprocessing");
        using var session = new InferenceSession(bytes);
        var input = session.InputMetadata.Keys.First();
        var zeros = new DenseTensor<float>([1, 3, 224, 224]);
        using var outputs = session.Run([NamedOnnxValue.CreateFromTensor(input, zeros)]);
        var mean = outputs.First().AsTensor<float>().ToArray();
        for (var i = 0; i < mean.Length; i++) mean[i] = -mean[i]; // prep(x) = x - mean
        return mean;
    }

    /// <summary>
    /// The DnnImageModels folder: the given one, $CASEBOOK_RESNET18_DIR, next to the app (the package's build
    /// props copy it there), or the NuGet package cache.
    /// </summary>
    public static string FindModelDirectory(string? preferred = null)
    {
        var candidates = new List<string>();
        if (preferred != null) candidates.Add(preferred);
        else
        {
            var env = Environment.GetEnvironmentVariable("CASEBOOK_RESNET18_DIR");
            if (!string.IsNullOrEmpty(env)) candidates.Add(env);
            candidates.Add(Path.Combine(AppContext.BaseDirectory, "DnnImageModels"));
            var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            candidates.Add(Path.Combine(packages, "microsoft.ml.dnnimagefeaturizer.resnet18", PackageVersion, "tools", "DnnImageModels"));
        }
        foreach (var dir in candidates)
            if (File.Exists(Path.Combine(dir, "ResNet18Onnx", "ResNet18.onnx"))) return dir;
        throw new FileNotFoundException("ResNet-18 model not found: looked for ResNet18Onnx/ResNet18.onnx under " + string.Join(", ", candidates));
    }
}

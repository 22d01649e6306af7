using System.Security.Cryptography;
using Microsoft.ML.OnnxRuntime;

namespace Casebook.Embed;

/// <summary>How an ONNX Runtime session runs: thread counts and graph optimisation.</summary>
public sealed record OnnxRunOptions
{
    /// <summary>Threads used inside one operator; 0 lets ONNX Runtime choose (one per physical core).</summary>
    public int IntraOpThreads { get; init; }
    /// <summary>Threads used across independent operators (only with parallel execution); 0 = default.</summary>
    public int InterOpThreads { get; init; }
    public GraphOptimizationLevel GraphOptimization { get; init; } = GraphOptimizationLevel.ORT_ENABLE_ALL;

    public static OnnxRunOptions Default { get; } = new();

    public SessionOptions CreateSessionOptions()
    {
        var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimization,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        };
        if (IntraOpThreads > 0) options.IntraOpNumThreads = IntraOpThreads;
        if (InterOpThreads > 0) options.InterOpNumThreads = InterOpThreads;
        return options;
    }
}

/// <summary>Loads ONNX model bytes and opens sessions; names the file in every error.</summary>
static class OnnxModelLoader
{
    public static byte[] ReadModelFile(string path, string what)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{what}: model file not found: {path}", path);
        return File.ReadAllBytes(path);
    }

    public static InferenceSession OpenSession(byte[] modelBytes, OnnxRunOptions options, string source)
    {
        using var sessionOptions = options.CreateSessionOptions();
        try
        {
            return new InferenceSession(modelBytes, sessionOptions);
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidDataException($"cannot load ONNX model {source}: {e.Message}", e);
        }
    }

    public static string Sha256Hex(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>
    /// The RGB image input [N, 3, H, W] of an image network (the named one, else the first), checked against the configured
    /// size. Returns its name and the model's fixed batch size, or null when the batch dimension is dynamic.
    /// </summary>
    public static (string Name, int? FixedBatch) ResolveRgbInput(InferenceSession session, string? requested, ImageInputSpec spec, string what, string sizeHint)
    {
        var name = requested ?? session.InputMetadata.Keys.First();
        if (!session.InputMetadata.TryGetValue(name, out var input))
            throw new InvalidDataException($"{what} has no input '{name}'; its inputs are: {string.Join(", ", session.InputMetadata.Keys)}");
        var dims = input.Dimensions;
        if (dims.Length != 4 || (dims[1] > 0 && dims[1] != 3))
            throw new InvalidDataException($"{what}: input '{name}' has shape [{string.Join(",", dims)}], expected [N,3,H,W]");
        if ((dims[2] > 0 && dims[2] != spec.Height) || (dims[3] > 0 && dims[3] != spec.Width))
            throw new InvalidDataException($"{what}: input '{name}' is {dims[3]}x{dims[2]} but {sizeHint} {spec.Width}x{spec.Height}");
        return (name, dims[0] > 0 ? dims[0] : null);
    }

    /// <summary>
    /// Runs an RGB image network over <paramref name="images"/> in batches of at most <paramref name="maxBatch"/>: each batch is
    /// preprocessed into one [rows, 3, H, W] tensor, and <paramref name="onBatch"/> gets (first image index, rows, output).
    /// </summary>
    public static void RunImageBatches(InferenceSession session, string inputName, string outputName, IReadOnlyList<DecodedImage> images,
        ImageInputSpec input, GreyNormalisation grey, double lowPercentile, double highPercentile, int maxBatch, Action<int, int, OrtValue> onBatch)
    {
        var perImage = 3 * input.Width * input.Height;
        for (var start = 0; start < images.Count; start += maxBatch)
        {
            var rows = Math.Min(maxBatch, images.Count - start);
            var tensor = new float[rows * perImage];
            for (var r = 0; r < rows; r++)
                ImagePreprocessor.ToTensor(images[start + r], input, grey, lowPercentile, highPercentile, tensor.AsSpan(r * perImage, perImage));
            using var value = OrtValue.CreateTensorValueFromMemory(tensor, [rows, 3, input.Height, input.Width]);
            using var runOptions = new RunOptions();
            using var outputs = session.Run(runOptions, [inputName], [value], [outputName]);
            onBatch(start, rows, outputs[0]);
        }
    }

    /// <summary>Checks that the session has the named output (or picks the only/first one) and returns its name.</summary>
    public static string ResolveOutput(InferenceSession session, string? requested, string source)
    {
        if (requested == null) return session.OutputMetadata.Keys.First();
        if (session.OutputMetadata.ContainsKey(requested)) return requested;
        throw new InvalidDataException(
            $"ONNX model {source} has no output '{requested}'; its outputs are: {string.Join(", ", session.OutputMetadata.Keys)}");
    }
}

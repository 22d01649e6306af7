using System.Text.Json.Nodes;
using Casebook.Embed;
using Microsoft.ML.OnnxRuntime;

namespace Casebook.Findings;

/// <summary>How a classification network's outputs become probabilities.</summary>
public enum OutputActivation
{
    /// <summary>Independent logits per label (multi-label, e.g. a chest X-ray network): p = sigmoid(logit).</summary>
    Sigmoid,
    /// <summary>Logits of mutually exclusive classes: p = softmax over the labels.</summary>
    Softmax,
    /// <summary>The network already outputs probabilities (its last layer is a sigmoid or softmax).</summary>
    None,
}

/// <summary>
/// A user-supplied ONNX image classifier: the file, its labels (one per output column, in order) and how its input is
/// prepared (size, channel order, scaling, mean/std as for image embedders in <see cref="ModelRegistry"/>).
/// </summary>
public sealed record OnnxClassifierSpec
{
    public required string Name { get; init; }
    public required IReadOnlyList<string> Labels { get; init; }
    public ImageInputSpec Input { get; init; } = new();
    public OutputActivation Activation { get; init; } = OutputActivation.Sigmoid;
    public string? InputName { get; init; }
    public string? OutputName { get; init; }
    /// <summary>Contrast normalisation of grey images before the network; none by default (the network's own preprocessing is what counts).</summary>
    public GreyNormalisation GreyNormalisation { get; init; } = GreyNormalisation.None;

    public JsonObject ToJson() => new()
    {
        ["name"] = Name, ["labels"] = new JsonArray(Labels.Select(l => (JsonNode)JsonValue.Create(l)).ToArray()),
        ["input_width"] = Input.Width, ["input_height"] = Input.Height, ["channel_order"] = Input.ChannelOrder.ToString().ToLowerInvariant(),
        ["pixel_scale"] = Input.PixelScale, ["mean"] = new JsonArray(Input.Mean.Select(m => (JsonNode)JsonValue.Create(m)).ToArray()),
        ["std"] = new JsonArray(Input.Std.Select(m => (JsonNode)JsonValue.Create(m)).ToArray()),
        ["activation"] = Activation.ToString().ToLowerInvariant(), ["input_name"] = InputName, ["output_name"] = OutputName,
        ["grey_normalisation"] = GreyNormalisation.ToString(),
    };

    public static OnnxClassifierSpec FromJson(JsonObject o) => new()
    {
        Name = o["name"]!.GetValue<string>(),
        Labels = o["labels"]!.AsArray().Select(l => l!.GetValue<string>()).ToList(),
        Input = new ImageInputSpec
        {
            Width = o["input_width"]!.GetValue<int>(), Height = o["input_height"]!.GetValue<int>(),
            ChannelOrder = Enum.Parse<ChannelOrder>(o["channel_order"]!.GetValue<string>(), ignoreCase: true),
            PixelScale = o["pixel_scale"]!.GetValue<float>(),
            Mean = o["mean"]!.AsArray().Select(v => v!.GetValue<float>()).ToArray(),
            Std = o["std"]!.AsArray().Select(v => v!.GetValue<float>()).ToArray(),
        },
        Activation = Enum.Parse<OutputActivation>(o["activation"]!.GetValue<string>(), ignoreCase: true),
        InputName = o["input_name"]?.GetValue<string>(), OutputName = o["output_name"]?.GetValue<string>(),
        GreyNormalisation = Enum.Parse<GreyNormalisation>(o["grey_normalisation"]?.GetValue<string>() ?? "None", ignoreCase: true),
    };
}

/// <summary>
/// Runs a user ONNX classifier ([N,3,H,W] floats in, [N,labels] out) on decoded images and returns a probability per
/// label. The network is checked when it opens: input rank and size, and the output's width against the label list.
/// </summary>
public sealed class OnnxFindingClassifier : IDisposable
{
    readonly InferenceSession _session;
    readonly string _inputName, _outputName;
    readonly int _maxBatch;
    public OnnxClassifierSpec Spec { get; }
    public string Sha256 { get; }

    public OnnxFindingClassifier(string path, OnnxClassifierSpec spec)
    {
        var bytes = OnnxModelLoader.ReadModelFile(path, spec.Name);
        Sha256 = OnnxModelLoader.Sha256Hex(bytes);
        Spec = spec;
        spec.Input.Validate(spec.Name);
        if (spec.Labels.Count == 0) throw new ArgumentException($"classifier '{spec.Name}': the label list is empty");
        if (spec.Labels.Any(string.IsNullOrWhiteSpace)) throw new ArgumentException($"classifier '{spec.Name}': a label is empty");
        _session = OnnxModelLoader.OpenSession(bytes, OnnxRunOptions.Default, path);
        try
        {
            (_inputName, var fixedBatch) = OnnxModelLoader.ResolveRgbInput(_session, spec.InputName, spec.Input, $"classifier {path}", "the registration (--input-size) says");
            _maxBatch = fixedBatch ?? 16;
            _outputName = OnnxModelLoader.ResolveOutput(_session, spec.OutputName, path);
            var outDims = _session.OutputMetadata[_outputName].Dimensions;
            if (outDims.Length != 2)
                throw new InvalidDataException($"classifier {path}: output '{_outputName}' has shape [{string.Join(",", outDims)}], expected [N,labels]");
            if (outDims[1] > 0 && outDims[1] != spec.Labels.Count)
                throw new InvalidDataException($"classifier {path}: output '{_outputName}' has {outDims[1]} columns but {spec.Labels.Count} labels were given");
        }
        catch
        {
            _session.Dispose();
            throw;
        }
    }

    /// <summary>Probabilities [image][label].</summary>
    public float[][] Predict(IReadOnlyList<DecodedImage> images)
    {
        var result = new float[images.Count][];
        OnnxModelLoader.RunImageBatches(_session, _inputName, _outputName, images, Spec.Input, Spec.GreyNormalisation, 1, 99, _maxBatch, (start, rows, output) =>
        {
            var data = output.GetTensorDataAsSpan<float>();
            var labels = Spec.Labels.Count;
            if (data.Length != rows * labels)
                throw new InvalidDataException($"classifier '{Spec.Name}': output has {data.Length / rows} values per image but {labels} labels were given");
            for (var r = 0; r < rows; r++) result[start + r] = Activate(data.Slice(r * labels, labels));
        });
        return result;
    }

    float[] Activate(ReadOnlySpan<float> logits)
    {
        var p = new float[logits.Length];
        switch (Spec.Activation)
        {
            case OutputActivation.Sigmoid:
                for (var i = 0; i < p.Length; i++) p[i] = 1f / (1f + MathF.Exp(-logits[i]));
                break;
            case OutputActivation.Softmax:
                var max = float.NegativeInfinity;
                foreach (var x in logits) max = MathF.Max(max, x);
                float sum = 0;
                for (var i = 0; i < p.Length; i++) sum += p[i] = MathF.Exp(logits[i] - max);
                for (var i = 0; i < p.Length; i++) p[i] /= sum;
                break;
            default:
                for (var i = 0; i < p.Length; i++) p[i] = Math.Clamp(logits[i], 0f, 1f);
                break;
        }
        return p;
    }

    public void Dispose() => _session.Dispose();
}

using System.Numerics.Tensors;
using Microsoft.ML.OnnxRuntime;

namespace Casebook.Embed;

/// <summary>Tuning of an image embedder: ONNX Runtime threads, batch size and grey-image contrast normalisation.</summary>
public sealed record ImageEmbedderOptions
{
    public OnnxRunOptions Onnx { get; init; } = OnnxRunOptions.Default;
    /// <summary>On by default: a 1–99 percentile stretch lifts BreastMNIST P@10 from 0.701 to 0.713 (docs/benchmarks.md).</summary>
    public GreyNormalisation GreyNormalisation { get; init; } = GreyNormalisation.PercentileStretch;
    public double LowPercentile { get; init; } = 1;
    public double HighPercentile { get; init; } = 99;
    /// <summary>Images per ONNX Runtime call when the model's batch axis is dynamic (fixed-batch models run one by one).</summary>
    public int BatchSize { get; init; } = 16;

    public static ImageEmbedderOptions Default { get; } = new();
}

/// <summary>What an ONNX image model needs: name, input preparation, which output and how to pool it.</summary>
public sealed record ImageModelSpec(string Name, ImageInputSpec Input, string? OutputName = null, Pooling Pooling = Pooling.Mean, string? InputName = null);

/// <summary>
/// Image embedder over an ONNX network taking [N,3,H,W] floats: decodes PNG/JPEG (or takes decoded pixels),
/// optionally contrast-normalises grey images, resizes, normalises values, runs the network and pools the chosen
/// output ([N,C,h,w] is averaged over h·w, [N,C] taken as is) into an L2-normalised vector. Thread-safe.
/// </summary>
public class OnnxImageEmbedder : IPixelImageEmbedder
{
    readonly InferenceSession _session;
    readonly string _inputName;
    readonly string _outputName;
    readonly int _maxBatch;
    readonly string _source;

    public EmbeddingModelInfo Model { get; }
    public ImageModelSpec Spec { get; }
    public ImageEmbedderOptions Options { get; }

    protected OnnxImageEmbedder(byte[] modelBytes, ImageModelSpec spec, ImageEmbedderOptions? options, string source)
    {
        options ??= ImageEmbedderOptions.Default;
        spec.Input.Validate(spec.Name);
        if (options.BatchSize < 1) throw new ArgumentException($"{spec.Name}: BatchSize must be positive, got {options.BatchSize}");
        Spec = spec;
        Options = options;
        _source = source;
        _session = OnnxModelLoader.OpenSession(modelBytes, options.Onnx, source);
        try
        {
            (_inputName, var fixedBatch) = OnnxModelLoader.ResolveRgbInput(_session, spec.InputName, spec.Input, $"image model {source}", "the configuration says");
            _maxBatch = fixedBatch ?? options.BatchSize;
            _outputName = OnnxModelLoader.ResolveOutput(_session, spec.OutputName, source);
            var outDims = _session.OutputMetadata[_outputName].Dimensions;
            var dimension = outDims.Length >= 2 ? outDims[1] : -1;
            if (spec.Pooling == Pooling.None) dimension = outDims.Skip(1).Aggregate(1, (a, d) => d > 0 && a > 0 ? a * d : -1);
            if (dimension <= 0) dimension = Run([DecodedImage.Grey(1, 1, [0])])[0].Length; // dynamic: probe once
            Model = new EmbeddingModelInfo(spec.Name, OnnxModelLoader.Sha256Hex(modelBytes), dimension);
        }
        catch
        {
            _session.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public float[][] Embed(IReadOnlyList<byte[]> encodedImages)
    {
        ArgumentNullException.ThrowIfNull(encodedImages);
        var decoded = new DecodedImage[encodedImages.Count];
        for (var i = 0; i < decoded.Length; i++) decoded[i] = ImageDecoder.Decode(encodedImages[i], i);
        return Run(decoded);
    }

    /// <summary>Embeds already-decoded 8-bit grey or RGB pixels (e.g. rendered DICOM frames).</summary>
    public float[][] EmbedPixels(IReadOnlyList<DecodedImage> images)
    {
        ArgumentNullException.ThrowIfNull(images);
        for (var i = 0; i < images.Count; i++)
            if (images[i] == null) throw new ArgumentException($"image {i} is null", nameof(images));
        return Run(images);
    }

    public float[] EmbedPixels(DecodedImage image) => EmbedPixels([image])[0];

    float[][] Run(IReadOnlyList<DecodedImage> images)
    {
        var result = new float[images.Count][];
        OnnxModelLoader.RunImageBatches(_session, _inputName, _outputName, images, Spec.Input, Options.GreyNormalisation,
            Options.LowPercentile, Options.HighPercentile, _maxBatch, (start, rows, output) =>
        {
            var shape = output.GetTensorTypeAndShape().Shape;
            var data = output.GetTensorDataAsSpan<float>();
            var perRow = data.Length / rows;
            for (var r = 0; r < rows; r++)
            {
                var row = data.Slice(r * perRow, perRow);
                float[] v;
                if (Spec.Pooling == Pooling.None || shape.Length <= 2) v = row.ToArray();
                else
                {
                    var channels = (int)shape[1];
                    var spatial = perRow / channels;
                    v = new float[channels];
                    if (Spec.Pooling == Pooling.Cls) for (var c = 0; c < channels; c++) v[c] = row[c * spatial];
                    else for (var c = 0; c < channels; c++) v[c] = TensorPrimitives.Sum(row.Slice(c * spatial, spatial)) / spatial;
                }
                VectorMath.NormalizeInPlace(v);
                result[start + r] = v;
            }
        });
        return result;
    }

    public void Dispose()
    {
        _session.Dispose();
        GC.SuppressFinalize(this);
    }
}
